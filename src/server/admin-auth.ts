// Bearer tokens (SPEC §7, docs/security.md): ADMIN_TOKEN guards writes and caller-supplied
// code, READ_TOKEN (or the admin token) guards reads of stored state. Compared in constant
// time over SHA-256 digests. With no token set, writes are refused beyond loopback.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PolicyEngineError } from '../errors.js';

export interface AdminAuthOptions {
  adminToken: string | undefined;
  /** accepted for reads of stored state, refused for writes; needs adminToken */
  readToken?: string;
  /** true when the listener is reachable only from this machine */
  loopbackOnly: boolean;
  /** Host names accepted besides the loopback ones (`*`: any); see request-origin.ts */
  allowedHosts?: readonly string[];
}

/** What a request's Authorization header proves. */
export type Grant = 'admin' | 'read' | 'none';

function digest(s: string): Buffer {
  // Hash first so the comparison takes the same time whatever the lengths.
  return createHash('sha256').update(s).digest();
}

export interface TokenGuards {
  /** Writes, previews and caller-supplied code when a token is set. */
  requireAdmin(request: FastifyRequest): void;
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
  const grantOf = (request: FastifyRequest): Grant => {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!m) return 'none';
    const given = digest(m[1]!);
    // Both comparisons always run: which one matched does not show in the time taken.
    const isAdmin = admin !== undefined && timingSafeEqual(given, admin);
    const isRead = read !== undefined && timingSafeEqual(given, read);
    return isAdmin ? 'admin' : isRead ? 'read' : 'none';
  };
  const needAdmin = (request: FastifyRequest, what: string): void => {
    const grant = grantOf(request);
    if (grant === 'admin') return;
    if (grant === 'read') throw new PolicyEngineError('TOKEN_READ_ONLY', `${what} need the admin token; READ_TOKEN is for reads only`);
    throw new PolicyEngineError('UNAUTHORIZED', `${what} need Authorization: Bearer <ADMIN_TOKEN>`);
  };
  return {
    tokenSet: admin !== undefined,
    requireAdmin(request) {
      if (admin === undefined) {
        if (options.loopbackOnly) return;
        throw new PolicyEngineError('WRITES_DISABLED', 'write routes are disabled: the server listens beyond loopback and no ADMIN_TOKEN is set');
      }
      needAdmin(request, 'writes and previews');
    },
    requireRead(request) {
      if (admin === undefined) return;
      if (grantOf(request) === 'none') {
        throw new PolicyEngineError('UNAUTHORIZED', 'reads of stored state need Authorization: Bearer <READ_TOKEN or ADMIN_TOKEN>');
      }
    },
    requireCode(request) {
      if (admin === undefined) return;
      needAdmin(request, 'requests carrying policies or tests to run');
    },
  };
}

/** The write guard as a preHandler (the route files' second line of defence; the playground page). */
export function makeWriteGuard(options: AdminAuthOptions): (request: FastifyRequest) => Promise<void> {
  const guards = makeTokenGuards(options);
  return async (request) => guards.requireAdmin(request);
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
