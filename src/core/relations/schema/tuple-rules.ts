// Which tuples a schema allows: the resource's type must have the relation (a relation,
// not a permission: permissions are computed, never written), and the subject must be
// one the relation lists (`user`, `group#member`, `user:*`). Pure.

import { formatSubject, isWildcard, type Tuple, type TupleFilter } from '../tuple.js';
import type { CompiledSchema } from './types.js';

/** Why the schema does not allow this tuple, or undefined when it does. */
export function checkTuple(schema: CompiledSchema, t: Tuple): string | undefined {
  const type = schema.types.get(t.resource.type);
  if (!type) return `unknown type '${t.resource.type}'`;
  const def = type.defs.get(t.relation);
  if (!def) return `type '${t.resource.type}' has no relation '${t.relation}'`;
  if (def.kind !== 'relation') return `'${t.relation}' is a permission of ${t.resource.type}: it is computed, tuples name relations`;
  const s = t.subject;
  const allowed = isWildcard(s) ? def.wildcard.has(s.type)
    : s.relation !== undefined ? def.usersets.has(`${s.type}#${s.relation}`)
    : def.direct.has(s.type);
  if (allowed) return undefined;
  const kind = isWildcard(s) ? `${s.type}:*` : s.relation !== undefined ? `${s.type}#${s.relation}` : s.type;
  const list = def.allowed.map((a) => (a.kind === 'direct' ? a.type : a.kind === 'userset' ? `${a.type}#${a.relation}` : `${a.type}:*`));
  return `${t.resource.type}#${t.relation} does not allow subject ${formatSubject(s)} (${kind}); it allows ${list.join(', ')}`;
}

/**
 * Why a read filter names what the schema does not know (a type, or a relation of the
 * type, or of any type when none is named), or undefined: such a filter is an error,
 * never an empty page (SPEC §9: never a silent false).
 */
export function checkFilter(schema: CompiledSchema, f: TupleFilter): string | undefined {
  for (const type of [f.resourceType, f.subjectType]) {
    if (type !== undefined && !schema.types.has(type)) return `unknown type '${type}'`;
  }
  if (f.relation !== undefined) {
    const types = f.resourceType !== undefined ? [schema.types.get(f.resourceType)!] : [...schema.types.values()];
    if (!types.some((t) => t.defs.get(f.relation!)?.kind === 'relation')) {
      return f.resourceType !== undefined ? `type '${f.resourceType}' has no relation '${f.relation}'` : `no type has a relation '${f.relation}'`;
    }
  }
  return undefined;
}

/** Stored tuples a new schema would not allow, grouped by relation and reason (capped). */
export function orphanedTuples(schema: CompiledSchema, tuples: Iterable<Tuple>): Array<{ path: string; message: string }> {
  const groups = new Map<string, { count: number; example: Tuple; why: string }>();
  for (const t of tuples) {
    const why = checkTuple(schema, t);
    if (why === undefined) continue;
    const key = `${t.resource.type}.relations.${t.relation}\0${why.replace(/subject \S+ /, '')}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { count: 1, example: t, why });
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).slice(0, 100).map(([key, g]) => ({
    path: key.split('\0')[0]!,
    message: `${g.count} stored tuple(s) would no longer be allowed (${g.why}); e.g. ${g.example.resource.type}:${g.example.resource.id}#${g.example.relation}@${formatSubject(g.example.subject)}`,
  }));
}
