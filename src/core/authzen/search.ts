// The AuthZEN searches (SPEC §12): which candidates to try, and paging over them. A
// search never decides: every result is checked through the one decision path by the
// caller, so a result fed back into an evaluation is allowed (the standard's
// expectation). Candidates come from what the PDP knows: the subjects and permissions
// its policies name (plus, in the service, the directory and relationships); a rule for
// `*` (anyone) cannot be enumerated and adds no candidate.

import { createHash } from 'node:crypto';
import { isConcretePermission } from '../pattern.js';
import { PolicyEngineError } from '../../errors.js';
import type { CompiledRule } from '../compile/types.js';

/** The most candidates one search considers (a bound on the checks one request runs). */
export const MAX_CANDIDATES = 10_000;

/**
 * The concrete permissions the rules grant that name this resource type: `document:read`
 * names `document`; a one-segment permission (`view`) names every type.
 */
export function actionCandidates(rules: readonly CompiledRule[], resourceType: string, relationPermissions: readonly string[] = []): string[] {
  // The relationship schema's permissions of the type (`read` on `document`), each a name a check can decide.
  const out = new Set<string>(relationPermissions.filter(isConcretePermission));
  for (const r of rules) {
    for (const p of r.grant) {
      if (!isConcretePermission(p.text)) continue;
      if (p.segs.length === 1 || p.segs[0] === resourceType) out.add(p.text);
    }
  }
  return [...out].sort();
}

/** The ids of subjects of this type that rules name (`user:alice` → `alice`). */
export function subjectCandidates(rules: readonly CompiledRule[], subjectType: string): string[] {
  const prefix = `${subjectType}:`;
  const out = new Set<string>();
  for (const r of rules) for (const id of r.subjects.ids) if (id.startsWith(prefix) && id.length > prefix.length) out.add(id.slice(prefix.length));
  return [...out].sort();
}

/** Keys sorted, so equal requests digest equally whatever their member order. */
function stable(value: unknown, depth = 0): unknown {
  if (depth > 64) throw new PolicyEngineError('REQUEST_INVALID', 'the request is nested deeper than 64 levels');
  if (Array.isArray(value)) return value.map((v) => stable(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, stable((value as Record<string, unknown>)[k], depth + 1)]));
  }
  return value;
}

/** A digest of everything in a search request but the page token (a token is only good for the request that made it). */
export function searchDigest(request: Record<string, unknown>): string {
  const { page, ...rest } = request as { page?: { token?: string; limit?: number; properties?: unknown } };
  const { token: _token, ...pageRest } = page ?? {};
  return createHash('sha256').update(JSON.stringify(stable({ ...rest, page: pageRest }))).digest('base64url').slice(0, 22);
}

/** An opaque page token: where the previous page stopped, and for which request. */
export function encodeToken(after: string, digest: string): string {
  return Buffer.from(JSON.stringify({ a: after, d: digest }), 'utf8').toString('base64url');
}

/** The position a token names; REQUEST_INVALID for a token that is malformed or was made for another request. */
export function decodeToken(token: string, digest: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const p = parsed as { a?: unknown; d?: unknown } | undefined;
  if (!p || typeof p.a !== 'string' || typeof p.d !== 'string') throw new PolicyEngineError('REQUEST_INVALID', 'page.token is not a token this server issued');
  if (p.d !== digest) throw new PolicyEngineError('REQUEST_INVALID', 'page.token was issued for a different request: subject, action, resource, context and page.limit must stay the same while paging');
  return p.a;
}

/**
 * One page of the candidates (sorted, after the token's position) that `allowed` accepts:
 * at most `limit` results, and a next token only when a further allowed one exists.
 */
export function pageOf(sorted: readonly string[], after: string | undefined, limit: number, allowed: (candidate: string) => boolean): { results: string[]; next?: string } {
  const results: string[] = [];
  let i = 0;
  if (after !== undefined) while (i < sorted.length && sorted[i]! <= after) i++;
  for (; i < sorted.length; i++) {
    if (!allowed(sorted[i]!)) continue;
    if (results.length === limit) return { results, next: results.at(-1) ?? after ?? '' };
    results.push(sorted[i]!);
  }
  return { results };
}
