// Bearer tokens (SPEC §7, docs/security.md, docs/audit.md): ADMIN_TOKEN (the root
// credential) guards writes and caller-supplied code, READ_TOKEN (or the admin token)
// guards reads of stored state, and named credentials (ADMIN_TOKENS_FILE) each get some
// verbs on some namespaces. Every token is compared in constant time over SHA-256
// digests, against every credential (no early exit). With no token set, writes are
// refused beyond loopback. Each request's Access (who, and what it may reach) is kept
// for the route handlers (accessOf).

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PolicyEngineError } from '../errors.js';
import { readOnlyAccess, scopedAccess, unrestrictedAccess, type Access, type Verb } from '../core/access.js';
import type { CredentialSource } from './credentials.js';

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
}

/** What a request's Authorization header proves. */
export type Grant = 'admin' | 'read' | 'scoped' | 'none';

/** The actor names of the built-in credentials, as recorded in the history. */
export const ROOT_ACTOR = 'admin';
export const READ_ACTOR = 'read-token';
export const ANONYMOUS_ACTOR = 'anonymous';

const accessByRequest = new WeakMap<FastifyRequest, Access>();

/**
 * What the request's credential may do, as the access hook found it. A request no hook
 * saw reaches nothing (fail closed).
 */
export function accessOf(request: FastifyRequest): Access {
  return accessByRequest.get(request) ?? scopedAccess('unknown', [], []);
}


function digest(s: string): Buffer {
  // Hash first so the comparison takes the same time whatever the lengths.
  return createHash('sha256').update(s).digest();
}

export interface TokenGuards {
  /** Writes and previews when a token is set: the root token, or a named credential with `verb`. */
  requireAdmin(request: FastifyRequest, verb?: Verb): void;
  /** Reads of stored state: the admin or the read token when a token is set. */
  requireRead(request: FastifyRequest): void;
  /** Caller-supplied code (inline policies, /v1/test, /v1/validate): admin token when set, else open. */
  requireCode(request: FastifyRequest): void;
  /** Is any token configured? */
  readonly tokenSet: boolean;
}

export function makeTokenGuards(options: AdminAuthOptions): TokenGuards {
  const admin = options.adminToken === undefined ? undefined : digest(options.adminToken);
  const read = options.readToken === undefined ? undefined : digest(options.readToken);
  // Named credentials count only beside a root token (config refuses the file without one).
  const named = admin === undefined ? undefined : options.credentials;
  const authenticate = (request: FastifyRequest): { grant: Grant; access: Access } => {
    if (admin === undefined) return { grant: 'admin', access: unrestrictedAccess(ANONYMOUS_ACTOR) };
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!m) return { grant: 'none', access: scopedAccess(ANONYMOUS_ACTOR, [], []) };
    const given = digest(m[1]!);
    // Every comparison always runs: which one matched does not show in the time taken.
    const isAdmin = timingSafeEqual(given, admin);
    const isRead = read !== undefined && timingSafeEqual(given, read);
    let match: { name: string; verbs: Verb[]; namespaces: string[] } | undefined;
    for (const c of named?.current() ?? []) {
      if (timingSafeEqual(given, c.digest) && match === undefined) match = c;
    }
    if (isAdmin) return { grant: 'admin', access: unrestrictedAccess(ROOT_ACTOR) };
    if (isRead) return { grant: 'read', access: readOnlyAccess(READ_ACTOR) };
    if (match) return { grant: 'scoped', access: scopedAccess(match.name, match.verbs, match.namespaces) };
    return { grant: 'none', access: scopedAccess(ANONYMOUS_ACTOR, [], []) };
  };
  const authenticated = (request: FastifyRequest) => {
    const a = authenticate(request);
    accessByRequest.set(request, a.access);
    return a;
  };
  const needAdmin = (request: FastifyRequest, what: string, verb: Verb | undefined): void => {
    const { grant, access } = authenticated(request);
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
    requireAdmin(request, verb) {
      if (admin === undefined) {
        accessByRequest.set(request, unrestrictedAccess(ANONYMOUS_ACTOR));
        if (options.loopbackOnly) return;
        throw new PolicyEngineError('WRITES_DISABLED', 'write routes are disabled: the server listens beyond loopback and no ADMIN_TOKEN is set');
      }
      needAdmin(request, 'writes and previews', verb ?? 'write');
    },
    requireRead(request) {
      const { grant, access } = authenticated(request);
      if (grant === 'none') {
        throw new PolicyEngineError('UNAUTHORIZED', 'reads of stored state need Authorization: Bearer <READ_TOKEN, ADMIN_TOKEN or a named credential>');
      }
      if (grant === 'scoped' && !access.can('read')) throw new PolicyEngineError('SCOPE_FORBIDDEN', `credential ${access.actor} lacks the verb read`);
    },
    requireCode(request) {
      if (admin === undefined) {
        accessByRequest.set(request, unrestrictedAccess(ANONYMOUS_ACTOR));
        return;
      }
      // A credential that may write policies may run them too (they are code either way).
      needAdmin(request, 'requests carrying policies or tests to run', 'write');
    },
  };
}

/** The write guard as a preHandler (the route files' second line of defence; the playground page). */
export function makeWriteGuard(options: AdminAuthOptions, verb: Verb = 'write'): (request: FastifyRequest) => Promise<void> {
  const guards = makeTokenGuards(options);
  return async (request) => guards.requireAdmin(request, verb);
}

/** Start-up warnings about what the settings leave open (logged by main.ts). */
export function accessWarnings(options: AdminAuthOptions): string[] {
  const out: string[] = [];
  if (options.adminToken === undefined) {
    out.push(options.loopbackOnly
      ? 'no ADMIN_TOKEN: write routes, previews and caller-supplied policies need no token; any process on this machine can change policies (browsers are kept out by the Host and Origin checks)'
      : 'listening beyond loopback without ADMIN_TOKEN: write routes are refused, and reads of stored state and caller-supplied policies need no token');
  }
  if (!options.loopbackOnly && (options.allowedHosts ?? []).length === 0) {
    out.push('listening beyond loopback without ALLOWED_HOSTS: the Host header is not checked');
  }
  if ((options.allowedHosts ?? []).includes('*')) out.push('ALLOWED_HOSTS=*: the Host header is not checked');
  return out;
}
