// Delegated administration (docs/audit.md): what a credential may do — verbs, and the
// namespaces it reaches by prefix. Pure: the server builds one per request from the
// credential that authenticated it; services ask it before reading or writing.
//
// A prefix reaches a namespace equal to it, or one that continues it after a separator
// (`:` or `.`): `org:57af` reaches `org:57af`, `org:57af:eu` and `org:57af.team`, never
// `org:57af0`. A prefix ending in `*` is a raw string prefix (`org:57af*` reaches
// `org:57af0`), and `*` alone reaches every namespace.

import { PolicyEngineError } from '../errors.js';

export const VERBS = ['read', 'write', 'relations', 'entities', 'preview'] as const;
export type Verb = (typeof VERBS)[number];

export interface Access {
  /** recorded as the actor of every write (credential name or JWT subject) */
  readonly actor: string;
  /** false for a credential scoped to some namespaces or verbs */
  readonly unrestricted: boolean;
  can(verb: Verb): boolean;
  /** may `verb` be done on documents of `namespace`? */
  reaches(verb: Verb, namespace: string): boolean;
}

export function prefixReaches(prefix: string, namespace: string): boolean {
  if (prefix === '*') return true;
  if (prefix.endsWith('*')) return namespace.startsWith(prefix.slice(0, -1));
  if (!namespace.startsWith(prefix)) return false;
  if (namespace.length === prefix.length) return true;
  const next = namespace[prefix.length];
  return next === ':' || next === '.';
}

/** Every verb on every namespace (the root ADMIN_TOKEN, or no token configured on loopback). */
export function unrestrictedAccess(actor: string): Access {
  return { actor, unrestricted: true, can: () => true, reaches: () => true };
}

/**
 * Reads only, of everything (READ_TOKEN): policies and relationships alike. `relations`
 * answers true for relationship reads and the feed; the route guard refuses this
 * token every write before any verb is asked.
 */
export function readOnlyAccess(actor: string): Access {
  return { actor, unrestricted: false, can: (v) => v === 'read' || v === 'relations', reaches: (v) => v === 'read' };
}

export function scopedAccess(actor: string, verbs: readonly Verb[], prefixes: readonly string[]): Access {
  const allowed = new Set(verbs);
  return {
    actor,
    unrestricted: false,
    can: (v) => allowed.has(v),
    reaches: (v, ns) => allowed.has(v) && prefixes.some((p) => prefixReaches(p, ns)),
  };
}

/** Refuse unless the access reaches `namespace` for `verb`. */
export function requireReach(access: Access, verb: Verb, namespaces: Iterable<string>, what: string): void {
  const out = [...new Set(namespaces)].filter((ns) => !access.reaches(verb, ns));
  if (out.length > 0) {
    throw new PolicyEngineError('SCOPE_FORBIDDEN', `credential ${access.actor} may not ${verb} ${what} in namespace${out.length === 1 ? '' : 's'} ${out.slice(0, 20).join(', ')}`, out.slice(0, 50).map((ns) => ({ namespace: ns })));
  }
}
