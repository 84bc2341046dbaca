// Guard for write routes (SPEC §7): a bearer token when ADMIN_TOKEN is set, compared in
// constant time; with no token, writes are refused unless the server listens on loopback.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { PolicyEngineError } from '../errors.js';

export interface AdminAuthOptions {
  adminToken: string | undefined;
  /** true when the listener is reachable only from this machine */
  loopbackOnly: boolean;
}

function digest(s: string): Buffer {
  // Hash first so the comparison takes the same time whatever the lengths.
  return createHash('sha256').update(s).digest();
}

export function makeWriteGuard(options: AdminAuthOptions): (request: FastifyRequest) => Promise<void> {
  const expected = options.adminToken === undefined ? undefined : digest(options.adminToken);
  return async (request) => {
    if (expected === undefined) {
      if (options.loopbackOnly) return;
      throw new PolicyEngineError('WRITES_DISABLED', 'write routes are disabled: the server listens beyond loopback and no ADMIN_TOKEN is set');
    }
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer (.+)$/i.exec(header.trim()) : null;
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      throw new PolicyEngineError('UNAUTHORIZED', 'write routes need Authorization: Bearer <ADMIN_TOKEN>');
    }
  };
}
