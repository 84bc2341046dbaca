// Forward-auth for gateways (SPEC §12, docs/gateways.md): nginx auth_request, Caddy
// forward_auth, Traefik forwardAuth and Envoy's HTTP ext_authz ask "may this request
// pass?". The subject comes from the request's credentials, the question from the
// route table, the answer from DecisionService.checkDetailed (the one decision path,
// same cache as /v1/check). Every outcome but an allow denies: no route, a refused URI,
// a missing subject; a failure of the decision path propagates (5xx), which every
// gateway treats as a denial too.
//
// The route table is the FORWARD_AUTH_ROUTES file's routes, then those of the stored
// `kind: routes` documents in key order (first match wins), rebuilt when the policy
// state's route documents change (any replica's write, no restart). A stored route
// document that does not compile fails closed: a request no route ahead of it decides
// answers 503 FORWARD_AUTH_ROUTES_BROKEN, since the broken document might have routed
// it more strictly than a later one does.

import { readFileSync } from 'node:fs';
import { PolicyEngineError } from '../errors.js';
import type { NamespaceLimits } from '../core/namespace.js';
import type { CheckRequest, CheckResponse, SubjectInput } from '../core/request.js';
import type { Decision } from '../core/evaluate/types.js';
import { parseText, DEFAULT_PARSE_LIMITS } from '../core/document/parse.js';
import { compileRouteTable, type RouteTable } from '../core/forward-auth/route-table.js';
import { matchRoute } from '../core/forward-auth/match.js';
import type { DecisionService } from './decision-service.js';
import type { StoredRoutes } from './policy-manager.js';
import type { JwtSubjects } from './tokens/jwt-subjects.js';

/** Who is asking, from the sub-request's headers. */
export type SubjectResolution =
  | { ok: true; subject: SubjectInput }
  /** no credentials at all, or credentials that do not verify: 401 */
  | { ok: false; code: 'FORWARD_AUTH_UNAUTHENTICATED'; reason: string };

export type SubjectResolver = (headers: Readonly<Record<string, string | string[] | undefined>>) => Promise<SubjectResolution> | SubjectResolution;

export type ForwardAuthOutcome =
  | { status: 200; subject: string; check: { request: CheckRequest; response: CheckResponse; decision: Decision } }
  | { status: 401; code: 'FORWARD_AUTH_UNAUTHENTICATED'; reason: string }
  | { status: 403; code: 'FORWARD_AUTH_DENIED' | 'FORWARD_AUTH_NO_ROUTE' | 'FORWARD_AUTH_URI_REFUSED'; reason: string; subject?: string; check?: { request: CheckRequest; response: CheckResponse; decision: Decision } };

/** Where stored route documents come from (the policy manager). */
export interface StoredRouteSource {
  /** moves whenever a stored route document changes */
  readonly routesVersion: number;
  storedRoutes(): StoredRoutes;
}

/** The combined table: routes tried in order, and the broken document they stop at, if any. */
interface Combined {
  table: RouteTable;
  brokenAt?: string;
}

/** The name the file's routes go by in conflicts and reasons. */
export const FILE_ROUTES_SOURCE = 'the route file (FORWARD_AUTH_ROUTES)';

export interface ForwardAuthOptions {
  decisions: DecisionService;
  /** the FORWARD_AUTH_ROUTES file's routes (tried first) */
  table: RouteTable;
  /** stored `kind: routes` documents, tried after the file's routes in key order */
  stored?: StoredRouteSource;
  subject: SubjectResolver;
  namespaceLimits?: NamespaceLimits;
}

/** The original request as the gateway describes it. */
export interface OriginalRequest {
  method: string;
  uri: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

const idOf = (s: SubjectInput): string => (typeof s === 'string' ? s : s.id);

export class ForwardAuthService {
  private combined: Combined;
  private combinedVersion = -1;

  constructor(private readonly options: ForwardAuthOptions) {
    this.combined = { table: options.table };
  }

  /** The file's routes: the first route source, which stored documents may not duplicate. */
  get fileTable(): RouteTable {
    return this.options.table;
  }

  get routeCount(): number {
    return this.current().table.routes.length;
  }

  /** The file's routes, then each stored table's in key order, up to the first broken one. */
  private current(): Combined {
    const stored = this.options.stored;
    if (!stored || stored.routesVersion === this.combinedVersion) return this.combined;
    const version = stored.routesVersion;
    const { tables, broken } = stored.storedRoutes();
    const firstBroken = broken[0];
    const routes = [...this.options.table.routes];
    for (const { key, table } of tables) {
      if (firstBroken !== undefined && key > firstBroken) break;
      routes.push(...table.routes);
    }
    this.combined = { table: { routes }, ...(firstBroken !== undefined ? { brokenAt: firstBroken } : {}) };
    this.combinedVersion = version;
    return this.combined;
  }

  async decide(original: OriginalRequest): Promise<ForwardAuthOutcome> {
    const who = await this.options.subject(original.headers);
    if (!who.ok) return { status: 401, code: who.code, reason: who.reason };
    const subject = idOf(who.subject);
    const { table, brokenAt } = this.current();
    const m = matchRoute(table, original.method, original.uri, this.options.namespaceLimits);
    if (m.kind === 'no-route' && brokenAt !== undefined) {
      // The broken document might have routed this request (more strictly than a later one): fail closed.
      throw new PolicyEngineError('FORWARD_AUTH_ROUTES_BROKEN', `the stored route document ${brokenAt} does not compile; no route ahead of it matches, so the request is refused until it is fixed`);
    }
    if (m.kind === 'no-route') return { status: 403, code: 'FORWARD_AUTH_NO_ROUTE', reason: m.reason, subject };
    if (m.kind === 'refused') return { status: 403, code: 'FORWARD_AUTH_URI_REFUSED', reason: m.reason, subject };
    const request: CheckRequest = { subject: who.subject, namespace: m.namespace, permission: m.permission, ...(m.resource ? { resource: m.resource } : {}) };
    const { response, decision } = this.options.decisions.checkDetailed(request);
    const check = { request, response, decision };
    if (response.allowed === true) return { status: 200, subject, check };
    return { status: 403, code: 'FORWARD_AUTH_DENIED', reason: response.reason?.text ?? `${m.permission} is not allowed in ${m.namespace}`, subject, check };
  }
}

/** A route table file (YAML or JSON, `kind: routes`), compiled; a bad file stops the start with every problem. */
export function loadRouteTable(file: string): RouteTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyEngineError('ROUTES_INVALID', `FORWARD_AUTH_ROUTES=${file}: ${(err as Error).message}`);
  }
  const parsed = parseText(text, /\.json$/i.test(file) ? 'json' : 'yaml', DEFAULT_PARSE_LIMITS);
  if (!parsed.ok) throw new PolicyEngineError('ROUTES_INVALID', `FORWARD_AUTH_ROUTES=${file}: ${parsed.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, parsed.errors);
  const compiled = compileRouteTable(parsed.documents[0]!.value);
  if (!compiled.ok) throw new PolicyEngineError('ROUTES_INVALID', `FORWARD_AUTH_ROUTES=${file}: ${compiled.errors.join('; ')}`, compiled.errors);
  return compiled.table;
}

/** The subject from a header the gateway sets after authenticating the caller itself (FORWARD_AUTH_SUBJECT_HEADER). */
export function headerSubject(header: string): SubjectResolver {
  const name = header.toLowerCase();
  return (headers) => {
    const v = headers[name];
    const value = Array.isArray(v) ? undefined : v?.trim();
    if (!value) return { ok: false, code: 'FORWARD_AUTH_UNAUTHENTICATED', reason: `no subject (the ${header} header is missing or repeated)` };
    if (value.length > 512) return { ok: false, code: 'FORWARD_AUTH_UNAUTHENTICATED', reason: `the ${header} header is longer than 512 characters` };
    return { ok: true, subject: value };
  };
}

/** No way to tell who is asking is configured: every request is unauthenticated (fail closed). */
export const noSubject: SubjectResolver = () => ({ ok: false, code: 'FORWARD_AUTH_UNAUTHENTICATED', reason: 'no subject source is configured (FORWARD_AUTH_SUBJECT_HEADER, or JWT verification)' });

/**
 * The subject from a bearer JWT (docs/jwt.md) when the request carries one; a token that
 * does not verify is a 401, never a fall-back to the header. Without a token, `fallback`.
 * Keys that cannot be read (TOKEN_KEYS_UNAVAILABLE) propagate: a 503, which every gateway
 * treats as a denial.
 */
export function jwtSubject(tokens: Pick<JwtSubjects, 'tokenOf' | 'verify'>, fallback: SubjectResolver): SubjectResolver {
  return async (headers) => {
    const token = tokens.tokenOf(headers);
    if (token === undefined) return fallback(headers);
    try {
      return { ok: true, subject: await tokens.verify(token) };
    } catch (err) {
      if (err instanceof PolicyEngineError && err.code === 'TOKEN_INVALID') return { ok: false, code: 'FORWARD_AUTH_UNAUTHENTICATED', reason: `the token was refused: ${err.message}` };
      throw err;
    }
  };
}
