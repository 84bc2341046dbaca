// POST /v1/evaluate (also /evaluate) and POST /v1/check. Each answer is counted and,
// when sampled, written to the decision log; a cache hit still sends its stored bytes.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DecisionService } from '../../engine/decision-service.js';
import { requestMode, type CheckRequest, type CheckResponse, type EvaluateRequest, type EvaluateResponse, type RequestMeta } from '../../core/request.js';
import type { DecisionLog } from '../../observability/decision-log.js';
import type { DecisionMode, DecisionOutcome, Metrics } from '../../observability/metrics.js';
import { luaForInline } from '../lazy-lua.js';
import { checkBody, checkResponse, errorResponse, evaluateBody, evaluateResponse } from '../schemas/evaluate.js';

const errors = { '4xx': errorResponse, '5xx': errorResponse };

export interface DecisionObservers {
  log?: DecisionLog;
  metrics?: Pick<Metrics, 'countDecision'>;
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

/** What the service needs from the headers: the language of reasons. */
function metaOf(request: FastifyRequest): RequestMeta {
  const acceptLanguage = request.headers['accept-language'];
  return typeof acceptLanguage === 'string' ? { acceptLanguage } : {};
}

export function decisionRoutes(app: FastifyInstance, service: DecisionService, observers: DecisionObservers = {}): void {
  const { log, metrics } = observers;
  const tags = ['decisions'];

  const evaluate = {
    schema: {
      tags,
      summary: 'Evaluate a subject against a namespace path, one stored policy or inline policies',
      description: 'Exactly one of `namespace`, `policy` or `policies`. Answers the merged permission list (`permissions`, `denied`); `explain: true` adds a trace. `messages` explains denied patterns, in the language of `language`, else `Accept-Language`, else the subject attribute, else the default.',
      body: evaluateBody,
      response: { 200: evaluateResponse, ...errors },
    },
  };
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const req = request.body as EvaluateRequest;
    const lua = luaForInline(req.policies);
    if (lua) await lua;
    const logged = log !== undefined && log.sampled();
    const start = logged ? performance.now() : 0;
    let result: ReturnType<DecisionService['evaluate']>;
    try {
      result = service.evaluate(req, metaOf(request));
    } catch (err) {
      metrics?.countDecision('evaluate', modeOf(req), 'error', false);
      if (logged) log.write({ endpoint: 'evaluate', requestId: request.id, request: req, error: err, latencyUs: micros(start) });
      throw err;
    }
    const { response, body, decision } = result;
    metrics?.countDecision('evaluate', modeOf(req), evaluateOutcome(response), decision.conditionErrors !== undefined);
    if (logged) log.write({ endpoint: 'evaluate', requestId: request.id, request: req, decision, response, latencyUs: micros(start) });
    // A fresh cache hit sends the bytes serialized the first time.
    if (body !== undefined) return reply.type('application/json; charset=utf-8').send(body);
    return response;
  };
  app.post('/v1/evaluate', evaluate, handler);
  app.post('/evaluate', { schema: { ...evaluate.schema, summary: 'Alias of POST /v1/evaluate' } }, handler);

  app.post('/v1/check', {
    schema: {
      tags,
      summary: 'Check one or several concrete permissions',
      description: 'The evaluate input plus `permission` (→ `allowed`, `reason`) or `permissions` (→ `results`, `reasons`). Reasons are localized as for evaluate (`language`, `Accept-Language`).',
      body: checkBody,
      response: { 200: checkResponse, ...errors },
    },
  }, async (request) => {
    const req = request.body as CheckRequest;
    const lua = luaForInline(req.policies);
    if (lua) await lua;
    const logged = log !== undefined && log.sampled();
    const start = logged ? performance.now() : 0;
    let result: ReturnType<DecisionService['checkDetailed']>;
    try {
      result = service.checkDetailed(req, metaOf(request));
    } catch (err) {
      metrics?.countDecision('check', modeOf(req), 'error', false);
      if (logged) log.write({ endpoint: 'check', requestId: request.id, request: req, error: err, latencyUs: micros(start) });
      throw err;
    }
    const { response, decision } = result;
    metrics?.countDecision('check', modeOf(req), checkOutcome(response), decision.conditionErrors !== undefined);
    if (logged) log.write({ endpoint: 'check', requestId: request.id, request: req, decision, response, latencyUs: micros(start) });
    return response;
  });
}
