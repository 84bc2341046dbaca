// Where a request comes from, as a browser would tell: the Host it was sent to and the
// Origin of the page that sent it. A page on another site that rebinds its DNS name to
// 127.0.0.1 reaches a loopback listener with its own name in Host; a page that posts
// across origins carries its Origin. Both are refused (docs/security.md).

import type { FastifyRequest } from 'fastify';
import { PolicyEngineError } from '../errors.js';

/** The names that always mean this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

export interface OriginPolicy {
  /** Host names accepted besides LOOPBACK_HOSTS; `*` turns the Host check off */
  allowedHosts: readonly string[];
  /** Check Host at all: always on loopback, beyond it only when ALLOWED_HOSTS names hosts */
  checkHost: boolean;
}

export function originPolicy(loopbackOnly: boolean, allowedHosts: readonly string[] = []): OriginPolicy {
  const names = allowedHosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  const any = names.includes('*');
  return { allowedHosts: names.filter((h) => h !== '*'), checkHost: !any && (loopbackOnly || names.length > 0) };
}

// A Host header: a DNS name, an IPv4 address or a bracketed IPv6 address, and a port.
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+?)\.?(?::\d{1,5})?$/i;

/** The name part of a Host header, lower-cased, without port or trailing dot; undefined when malformed. */
export function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const m = HOST_HEADER.exec(host);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * `hostOnly`: check the Host alone. A gateway's forward-auth sub-request carries the
 * original request's headers (Caddy and Traefik copy them), so its Origin is the page
 * that called the protected service, not a page calling us.
 */
export function makeOriginCheck(policy: OriginPolicy): (request: FastifyRequest, hostOnly?: boolean) => void {
  const allowed = new Set([...LOOPBACK_HOSTS, ...policy.allowedHosts]);
  // Host headers already accepted, as sent: a caller sends the same one every time, so the
  // parse runs once. Bounded (only accepted values enter, and at most 64 of them).
  const accepted = new Set<string>();
  return (request, hostOnly = false) => {
    const host = request.headers.host;
    if (policy.checkHost && (host === undefined || !accepted.has(host))) {
      const name = hostnameOf(host);
      if (name === undefined || !allowed.has(name)) {
        throw new PolicyEngineError('HOST_NOT_ALLOWED', `the Host header names no host this server answers for (loopback names${policy.allowedHosts.length > 0 ? ' and ALLOWED_HOSTS' : ''})`);
      }
      if (accepted.size < 64) accepted.add(host!);
    }
    const origin = request.headers.origin;
    if (origin === undefined || hostOnly) return;
    if (!sameOrAllowedOrigin(origin, host, allowed)) {
      throw new PolicyEngineError('ORIGIN_NOT_ALLOWED', 'requests from a page of another origin are refused');
    }
  };
}

function sameOrAllowedOrigin(origin: string, host: string | undefined, allowed: ReadonlySet<string>): boolean {
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false; // `null` (sandboxed frames, file:) and anything else unparsable
  }
  if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
  if (allowed.has(o.hostname)) return true;
  if (host === undefined) return false;
  try {
    // The same scheme on both sides, so a default port written out (`:80`) compares equal.
    return new URL(`${o.protocol}//${host}`).host === o.host;
  } catch {
    return false;
  }
}
