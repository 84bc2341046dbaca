// /v1/forward-auth (SPEC §12, docs/gateways.md): answers a gateway's "may this request
// pass?" for nginx auth_request, Caddy forward_auth and Traefik forwardAuth (the
// original method and URI in headers, any method on /v1/forward-auth) and Envoy's HTTP
// ext_authz (the original method, and the original path after /v1/forward-auth).
// 200 with X-Auth-Subject; 401 or 403 with X-Auth-Reason and our error body. Bodies
// are never read. Where the headers and the path could disagree, the request is refused.

import { randomUUID } from 'node:crypto';
import { DECISION_ID_HEADER } from './decisions.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ForwardAuthService, ForwardAuthOutcome } from '../../engine/forward-auth-service.js';
import type { DecisionObservers } from './decisions.js';
import { errorBody } from '../error-handler.js';
import { PolicyEngineError } from '../../errors.js';

export const FORWARD_AUTH_PATH = '/v1/forward-auth';

/** The methods besides GET (and the HEAD fastify adds to it) a gateway may ask with. */
const OTHER_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

const METHOD_HEADERS = ['x-forwarded-method', 'x-original-method'] as const;
const URI_HEADERS = ['x-forwarded-uri', 'x-original-uri', 'x-original-url'] as const;

/** A header value made safe to send: printable ASCII (others percent-encoded), bounded. */
export function headerSafe(text: string, max = 256): string {
  const s = text.length > max ? `${text.slice(0, max)}…` : text;
  return s.replace(/[^\x20-\x7e]/g, (c) => encodeURIComponent(c));
}

type Headers = FastifyRequest['headers'];

/**
 * The request's headers with every header sent more than once as the array of its values.
 * Node joins repeats of most headers into one string (`a, b`): a forged second subject or
 * URI header would otherwise read as one value. Repeats are refused downstream (401, 403).
 */
export function headersWithRepeats(request: FastifyRequest): Headers {
  const raw = request.raw.rawHeaders;
  let repeated: Map<string, string[]> | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!seen.has(name)) {
      seen.add(name);
      continue;
    }
    repeated ??= new Map();
    if (!repeated.has(name)) repeated.set(name, []);
  }
  if (repeated === undefined) return request.headers;
  for (let i = 0; i < raw.length; i += 2) repeated.get(raw[i]!.toLowerCase())?.push(raw[i + 1]!);
  const headers = { ...request.headers };
  // Only where Node joined the values: the headers it keeps once (Authorization, Host…) stay as Node read them.
  for (const [name, values] of repeated) if (headers[name] === values.join(', ')) headers[name] = values;
  return headers;
}

/** The one value the headers agree on; undefined when none is sent; 'conflict' when they differ or repeat. */
function agreed(headers: Headers, names: readonly string[]): string | undefined | 'conflict' {
  let value: string | undefined;
  for (const name of names) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) return 'conflict';
    if (value !== undefined && v !== value) return 'conflict';
    value = v;
  }
  return value;
}

/** The original method and URI, or why the request is refused. */
export function originalOf(request: FastifyRequest, headers: Headers = headersWithRepeats(request)): { method: string; uri: string } | { refused: string } | { missing: string } {
  const method = agreed(headers, METHOD_HEADERS);
  const uri = agreed(headers, URI_HEADERS);
  if (method === 'conflict') return { refused: 'the original-method headers disagree' };
  if (uri === 'conflict') return { refused: 'the original-URI headers disagree' };
  const url = request.url;
  if (url.length > FORWARD_AUTH_PATH.length && url[FORWARD_AUTH_PATH.length] !== '?') {
    // Envoy's path_prefix: the original path follows ours; the method is the request's own.
    const fromPath = url.slice(FORWARD_AUTH_PATH.length);
    if (uri !== undefined && uri !== fromPath) return { refused: 'the original-URI header disagrees with the path' };
    return { method: method ?? request.method, uri: fromPath };
  }
  if (uri === undefined) return { missing: `no original URI: send X-Forwarded-Uri or X-Original-URI (or ask ${FORWARD_AUTH_PATH}/<original path>)` };
  return { method: method ?? request.method, uri };
}

function send(reply: FastifyReply, outcome: ForwardAuthOutcome) {
  if (outcome.status === 200) return reply.code(200).header('x-auth-subject', headerSafe(outcome.subject, 512)).send();
  reply.code(outcome.status).header('x-auth-reason', headerSafe(outcome.reason)).header('cache-control', 'no-store');
  if (outcome.status === 401) reply.header('www-authenticate', 'Bearer realm="policy-engine"');
  else if (outcome.subject !== undefined) reply.header('x-auth-subject', headerSafe(outcome.subject, 512));
  return reply.type('application/json').send(JSON.stringify(errorBody(outcome.code, outcome.reason)));
}

export function forwardAuthRoutes(app: FastifyInstance, service: ForwardAuthService, observers: DecisionObservers = {}): void {
  const { log, metrics } = observers;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const headers = headersWithRepeats(request);
    const original = originalOf(request, headers);
    if ('missing' in original) throw new PolicyEngineError('REQUEST_INVALID', original.missing);
    if ('refused' in original) return send(reply, { status: 403, code: 'FORWARD_AUTH_URI_REFUSED', reason: original.refused });
    const decisionId = randomUUID();
    reply.header(DECISION_ID_HEADER, decisionId);
    const logged = log !== undefined && log.sampled();
    const start = logged ? performance.now() : 0;
    const outcome = await service.decide({ ...original, headers });
    const check = 'check' in outcome ? outcome.check : undefined;
    metrics?.countDecision('forward-auth', 'namespace', outcome.status === 200 ? 'allowed' : 'denied', check?.decision.conditionErrors !== undefined);
    if (logged && check) {
      log.write({ endpoint: 'forward-auth', requestId: request.id, decisionId, request: check.request, decision: check.decision, response: check.response, latencyUs: Math.round((performance.now() - start) * 1000) });
    }
    return send(reply, outcome);
  };
  app.register(async (scope) => {
    // Bodies are never read (gateways send none, or the original one): accept any type, keep nothing.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));
    const schema = {
      tags: ['gateways'],
      summary: 'Forward-auth for gateways (nginx auth_request, Caddy forward_auth, Traefik forwardAuth, Envoy ext_authz)',
      description: 'The original method and URI from X-Forwarded-Method / X-Original-Method and X-Forwarded-Uri / X-Original-URI, or (Envoy) the method of this request and the path after /v1/forward-auth. 200 with X-Auth-Subject; 401 (no subject) or 403 (denied, no route, refused URI) with X-Auth-Reason.',
    };
    // Every method answers (nginx asks with the original one, Envoy too).
    scope.route({ method: ['GET', ...OTHER_METHODS], url: FORWARD_AUTH_PATH, schema, handler });
    scope.route({ method: ['GET', ...OTHER_METHODS], url: `${FORWARD_AUTH_PATH}/*`, schema: { ...schema, summary: 'Forward-auth, Envoy ext_authz form: the original path follows /v1/forward-auth' }, handler });
  });
}
