// POST /v1/evaluate (also /evaluate) and POST /v1/check. Each answer is counted and,
// when sampled, written to the decision log; a cache hit still sends its stored bytes.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DecisionService } from '../../engine/decision-service.js';
import type { Decision } from '../../core/evaluate/types.js';
import { requestMode, type CheckRequest, type CheckResponse, type EvaluateRequest, type EvaluateResponse, type RequestMeta } from '../../core/request.js';
import type { DecisionLog } from '../../observability/decision-log.js';
import type { DecisionMode, DecisionOutcome, Metrics } from '../../observability/metrics.js';
import { luaForInline } from '../lazy-lua.js';
import type { JwtSubjects } from '../../engine/tokens/jwt-subjects.js';
import { subjectFromToken } from '../token-subject.js';
import { checkBodyText } from '../../engine/decision-json.js';
import { checkBody, checkResponse, errorResponse, evaluateBody, evaluateResponse } from '../schemas/evaluate.js';

const errors = { '4xx': errorResponse, '5xx': errorResponse };

export interface DecisionObservers {
  log?: DecisionLog;
  metrics?: Pick<Metrics, 'countDecision'>;
  /** JWT subjects (docs/jwt.md): a request carrying a JWT is about the token's subject */
  tokens?: JwtSubjects;
}

const modeOf = (req: EvaluateRequest): DecisionMode => requestMode(req) ?? 'invalid';

function evaluateOutcome(r: EvaluateResponse): DecisionOutcome {
  if (r.default) return 'default';
  return r.permissions.length > 0 ? 'granted' : 'none';
}

function checkOutcome(r: CheckResponse): DecisionOutcome {
  if (r.allowed !== undefined) return r.allowed ? 'allowed' : 'denied';
  let yes = 0;
  let total = 0;
  for (const k in r.results) {
    total++;
    if (r.results[k]) yes++;
  }
  return yes === total ? 'allowed' : yes === 0 ? 'denied' : 'partial';
}

const micros = (start: number) => Math.round((performance.now() - start) * 1000);

/** Every decision's id, in the X-Decision-Id header and the body's `decisionId` (docs/audit.md). */
export const DECISION_ID_HEADER = 'x-decision-id';

/** What fastify's serializer sets for a JSON answer: answers sent as text say the same. */
const JSON_TYPE = 'application/json; charset=utf-8';

const NO_META: RequestMeta = Object.freeze({});

/** What the service needs from the headers: the language of reasons. */
function metaOf(request: FastifyRequest): RequestMeta {
  const acceptLanguage = request.headers['accept-language'];
  return typeof acceptLanguage === 'string' ? { acceptLanguage } : NO_META;
}

/**
 * A decision handler that waits for the Lua VM only when the request's inline `policies`
 * may need it. Otherwise it runs in the same tick: not async, so fastify sends what it
 * returns without a promise and a microtask in between (a thrown error reaches fastify's
 * error handler either way).
 */
function afterInlineLua<R>(decide: (request: FastifyRequest, reply: FastifyReply) => R) {
  return (request: FastifyRequest, reply: FastifyReply): R | Promise<R> => {
    const lua = luaForInline((request.body as { policies?: unknown }).policies);
    return lua === undefined ? decide(request, reply) : lua.then(() => decide(request, reply));
  };
}

/**
 * The part every decision route shares: a new decision id (header and body), the answer
 * counted, and when sampled written to the decision log, for an error as for an answer
 * (the error then reaches fastify's error handler); `send` writes the answer.
 */
function observed<Req extends EvaluateRequest, Res extends EvaluateResponse | CheckResponse, R extends { response: Res; decision: Decision }>(
  { log, metrics }: DecisionObservers,
  endpoint: 'evaluate' | 'check',
  outcomeOf: (response: Res) => DecisionOutcome,
  decide: (req: Req, meta: RequestMeta) => R,
  send: (reply: FastifyReply, decisionId: string, result: R) => unknown,
) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const req = request.body as Req;
    const decisionId = randomUUID();
    reply.header(DECISION_ID_HEADER, decisionId);
    const logged = log !== undefined && log.sampled();
    const start = logged ? performance.now() : 0;
    let result: R;
    try {
      result = decide(req, metaOf(request));
    } catch (err) {
      metrics?.countDecision(endpoint, modeOf(req), 'error', false);
      if (logged) log.write({ endpoint, requestId: request.id, decisionId, request: req, error: err, latencyUs: micros(start) });
      throw err;
    }
    const { response, decision } = result;
    metrics?.countDecision(endpoint, modeOf(req), outcomeOf(response), decision.conditionErrors !== undefined);
    if (logged) log.write({ endpoint, requestId: request.id, decisionId, request: req, decision, response, latencyUs: micros(start) });
    return send(reply, decisionId, result);
  };
}

export function decisionRoutes(app: FastifyInstance, service: DecisionService, observers: DecisionObservers = {}): void {
  const { tokens } = observers;
  const tags = ['decisions'];
  const preValidation = tokens ? { preValidation: subjectFromToken(tokens) } : {};

  const evaluate = {
    ...preValidation,
    schema: {
      tags,
      summary: 'Evaluate a subject against a namespace path, one stored policy or inline policies',
      description: 'Exactly one of `namespace`, `policy` or `policies`. Answers the merged permission list (`permissions`, `denied`); `explain: true` adds a trace. `messages` explains denied patterns, in the language of `language`, else `Accept-Language`, else the subject attribute, else the default.',
      body: evaluateBody,
      response: { 200: evaluateResponse, ...errors },
    },
  };
  // A fresh cache hit sends the bytes serialized the first time, with this decision's id in front;
  // a computed answer its hand-built JSON, the id last (where the response schema puts it).
  const evaluateNow = observed(observers, 'evaluate', evaluateOutcome, (req: EvaluateRequest, meta) => service.evaluate(req, meta), (reply, decisionId, { response, body, computedBody }) => {
    if (body !== undefined) return reply.type(JSON_TYPE).send(`{"decisionId":"${decisionId}",${body.slice(1)}`);
    if (computedBody !== undefined) return reply.type(JSON_TYPE).send(`${computedBody},"decisionId":"${decisionId}"}`);
    return { decisionId, ...response };
  });
  const handler = afterInlineLua(evaluateNow);
  app.post('/v1/evaluate', evaluate, handler);
  app.post('/evaluate', { ...preValidation, schema: { ...evaluate.schema, summary: 'Alias of POST /v1/evaluate' } }, handler);

  app.post('/v1/check', {
    ...preValidation,
    schema: {
      tags,
      summary: 'Check one or several concrete permissions',
      description: 'The evaluate input plus `permission` (→ `allowed`, `reason`) or `permissions` (→ `results`, `reasons`). Reasons are localized as for evaluate (`language`, `Accept-Language`).',
      body: checkBody,
      response: { 200: checkResponse, ...errors },
    },
  }, afterInlineLua(observed(observers, 'check', checkOutcome, (req: CheckRequest, meta) => service.checkDetailed(req, meta), (reply, decisionId, { response }) => {
    const text = checkBodyText(decisionId, response);
    return text === undefined ? { decisionId, ...response } : reply.type(JSON_TYPE).send(text);
  })));
}
