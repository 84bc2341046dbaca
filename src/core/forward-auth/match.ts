// Matching a gateway's original request against the route table. The original URI is
// refused rather than normalized whenever the gateway's upstream could read it as
// another path than we do: dot segments, encoded `/` or `\`, empty segments, bad
// percent-encoding, control characters. A refusal and "no route" both deny (403).

import { parseNamespacePath, type NamespaceLimits } from '../namespace.js';
import type { CompiledRoute, RouteTable, TemplatePart } from './route-table.js';

/** The longest original URI looked at. */
export const MAX_URI_LENGTH = 8192;

export type RouteMatch =
  | { kind: 'matched'; route: CompiledRoute; namespace: string; permission: string; resource?: { type: string; id: string } }
  | { kind: 'no-route'; reason: string }
  | { kind: 'refused'; reason: string };

const METHOD = /^[A-Z]{1,16}$/;
const NAMESPACE_VALUE = /^[A-Za-z0-9_:-]{1,128}$/;
// After decoding, a segment value must not hold a separator or a control character.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const BAD_DECODED = /[/\\\u0000-\u001f\u007f]/;

/** The decoded path segments of an original URI (query and fragment dropped), or why it is refused. */
export function pathSegments(uri: string): { ok: true; segments: string[] } | { ok: false; reason: string } {
  if (uri.length > MAX_URI_LENGTH) return { ok: false, reason: `the original URI is longer than ${MAX_URI_LENGTH} characters` };
  let path = uri;
  const cut = path.search(/[?#]/);
  if (cut !== -1) path = path.slice(0, cut);
  if (!path.startsWith('/')) return { ok: false, reason: 'the original URI is not an absolute path' };
  if (path === '/') return { ok: true, segments: [] };
  const segments: string[] = [];
  for (const raw of path.slice(1).split('/')) {
    if (raw === '') return { ok: false, reason: 'the original URI has an empty segment (// or a trailing /)' };
    if (raw.includes('\\')) return { ok: false, reason: 'the original URI holds a backslash' };
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      return { ok: false, reason: 'the original URI has invalid percent-encoding' };
    }
    if (decoded === '.' || decoded === '..') return { ok: false, reason: 'the original URI has a dot segment (traversal)' };
    if (BAD_DECODED.test(decoded)) return { ok: false, reason: 'the original URI encodes a separator or a control character' };
    segments.push(decoded);
  }
  return { ok: true, segments };
}

function fill(parts: readonly TemplatePart[], params: ReadonlyMap<string, string>): string {
  let out = '';
  for (const p of parts) out += 'text' in p ? p.text : params.get(p.param)!;
  return out;
}

function bind(route: CompiledRoute, segments: readonly string[]): Map<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params = new Map<string, string>();
  for (let i = 0; i < segments.length; i++) {
    const s = route.segments[i]!;
    if ('literal' in s) {
      if (s.literal !== segments[i]) return undefined;
    } else params.set(s.param, segments[i]!);
  }
  return params;
}

/** The first route that matches the method and URI, with its templates filled. */
export function matchRoute(table: RouteTable, method: string, uri: string, limits?: NamespaceLimits): RouteMatch {
  const m = method.toUpperCase();
  if (!METHOD.test(m)) return { kind: 'refused', reason: 'the original method is not an HTTP method' };
  const parsed = pathSegments(uri);
  if (!parsed.ok) return { kind: 'refused', reason: parsed.reason };
  for (const route of table.routes) {
    if (route.methods && !route.methods.has(m)) continue;
    const params = bind(route, parsed.segments);
    if (!params) continue;
    // A value never adds or climbs a level: it fills part of one namespace, so no `.`.
    for (const part of route.namespace) {
      if ('param' in part && !NAMESPACE_VALUE.test(params.get(part.param)!)) {
        return { kind: 'refused', reason: `path parameter {${part.param}} is not a namespace name (${route.label}): [A-Za-z0-9_:-], no '.'` };
      }
    }
    const namespace = fill(route.namespace, params);
    // A value that is no namespace (a `.` would add a level, other characters are refused) never reaches a check.
    const ns = parseNamespacePath(namespace, limits);
    if (!ns.ok) return { kind: 'refused', reason: `a path parameter does not fit the namespace path of ${route.label} (${ns.reason})` };
    const resource = route.resource ? { type: route.resource.type, id: fill(route.resource.id, params) } : undefined;
    return { kind: 'matched', route, namespace, permission: route.permission, ...(resource ? { resource } : {}) };
  }
  return { kind: 'no-route', reason: `no route matches ${m} ${uri.length > 200 ? `${uri.slice(0, 200)}…` : uri}` };
}
