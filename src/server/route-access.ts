// Who may call what (docs/security.md): every route has an access class, looked up by
// method and URL pattern when the route is added, and one onRequest hook per route
// enforces it before the body is read, so a caller without a token learns nothing about
// validation. A route this table does not list is treated as a write (fail closed).

import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { accessOf, decisionGate, makeTokenGuards, type AdminAuthOptions, type TokenGuards } from './admin-auth.js';
import type { Verb } from '../core/access.js';
import { PolicyEngineError } from '../errors.js';
import { makeOriginCheck, originPolicy } from './request-origin.js';

/**
 * - health: open to everyone, no checks (probes send any Host)
 * - decision: DECISION_TOKEN (or the admin token) as a bearer when set; open on loopback
 *   without one, refused beyond it; inline `policies` are code
 * - gateway: a decision asked by a gateway for another request (forward-auth): the Host is
 *   checked, the Origin is the original request's and is not; DECISION_TOKEN as for
 *   decisions, but in X-Decision-Token (the Authorization header is the original request's)
 * - code: runs caller-supplied CEL / Lua: the admin token when one is set; refused beyond loopback without one
 * - read: stored state: the read or admin token when a token is set; refused beyond loopback without one
 * - docs: a read, served with a strict CSP and no framing
 * - page: the playground's static files (its own guard: routes/ui.ts)
 * - admin: writes and previews: the admin token; refused beyond loopback without one
 */
export type RouteAccess = 'health' | 'decision' | 'gateway' | 'code' | 'read' | 'docs' | 'page' | 'admin';

const ROUTES: Record<string, RouteAccess> = {
  'GET /healthz': 'health',
  'GET /readyz': 'health',
  'POST /v1/evaluate': 'decision',
  'POST /evaluate': 'decision',
  'POST /v1/check': 'decision',
  'POST /v1/relations/check': 'decision',
  'POST /v1/plan': 'decision',
  'POST /v1/relations/plan': 'decision',
  // Lookups answer "what may this subject reach" like plans and AuthZEN searches: decisions.
  'POST /v1/relations/lookup-resources': 'decision',
  'POST /v1/relations/lookup-subjects': 'decision',
  'POST /access/v1/evaluation': 'decision',
  'POST /access/v1/evaluations': 'decision',
  'POST /access/v1/search/subject': 'decision',
  'POST /access/v1/search/resource': 'decision',
  'POST /access/v1/search/action': 'decision',
  'GET /.well-known/authzen-configuration': 'decision',
  'POST /v1/test': 'code',
  'POST /v1/validate': 'code',
  'GET /v1/policies': 'read',
  'GET /v1/policies/:key': 'read',
  'GET /v1/policies/:key/history': 'read',
  'GET /v1/changes': 'read',
  'GET /v1/relations': 'read',
  'GET /v1/relations/schema': 'read',
  'GET /v1/entities': 'read',
  'GET /v1/entities/:ref': 'read',
  'GET /metrics': 'read',
  'GET /openapi.json': 'docs',
  'GET /ui': 'page',
  'GET /ui/': 'page',
  'GET /ui/assets/:name': 'page',
  'PUT /v1/policies/:key': 'admin',
  'DELETE /v1/policies/:key': 'admin',
  'POST /v1/policies': 'admin',
  'POST /v1/preview': 'admin',
  'PUT /v1/relations/schema': 'admin',
  'POST /v1/relations/write': 'admin',
  'PUT /v1/entities/:ref': 'admin',
  'DELETE /v1/entities/:ref': 'admin',
  'POST /v1/entities': 'admin',
  'POST /v1/policies/:key/rollback': 'admin',
};

/**
 * The verb a named credential needs for an admin route (docs/audit.md). Unlisted admin
 * routes need `write`, except the entity directory's, which need `entities`.
 */
const ADMIN_VERBS: Record<string, Verb> = {
  'POST /v1/preview': 'preview',
  'PUT /v1/relations/schema': 'relations',
  'POST /v1/relations/write': 'relations',
};

export function verbOf(method: string, url: string): Verb {
  const listed = ADMIN_VERBS[`${method} ${url}`];
  if (listed) return listed;
  if (url === '/v1/entities' || url.startsWith('/v1/entities/')) return 'entities';
  return 'write';
}

/** Relationship reads are not namespaced: a named credential needs the `relations` verb for them too. */
function isRelationRead(url: string): boolean {
  return url === '/v1/relations' || url.startsWith('/v1/relations/');
}

/** URL prefixes whose routes share a class for safe methods: swagger-ui's page and files. */
const READ_PREFIXES: ReadonlyArray<readonly [string, RouteAccess]> = [['/docs', 'docs']];

/** Decision routes whose body may carry inline `policies` (caller-supplied code). */
const INLINE_POLICY_ROUTES = new Set(['/v1/evaluate', '/evaluate', '/v1/check']);

/** Forward-auth answers every method, on its own path and below it (Envoy's path_prefix). */
const GATEWAY_URLS = new Set(['/v1/forward-auth', '/v1/forward-auth/*']);

const CATCH_ALLS = new Set(['/v1/policies', '/v1/policies/*', '/v1/relations', '/v1/relations/*']);

/** The class of a route, and whether the table names it (else: admin, fail closed). */
export function routeAccess(method: string, url: string): { access: RouteAccess; listed: boolean } {
  const m = method === 'HEAD' ? 'GET' : method;
  if (GATEWAY_URLS.has(url)) return { access: 'gateway', listed: true };
  const exact = ROUTES[`${m} ${url}`];
  if (exact) return { access: exact, listed: true };
  if (m === 'GET') {
    for (const [prefix, access] of READ_PREFIXES) {
      if (url === prefix || url.startsWith(`${prefix}/`)) return { access, listed: true };
    }
  }
  // STORE=none answers every method on these with a refusal: reads as reads, the rest as writes.
  if (CATCH_ALLS.has(url)) return { access: m === 'GET' ? 'read' : 'admin', listed: true };
  return { access: 'admin', listed: false };
}

/** swagger-ui loads only its own files and styles its elements inline. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function docsHeaders(reply: FastifyReply): void {
  reply
    .header('content-security-policy', DOCS_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export interface RouteAccessEntry {
  method: string;
  url: string;
  access: RouteAccess;
  listed: boolean;
}

const installed = new WeakMap<FastifyInstance, RouteAccessEntry[]>();

/** The class of every route added to this app (for the route table in docs/security.md and its test). */
export function accessTable(app: FastifyInstance): readonly RouteAccessEntry[] {
  return installed.get(app) ?? [];
}

/** Run a check that may finish later (a JWT to verify) without paying for a promise when it does not. */
function settle(run: () => void | Promise<void>, done: HookHandlerDoneFunction): void {
  let pending: void | Promise<void>;
  try {
    pending = run();
  } catch (err) {
    return done(err as Error);
  }
  if (pending) pending.then(() => done(), (err: unknown) => done(err as Error));
  else done();
}

/**
 * Adds the access hooks to every route added after this call (so call it before any
 * route, swagger-ui's included). Returns the token guards, for the routes' own guards:
 * sharing them authenticates each request once.
 */
export function installAccessControl(app: FastifyInstance, auth: AdminAuthOptions): TokenGuards {
  const tokens = makeTokenGuards(auth);
  const origin = makeOriginCheck(originPolicy(auth.loopbackOnly, auth.allowedHosts));
  const readGuard = async (request: FastifyRequest, url: string): Promise<void> => {
    await tokens.requireRead(request);
    if (isRelationRead(url) && !accessOf(request).can('relations')) {
      throw new PolicyEngineError('SCOPE_FORBIDDEN', `credential ${accessOf(request).actor} lacks the verb relations that relationship reads need`);
    }
  };
  const gates = { decision: decisionGate(auth, 'bearer'), gateway: decisionGate(auth, 'gateway') };
  /** The whole check of a decision or gateway route (and the page's origin check): synchronous, nothing built per request. */
  const originHook = (hostOnly: boolean, gate: ((request: FastifyRequest) => void) | undefined): Hook => (request, _reply, done) => {
    let refused: Error | undefined;
    try {
      origin(request, hostOnly);
      if (gate) gate(request);
    } catch (err) {
      refused = err as Error;
    }
    done(refused);
  };
  // Synchronous for the decision, gateway and page routes; a promise for the others.
  const check = (access: RouteAccess, request: FastifyRequest, reply: FastifyReply, url: string): void | Promise<void> => {
    if (access === 'health') return;
    origin(request, access === 'gateway');
    switch (access) {
      case 'decision': case 'gateway': return gates[access]?.(request);
      case 'page': return;
      case 'code': return tokens.requireCode(request);
      case 'read': return readGuard(request, url);
      case 'docs': docsHeaders(reply); return tokens.requireRead(request);
      case 'admin': return tokens.requireAdmin(request, verbOf(request.method, url));
    }
  };
  const hookFor = (method: RouteOptions['method'], url: string): Hook | undefined => {
    if (typeof method === 'string') {
      const { access } = routeAccess(method, url);
      if (access === 'health') return undefined;
      // Decisions (and the page) are checked synchronously: the origin, and DECISION_TOKEN when one applies.
      if (access === 'decision' || access === 'gateway') return originHook(access === 'gateway', gates[access]);
      if (access === 'page') return originHook(false, undefined);
      return (request, reply, done) => settle(() => check(access, request, reply, url), done);
    }
    // Several methods (the STORE=none catch-alls): the class of the method asked.
    return (request, reply, done) => settle(() => check(routeAccess(request.method, url).access, request, reply, url), done);
  };
  // Inline `policies` in a decision request are caller-supplied code. The body is needed
  // to tell, so this runs once it is parsed but before schema validation.
  const inlinePolicies: Hook = (request, _reply, done) => {
    const body = request.body;
    settle(() => {
      if (body !== null && typeof body === 'object' && Object.hasOwn(body, 'policies')) return tokens.requireCode(request);
    }, done);
  };
  const table: RouteAccessEntry[] = [];
  installed.set(app, table);
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path ?? '';
    for (const method of asArray(route.method)) table.push({ method, url, ...routeAccess(method, url) });
    const hook = hookFor(route.method, url);
    if (hook) route.onRequest = [hook, ...asArray(route.onRequest)] as RouteOptions['onRequest'];
    // On loopback without a token inline policies need none: no hook, nothing to pay on the decision path.
    if (tokens.codeGuarded && route.method === 'POST' && INLINE_POLICY_ROUTES.has(url)) {
      route.preValidation = [inlinePolicies, ...asArray(route.preValidation)] as RouteOptions['preValidation'];
    }
  });
  return tokens;
}
