// Reasoning about two comparisons on the same field of a plan's filter (SPEC §11), for
// the simplifier in filter.ts: does one imply the other, can both hold, and can two of
// them be said as one (`x == a or x == b` is `x in [a, b]`). Exact under the filter's
// two-valued meaning: every comparison is false where the field is missing, so each of
// them implies `exists`. Values of different types are never related (PostgreSQL
// coerces a parameter to the column's type, so `1` and `'1'` may be the same there);
// order is only reasoned about for numbers (strings order by code point in CEL and
// SQL's C collation, by UTF-16 unit in JavaScript).

export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'in' | 'exists' | 'contains';

export type Scalar = string | number | boolean;

export interface Comparison {
  readonly op: ComparisonOp;
  readonly field: string;
  /** a scalar; a list of scalars for `in`; a boolean for `exists` */
  readonly value: Scalar | readonly Scalar[];
}

/** Numbers between lo and hi (an `eq` is a point). */
interface Interval {
  lo: number;
  loIn: boolean;
  hi: number;
  hiIn: boolean;
}

function intervalOf(c: Comparison): Interval | undefined {
  const v = c.value;
  if (typeof v !== 'number') return undefined;
  switch (c.op) {
    case 'eq': return { lo: v, loIn: true, hi: v, hiIn: true };
    case 'lt': return { lo: -Infinity, loIn: false, hi: v, hiIn: false };
    case 'le': return { lo: -Infinity, loIn: false, hi: v, hiIn: true };
    case 'gt': return { lo: v, loIn: false, hi: Infinity, hiIn: false };
    case 'ge': return { lo: v, loIn: true, hi: Infinity, hiIn: false };
    default: return undefined;
  }
}

function inInterval(x: number, i: Interval): boolean {
  return (x > i.lo || (x === i.lo && i.loIn)) && (x < i.hi || (x === i.hi && i.hiIn));
}

function within(a: Interval, b: Interval): boolean {
  const loOk = a.lo > b.lo || (a.lo === b.lo && (b.loIn || !a.loIn));
  const hiOk = a.hi < b.hi || (a.hi === b.hi && (b.hiIn || !a.hiIn));
  return loOk && hiOk;
}

function apart(a: Interval, b: Interval): boolean {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  if (lo < hi) return false;
  if (lo > hi) return true;
  return !(inInterval(lo, a) && inInterval(lo, b));
}

/** The values a comparison allows when it is a finite set (`eq`, `in`) of one type. */
function valuesOf(c: Comparison): readonly Scalar[] | undefined {
  if (c.op === 'eq') return [c.value as Scalar];
  if (c.op === 'in') {
    const list = c.value as readonly Scalar[];
    return list.every((x) => typeof x === typeof list[0]) ? list : undefined;
  }
  return undefined;
}

const sameType = (list: readonly Scalar[], v: unknown): boolean => list.length > 0 && typeof list[0] === typeof v;
const isPresent = (c: Comparison): boolean => c.op !== 'exists' || c.value === true;

/** Does `p` imply `q` (both on one field)? Sound, not complete. */
export function comparisonImplies(p: Comparison, q: Comparison): boolean {
  if (p.field !== q.field) return false;
  if (q.op === 'exists') return q.value === true ? isPresent(p) : p.op === 'exists' && p.value === false;
  if (p.op === 'exists' || p.op === 'contains' || q.op === 'contains') return p.op === q.op && p.value === q.value;
  const ps = valuesOf(p);
  if (ps) {
    if (q.op === 'ne') return sameType(ps, q.value) && !ps.includes(q.value as Scalar);
    const qs = valuesOf(q);
    if (qs) return sameType(ps, qs[0]) && ps.every((v) => qs.includes(v));
    const qi = intervalOf(q);
    return qi !== undefined && ps.every((v) => typeof v === 'number' && inInterval(v, qi));
  }
  const pi = intervalOf(p);
  if (!pi) return p.op === q.op && p.value === q.value; // ne
  if (q.op === 'ne') return typeof q.value === 'number' && !inInterval(q.value, pi);
  const qi = intervalOf(q);
  return qi !== undefined && within(pi, qi);
}

/** Can `p` and `q` (one field) never hold together? Sound, not complete. */
export function comparisonsDisjoint(p: Comparison, q: Comparison): boolean {
  if (p.field !== q.field) return false;
  if (p.op === 'exists' && p.value === false) return isPresent(q);
  if (q.op === 'exists' && q.value === false) return isPresent(p);
  if (p.op === 'exists' || q.op === 'exists' || p.op === 'contains' || q.op === 'contains') return false;
  const ps = valuesOf(p);
  const qs = valuesOf(q);
  if (ps && q.op === 'ne') return ps.length === 1 && ps[0] === q.value;
  if (qs && p.op === 'ne') return qs.length === 1 && qs[0] === p.value;
  if (ps && qs) return sameType(ps, qs[0]) && !ps.some((v) => qs.includes(v));
  const pi = intervalOf(p);
  const qi = intervalOf(q);
  if (ps && qi) return ps.every((v) => typeof v === 'number' && !inInterval(v, qi));
  if (qs && pi) return qs.every((v) => typeof v === 'number' && !inInterval(v, pi));
  return pi !== undefined && qi !== undefined && apart(pi, qi);
}

function values(field: string, list: readonly Scalar[]): Comparison | false {
  const unique = [...new Set(list)];
  if (unique.length === 0) return false;
  if (unique.length === 1) return { op: 'eq', field, value: unique[0]! };
  return { op: 'in', field, value: unique };
}

/**
 * `p and q` (one field) as one comparison or `false`, where there is one: `in` lists
 * intersect, an `in` loses the values a `ne` or a range excludes. Undefined: keep both.
 */
export function mergeAnd(p: Comparison, q: Comparison): Comparison | false | undefined {
  if (p.field !== q.field) return undefined;
  const ps = valuesOf(p);
  if (!ps) return valuesOf(q) ? mergeAnd(q, p) : undefined;
  const qs = valuesOf(q);
  if (qs) return sameType(ps, qs[0]) ? values(p.field, ps.filter((v) => qs.includes(v))) : undefined;
  if (q.op === 'ne') return sameType(ps, q.value) ? values(p.field, ps.filter((v) => v !== q.value)) : undefined;
  const qi = intervalOf(q);
  if (qi && ps.every((v) => typeof v === 'number')) return values(p.field, ps.filter((v) => inInterval(v as number, qi)));
  return undefined;
}

/**
 * `p or q` (one field) as one comparison or `true`, where there is one: equalities and
 * `in` lists of one type join into one `in`; `x == v or x != v` is `x exists`; `exists`
 * and its negation cover everything. Undefined: keep both.
 */
export function mergeOr(p: Comparison, q: Comparison): Comparison | true | undefined {
  if (p.field !== q.field) return undefined;
  if (p.op === 'exists' && q.op === 'exists') return p.value === q.value ? p : true;
  const ps = valuesOf(p);
  const qs = valuesOf(q);
  if (ps && qs) return sameType(ps, qs[0]) ? (values(p.field, [...ps, ...qs]) as Comparison) : undefined;
  const ne = p.op === 'ne' ? p : q.op === 'ne' ? q : undefined;
  const other = ne === p ? q : p;
  if (ne && other.op === 'ne' && typeof ne.value === typeof other.value && ne.value !== other.value) return { op: 'exists', field: p.field, value: true };
  if (ne && other.op === 'eq' && other.value === ne.value) return { op: 'exists', field: p.field, value: true };
  return undefined;
}
