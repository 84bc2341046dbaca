// Bearer tokens (SPEC §7, docs/security.md, docs/audit.md): ADMIN_TOKEN (the root
// credential) guards writes and caller-supplied code, READ_TOKEN (or the admin token)
// guards reads of stored state, DECISION_TOKEN (or the admin token) the decision and
// gateway routes when set (decisionGate), and named credentials (ADMIN_TOKENS_FILE) each get some
// verbs on some namespaces. Every token is compared in constant time over SHA-256
// digests, against every credential (no early exit). A bearer that matches none and is
// shaped as a JWT is verified with the JWT keys (jwt-subjects.ts) and is the first `jwt:`
// credential its claims match — never compared as an opaque token once it fails. With no
// token set, writes are refused beyond loopback, and decisions without DECISION_TOKEN. Each request's Access (who, and what it
// may reach) is kept for the route handlers (accessOf).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PolicyEngineError } from '../errors.js';
import { readOnlyAccess, scopedAccess, unrestrictedAccess, type Access, type Verb } from '../core/access.js';
import { jwtMatches, type CredentialSource } from './credentials.js';
import { isJwtShaped, type JwtSubjects } from '../engine/tokens/jwt-subjects.js';

export interface AdminAuthOptions {
  adminToken: string | undefined;
  /** accepted for reads of stored state, refused for writes; needs adminToken */
  readToken?: string;
  /** true when the listener is reachable only from this machine */
  loopbackOnly: boolean;
  /** Host names accepted besides the loopback ones (`*`: any); see request-origin.ts */
  allowedHosts?: readonly string[];
  /** named, scoped credentials (ADMIN_TOKENS_FILE); need adminToken */
  credentials?: CredentialSource;
  /** verifies bearer JWTs for the file's `jwt:` credentials (JWT_JWKS_FILE / _URL); absent: a JWT is an unknown token */
  jwt?: Pick<JwtSubjects, 'verifyClaims'>;
  /** guards the decision and gateway routes when set (DECISION_TOKEN); must be set beyond loopback */
  decisionToken?: string;
}

/** What a request's Authorization header proves. */
export type Grant = 'admin' | 'read' | 'scoped' | 'none';

/** The actor names of the built-in credentials, as recorded in the history. */
export const ROOT_ACTOR = 'admin';
export const READ_ACTOR = 'read-token';
export const ANONYMOUS_ACTOR = 'anonymous';
/** The actor of a JWT credential's writes: the token's subject, not the entry's name (one entry may match many people). */
export const jwtActor = (sub: string): string => `jwt:${sub}`;

const accessByRequest = new WeakMap<FastifyRequest, Access>();

/**
 * What the request's credential may do, as the access hook found it. A request no hook
 * saw reaches nothing (fail closed).
 */
export function accessOf(request: FastifyRequest): Access {
  return accessByRequest.get(request) ?? scopedAccess('unknown', [], []);
}


const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(s: string): Buffer {
  // Hash first so the comparison takes the same time whatever the lengths.
  return createHash('sha256').update(s).digest();
}

/** Beyond loopback without ADMIN_TOKEN, only health and (with DECISION_TOKEN) decisions answer. */
function beyondLoopback(what: string): PolicyEngineError {
  return new PolicyEngineError('ADMIN_TOKEN_REQUIRED', `${what} are refused: the server listens beyond loopback and no ADMIN_TOKEN is set`);
}

export interface TokenGuards {
  /** Writes and previews when a token is set: the root token, or a named credential with `verb`. */
  requireAdmin(request: FastifyRequest, verb?: Verb): Promise<void>;
  /** Reads of stored state: the admin or the read token when a token is set. */
  requireRead(request: FastifyRequest): Promise<void>;
  /** Caller-supplied code (inline policies, /v1/test, /v1/validate): admin token when set, else open. */
  requireCode(request: FastifyRequest): Promise<void>;
  /** Is any token configured? */
  readonly tokenSet: boolean;
  /** Does a request carrying inline policies need a check (a token is set, or the server listens beyond loopback)? */
  readonly codeGuarded: boolean;
}

interface Authenticated {
  grant: Grant;
  access: Access;
}

export function makeTokenGuards(options: AdminAuthOptions): TokenGuards {
  const admin = options.adminToken === undefined ? undefined : digest(options.adminToken);
  const read = options.readToken === undefined ? undefined : digest(options.readToken);
  // Named credentials count only beside a root token (config refuses the file without one).
  const named = admin === undefined ? undefined : options.credentials;
  // JWTs are credentials only where the file can name them.
  const jwt = named === undefined ? undefined : options.jwt;
  const nobody: Authenticated = { grant: 'none', access: scopedAccess(ANONYMOUS_ACTOR, [], []) };
  const byJwt = async (token: string): Promise<Authenticated> => {
    // A refusal (401 TOKEN_INVALID, 503 TOKEN_KEYS_UNAVAILABLE) propagates: a JWT that does not verify is never anything else.
    const claims = await jwt!.verifyClaims(token);
    const actor = jwtActor(claims.sub);
    // The first matching entry wins (docs/audit.md), in file order, as the file reads now.
    for (const c of named?.current() ?? []) {
      if (c.kind === 'jwt' && jwtMatches(c.jwt, claims)) return { grant: 'scoped', access: scopedAccess(actor, c.verbs, c.namespaces) };
    }
    throw new PolicyEngineError('SCOPE_FORBIDDEN', `the JWT of ${actor} is valid but matches no credential of ADMIN_TOKENS_FILE`);
  };
  const authenticate = async (request: FastifyRequest): Promise<Authenticated> => {
    if (admin === undefined) return { grant: 'admin', access: unrestrictedAccess(ANONYMOUS_ACTOR) };
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? BEARER.exec(header) : null;
    if (!m) return nobody;
    const given = digest(m[1]!);
    // Every comparison always runs: which one matched does not show in the time taken.
    const isAdmin = timingSafeEqual(given, admin);
    const isRead = read !== undefined && timingSafeEqual(given, read);
    let match: { name: string; verbs: Verb[]; namespaces: string[] } | undefined;
    for (const c of named?.current() ?? []) {
      if (c.kind === 'token' && timingSafeEqual(given, c.digest) && match === undefined) match = c;
    }
    if (isAdmin) return { grant: 'admin', access: unrestrictedAccess(ROOT_ACTOR) };
    if (isRead) return { grant: 'read', access: readOnlyAccess(READ_ACTOR) };
    if (match) return { grant: 'scoped', access: scopedAccess(match.name, match.verbs, match.namespaces) };
    if (jwt !== undefined && isJwtShaped(m[1]!)) return byJwt(m[1]!);
    return nobody;
  };
  // One authentication per request: the route hook and the route's own guard (and the
  // inline-policies check) see the same answer, and a JWT is verified once.
  const seen = new WeakMap<FastifyRequest, Promise<Authenticated>>();
  const authenticated = async (request: FastifyRequest): Promise<Authenticated> => {
    let p = seen.get(request);
    if (!p) {
      p = authenticate(request);
      seen.set(request, p);
    }
    try {
      const a = await p;
      accessByRequest.set(request, a.access);
      return a;
    } catch (err) {
      accessByRequest.set(request, nobody.access);
      throw err;
    }
  };
  const needAdmin = async (request: FastifyRequest, what: string, verb: Verb | undefined): Promise<void> => {
    const { grant, access } = await authenticated(request);
    if (grant === 'admin') return;
    if (grant === 'scoped' && verb !== undefined) {
      if (access.can(verb)) return;
      throw new PolicyEngineError('SCOPE_FORBIDDEN', `credential ${access.actor} lacks the verb ${verb} that ${what} need`);
    }
    if (grant === 'scoped') throw new PolicyEngineError('SCOPE_FORBIDDEN', `${what} need the root ADMIN_TOKEN; credential ${access.actor} is scoped`);
    if (grant === 'read') throw new PolicyEngineError('TOKEN_READ_ONLY', `${what} need the admin token; READ_TOKEN is for reads only`);
    throw new PolicyEngineError('UNAUTHORIZED', `${what} need Authorization: Bearer <ADMIN_TOKEN or a named credential>`);
  };
  return {
    tokenSet: admin !== undefined,
    codeGuarded: admin !== undefined || !options.loopbackOnly,
    async requireAdmin(request, verb) {
      if (admin === undefined) {
        accessByRequest.set(request, unrestrictedAccess(ANONYMOUS_ACTOR));
        if (options.loopbackOnly) return;
        throw new PolicyEngineError('WRITES_DISABLED', 'write routes are disabled: the server listens beyond loopback and no ADMIN_TOKEN is set');
      }
      await needAdmin(request, 'writes and previews', verb ?? 'write');
    },
    async requireRead(request) {
      if (admin === undefined && !options.loopbackOnly) throw beyondLoopback('reads of stored state');
      const { grant, access } = await authenticated(request);
      if (grant === 'none') {
        throw new PolicyEngineError('UNAUTHORIZED', 'reads of stored state need Authorization: Bearer <READ_TOKEN, ADMIN_TOKEN or a named credential>');
      }
      if (grant === 'scoped' && !access.can('read')) throw new PolicyEngineError('SCOPE_FORBIDDEN', `credential ${access.actor} lacks the verb read`);
    },
    async requireCode(request) {
      if (admin === undefined && !options.loopbackOnly) throw beyondLoopback('caller-supplied policies and tests');
      if (admin === undefined) {
        accessByRequest.set(request, unrestrictedAccess(ANONYMOUS_ACTOR));
        return;
      }
      // A credential that may write policies may run them too (they are code either way).
      await needAdmin(request, 'requests carrying policies or tests to run', 'write');
    },
  };
}

/** The header a gateway sends DECISION_TOKEN in: its Authorization header is the original request's. */
export const GATEWAY_TOKEN_HEADER = 'x-decision-token';

/**
 * The check of a decision route (`bearer`: X-Decision-Token when sent, else Authorization:
 * Bearer <token>, so that a JWT subject can ride in Authorization beside it) or of a gateway
 * route (`gateway`: the X-Decision-Token header only), or undefined when there is nothing to
 * check (loopback, no DECISION_TOKEN: the decision path pays nothing). With a token set,
 * DECISION_TOKEN or the root ADMIN_TOKEN passes, compared in constant time (both
 * comparisons always run); beyond loopback without one, every request is refused.
 * Synchronous: a decision never waits for its guard.
 */
export function decisionGate(options: AdminAuthOptions, from: 'bearer' | 'gateway'): ((request: FastifyRequest) => void) | undefined {
  if (options.decisionToken === undefined) {
    if (options.loopbackOnly) return undefined;
    return () => {
      throw new PolicyEngineError('DECISIONS_DISABLED', 'decision routes are disabled: the server listens beyond loopback and no DECISION_TOKEN is set');
    };
  }
  const decision = digest(options.decisionToken);
  const admin = options.adminToken === undefined ? undefined : digest(options.adminToken);
  const how = from === 'bearer' ? `Authorization: Bearer <DECISION_TOKEN> (or ${GATEWAY_TOKEN_HEADER})` : `${GATEWAY_TOKEN_HEADER}: <DECISION_TOKEN>`;
  return (request) => {
    const header = request.headers[GATEWAY_TOKEN_HEADER];
    const given = from === 'gateway' || header !== undefined ? gatewayTokenOf(header) : bearerOf(request.headers.authorization);
    if (given !== undefined) {
      const d = digest(given);
      const isDecision = timingSafeEqual(d, decision);
      const isAdmin = admin !== undefined && timingSafeEqual(d, admin);
      if (isDecision || isAdmin) return;
    }
    throw new PolicyEngineError('UNAUTHORIZED', `decisions need ${how}`);
  };
}

function bearerOf(header: string | undefined): string | undefined {
  const m = typeof header === 'string' ? BEARER.exec(header) : null;
  return m ? m[1]! : undefined;
}

/** One value, sent once (a repeated header is refused, not joined). */
function gatewayTokenOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/** The write guard as a preHandler (the route files' second line of defence; the playground page). */
export function writeGuard(guards: TokenGuards, verb: Verb = 'write'): (request: FastifyRequest) => Promise<void> {
  return (request) => guards.requireAdmin(request, verb);
}

/** Start-up warnings about what the settings leave open (logged by main.ts). */
export function accessWarnings(options: AdminAuthOptions): string[] {
  const out: string[] = [];
  if (options.adminToken === undefined) {
    out.push(options.loopbackOnly
      ? 'no ADMIN_TOKEN: write routes, previews and caller-supplied policies need no token; any process on this machine can change policies (browsers are kept out by the Host and Origin checks)'
      : 'listening beyond loopback without ADMIN_TOKEN: write routes, reads of stored state and caller-supplied policies are refused');
  }
  if (!options.loopbackOnly && options.decisionToken === undefined) {
    out.push('listening beyond loopback without DECISION_TOKEN: decision routes (evaluate, check, plans, AuthZEN, forward-auth) are refused');
  }
  if (!options.loopbackOnly && (options.allowedHosts ?? []).length === 0) {
    out.push('listening beyond loopback without ALLOWED_HOSTS: the Host header is not checked');
  }
  if ((options.allowedHosts ?? []).includes('*')) out.push('ALLOWED_HOSTS=*: the Host header is not checked');
  return out;
}
