// The filter of a query plan (SPEC §11): `true` / `false`, `and` / `or` / `not`, and
// comparisons `{ op, field, value }` over a resource's fields (`id`, `attributes.<path>`,
// `namespace.<type>`). Two-valued: a comparison is false where its field is missing
// (or null), `exists` says whether it is there. The constructors simplify as they
// build (constant folding, flattening, duplicate removal), so a plan stays readable.

export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'in' | 'exists' | 'contains';

export type Scalar = string | number | boolean;

export interface Comparison {
  readonly op: ComparisonOp;
  readonly field: string;
  /** a scalar; a list of scalars for `in`; a boolean for `exists` */
  readonly value: Scalar | readonly Scalar[];
}

export type Filter =
  | boolean
  | { readonly and: readonly Filter[] }
  | { readonly or: readonly Filter[] }
  | { readonly not: Filter }
  | Comparison;

export const TRUE: Filter = true;
export const FALSE: Filter = false;

export function isComparison(f: Filter): f is Comparison {
  return typeof f === 'object' && 'op' in f;
}

const keys = new WeakMap<object, string>();
let nextId = 0;

/**
 * A key for duplicate detection while building: equal comparisons (and negations of
 * them) get equal keys; an `and` / `or` node is known by identity (the planner reuses
 * its nodes, and structural keys of nested nodes cost the square of the filter's size).
 */
export function filterKey(f: Filter): string {
  if (typeof f === 'boolean') return f ? 'T' : 'F';
  let key = keys.get(f);
  if (key !== undefined) return key;
  if ('not' in f) key = `!${filterKey(f.not)}`;
  else if ('and' in f || 'or' in f) key = `#${nextId++}`;
  else key = JSON.stringify([f.op, f.field, f.value]);
  keys.set(f, key);
  return key;
}

/** Structural equality of two filters. */
export function sameFilter(a: Filter, b: Filter): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export function cmp(op: ComparisonOp, field: string, value: Scalar | readonly Scalar[]): Filter {
  if (op === 'in') {
    const list = [...new Set(value as readonly Scalar[])];
    if (list.length === 0) return false;
    if (list.length === 1) return { op: 'eq', field, value: list[0]! };
    return { op, field, value: list };
  }
  return { op, field, value };
}

export function exists(field: string, present = true): Filter {
  return { op: 'exists', field, value: present };
}

/** Comparisons imply that their field exists: `exists f` beside one is redundant. */
function impliesExists(f: Filter, field: string): boolean {
  return isComparison(f) && f.field === field && f.op !== 'exists';
}

function junction(kind: 'and' | 'or', parts: readonly Filter[]): Filter {
  const unit = kind === 'and';
  const out: Filter[] = [];
  const seen = new Set<string>();
  const push = (p: Filter): boolean => {
    if (p === unit) return true;
    if (p === !unit) return false;
    if (typeof p === 'object' && kind in p) {
      for (const q of (p as unknown as Record<string, Filter[]>)[kind]!) if (!push(q)) return false;
      return true;
    }
    const key = filterKey(p);
    if (seen.has(key)) return true;
    seen.add(key);
    out.push(p);
    return true;
  };
  for (const p of parts) if (!push(p)) return !unit;
  // x and not x = false; x or not x = true
  for (const p of out) if (typeof p === 'object' && 'not' in p && seen.has(filterKey(p.not))) return !unit;
  let kept = out;
  if (kind === 'and') {
    // `exists f and not (f eq v)` is `f ne v`
    const present = new Set(out.filter((p) => isComparison(p) && p.op === 'exists' && p.value === true).map((p) => (p as Comparison).field));
    if (present.size > 0) {
      kept = kept.map((p) => {
        if (typeof p === 'object' && 'not' in p && isComparison(p.not) && p.not.op === 'eq' && present.has(p.not.field)) return cmp('ne', p.not.field, p.not.value);
        return p;
      });
    }
    // `exists f` beside a comparison on f says nothing more
    kept = kept.filter((p) => !(isComparison(p) && p.op === 'exists' && p.value === true && kept.some((q) => impliesExists(q, p.field))));
  }
  if (kept.length === 0) return unit;
  if (kept.length === 1) return kept[0]!;
  return kind === 'and' ? { and: kept } : { or: kept };
}

export function and(...parts: Filter[]): Filter {
  return junction('and', parts);
}

export function or(...parts: Filter[]): Filter {
  return junction('or', parts);
}

export function not(f: Filter): Filter {
  if (typeof f === 'boolean') return !f;
  if ('not' in f) return f.not;
  if (isComparison(f) && f.op === 'exists') return exists(f.field, !(f.value as boolean));
  return { not: f };
}

/** Evaluate a filter against one record (fields read by `get`; undefined and null are missing). Used by tests and the client's recheck. */
export function matches(f: Filter, get: (field: string) => unknown): boolean {
  if (typeof f === 'boolean') return f;
  if ('and' in f) return f.and.every((p) => matches(p, get));
  if ('or' in f) return f.or.some((p) => matches(p, get));
  if ('not' in f) return !matches(f.not, get);
  const v = get(f.field);
  if (f.op === 'exists') return (v !== undefined && v !== null) === f.value;
  if (v === undefined || v === null) return false;
  switch (f.op) {
    case 'eq': return v === f.value;
    case 'ne': return v !== f.value;
    case 'lt': return (v as Scalar) < (f.value as Scalar);
    case 'le': return (v as Scalar) <= (f.value as Scalar);
    case 'gt': return (v as Scalar) > (f.value as Scalar);
    case 'ge': return (v as Scalar) >= (f.value as Scalar);
    case 'in': return (f.value as Scalar[]).includes(v as Scalar);
    case 'contains': return Array.isArray(v) && v.includes(f.value);
  }
}

/** The fields a filter reads. */
export function fieldsOf(f: Filter, into = new Set<string>()): Set<string> {
  if (typeof f === 'boolean') return into;
  if ('and' in f) for (const p of f.and) fieldsOf(p, into);
  else if ('or' in f) for (const p of f.or) fieldsOf(p, into);
  else if ('not' in f) fieldsOf(f.not, into);
  else into.add(f.field);
  return into;
}
