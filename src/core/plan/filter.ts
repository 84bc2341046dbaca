// The filter of a query plan (SPEC §11): `true` / `false`, `and` / `or` / `not`, and
// comparisons `{ op, field, value }` over a resource's fields (`id`, `attributes.<path>`,
// `namespace.<type>`). Two-valued: a comparison is false where its field is missing
// (or null), `exists` says whether it is there. The constructors simplify as they
// build (constant folding, flattening, duplicates, implied parts, same-field merges,
// common parts factored out: comparison.ts reasons about two comparisons), so the
// filter a person reads and the database runs stays small.

import { comparisonImplies, comparisonsDisjoint, mergeAnd, mergeOr, type Comparison, type ComparisonOp, type Scalar } from './comparison.js';

export type { Comparison, ComparisonOp, Scalar } from './comparison.js';

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

/** A node's key, kept on the node (not enumerable: JSON and deep equality do not see it). */
const KEY = Symbol('filterKey');
/** Keys of nodes that cannot take a property (frozen). */
const keys = new WeakMap<object, string>();

/**
 * A comparison's key. A scalar's text is length-prefixed (a value may hold any character,
 * so the key of a junction, its parts' keys joined, stays injective); fields are plain
 * names, else the JSON form. Op names are lowercase words: no key of another kind
 * ('T', 'F', '!…', '&(…', '|(…', '#…', '[…') starts like one.
 */
function comparisonKey(op: ComparisonOp, field: string, value: Scalar | readonly Scalar[]): string {
  if (!field.includes('\u0000')) {
    if (op !== 'in') {
      const v = scalarKey(value as Scalar);
      if (v !== undefined) return `${op}\u0000${field}\u0000${v}`;
    } else if (Array.isArray(value)) {
      const items: string[] = [];
      for (const x of value as readonly Scalar[]) {
        const v = scalarKey(x);
        if (v === undefined) return JSON.stringify([op, field, [...(value as Scalar[])].sort()]);
        items.push(v);
      }
      return `in\u0000${field}\u0000${items.sort().join('')}`;
    }
  }
  return JSON.stringify([op, field, op === 'in' ? [...(value as Scalar[])].sort() : value]);
}

/** A scalar's text, self-delimiting: strings length-prefixed, numbers and booleans ended by ';' (which their text never holds). */
function scalarKey(v: Scalar): string | undefined {
  if (typeof v === 'string') return `s${v.length}:${v}`;
  if (typeof v === 'number') return `n${String(v)};`;
  if (typeof v === 'boolean') return v ? 'b1;' : 'b0;';
  return undefined;
}

function shapeKey(f: Filter): string {
  if (typeof f === 'boolean') return f ? 'T' : 'F';
  if ('not' in f) return `!${filterKey(f.not)}`;
  if ('and' in f) return `&(${f.and.map(filterKey).sort().join(',')})`;
  if ('or' in f) return `|(${f.or.map(filterKey).sort().join(',')})`;
  return comparisonKey(f.op, f.field, f.value);
}

/**
 * A structural key: equal filters get equal keys, and so do junctions that differ only
 * in the order of their parts. Remembered per node (the planner reuses its nodes), so a
 * node's key costs the size of its key, once. While a plan is made (withJunctionMemo),
 * a junction's or negation's key is a short id standing for its structure in that plan
 * (hash-consing), so keys and the junction memo's keys stay short however deep the
 * filter grows; the ids and the nodes' keys live only as long as the plan.
 */
export function filterKey(f: Filter): string {
  if (typeof f === 'boolean') return f ? 'T' : 'F';
  let key = (f as { [KEY]?: string })[KEY] ?? keys.get(f);
  if (key !== undefined) return key;
  if (scope) {
    key = scope.keyOf.get(f);
    if (key !== undefined) return key;
    key = shapeKey(f);
    if (!isComparison(f)) {
      let id = scope.ids.get(key);
      if (id === undefined) scope.ids.set(key, (id = `#${scope.ids.size}`));
      key = id;
    }
    scope.keyOf.set(f, key);
    return key;
  }
  key = shapeKey(f);
  if (Object.isExtensible(f)) Object.defineProperty(f, KEY, { value: key });
  else keys.set(f, key);
  return key;
}

/** Structural equality of two filters (junctions in any order). */
export function sameFilter(a: Filter, b: Filter): boolean {
  return a === b || filterKey(a) === filterKey(b);
}

export function cmp(op: ComparisonOp, field: string, value: Scalar | readonly Scalar[]): Filter {
  if (op === 'in') {
    const list = [...new Set(value as readonly Scalar[])];
    if (list.length === 0) return false;
    if (list.length === 1) return leaf('eq', field, list[0]!);
    return leaf(op, field, list);
  }
  return leaf(op, field, value);
}

/** A scalar comparison; while a plan is made, one node per distinct comparison (its key computed once). */
function leaf(op: ComparisonOp, field: string, value: Scalar | readonly Scalar[]): Comparison {
  if (!scope) return { op, field, value };
  const key = comparisonKey(op, field, value);
  let node = scope.leaves.get(key);
  if (node === undefined) {
    node = { op, field, value };
    scope.leaves.set(key, node);
    scope.keyOf.set(node, key);
  }
  return node;
}

export function exists(field: string, present = true): Filter {
  return leaf('exists', field, present);
}

// ---- implication, bounded: a junction's simplification gives up (keeps what it has) when its budget runs out

interface Budget {
  steps: number;
}

/** Junction parts compared pairwise at most (a wildcard plan's branches can be many). */
const PAIRWISE_MAX = 64;
const STEPS_PER_JUNCTION = 20_000;

/** Does `p` imply `q`? Sound, not complete; false when the budget runs out. */
function implies(p: Filter, q: Filter, b: Budget): boolean {
  if (--b.steps < 0) return false;
  if (p === false || q === true || p === q) return true;
  if (p === true || q === false) return false;
  if ('or' in p) return p.or.every((x) => implies(x, q, b));
  if ('and' in q) return q.and.every((x) => implies(p, x, b));
  if (isComparison(p) && isComparison(q)) return comparisonImplies(p, q);
  if (filterKey(p) === filterKey(q)) return true;
  if ('and' in p && p.and.some((x) => implies(x, q, b))) return true;
  if ('or' in q && q.or.some((x) => implies(p, x, b))) return true;
  if ('not' in q) return 'not' in p ? implies(q.not, p.not, b) : disjoint(p, q.not, b);
  return false;
}

/** Can `p` and `q` never hold together? Sound, not complete. */
function disjoint(p: Filter, q: Filter, b: Budget): boolean {
  if (--b.steps < 0) return false;
  if (p === false || q === false) return true;
  if (p === true || q === true) return false;
  if ('or' in p) return p.or.every((x) => disjoint(x, q, b));
  if ('or' in q) return q.or.every((x) => disjoint(p, x, b));
  if ('and' in p && p.and.some((x) => disjoint(x, q, b))) return true;
  if ('and' in q && q.and.some((x) => disjoint(p, x, b))) return true;
  if (isComparison(p) && isComparison(q)) return comparisonsDisjoint(p, q);
  if ('not' in p) return implies(q, p.not, b);
  if ('not' in q) return implies(p, q.not, b);
  return false;
}

// ---- junctions

type Kind = 'and' | 'or';

const partsOf = (f: Filter, kind: Kind): readonly Filter[] | undefined =>
  typeof f === 'object' && kind in f ? (f as unknown as Record<Kind, readonly Filter[]>)[kind] : undefined;

function build(kind: Kind, parts: readonly Filter[]): Filter {
  if (parts.length === 0) return kind === 'and';
  if (parts.length === 1) return parts[0]!;
  return kind === 'and' ? { and: parts } : { or: parts };
}

/**
 * Comparisons on one field said as one where they can be (`x == a or x in [b, c]` is
 * `x in [a, b, c]`; `x in [a, b] and x != a` is `x == b`), and `exists x and not (x == v)`
 * as `x != v`. Returns a boolean when the junction folds to one.
 */
function mergeFields(kind: Kind, list: Filter[]): Filter[] | boolean {
  if (kind === 'and') {
    const present = new Set<string>();
    for (const p of list) if (isComparison(p) && p.op === 'exists' && p.value === true) present.add(p.field);
    if (present.size > 0) {
      list = list.map((p) => (typeof p === 'object' && 'not' in p && isComparison(p.not) && p.not.op === 'eq' && present.has(p.not.field) ? cmp('ne', p.not.field, p.not.value) : p));
    }
  }
  const byField = new Map<string, number>();
  const out: Filter[] = [];
  for (const p of list) {
    if (!isComparison(p)) {
      out.push(p);
      continue;
    }
    const at = byField.get(p.field);
    if (at !== undefined) {
      const prev = out[at] as Comparison;
      const m = kind === 'and' ? mergeAnd(prev, p) : mergeOr(prev, p);
      if (m === false) return false;
      if (m === true) return true;
      if (m !== undefined) {
        out[at] = m;
        continue;
      }
    }
    byField.set(p.field, out.length);
    out.push(p);
  }
  return out as Filter[];
}

/**
 * A part common to several parts of the junction, taken out:
 * `(a and b) or (a and c)` is `a and (b or c)`, and dually. Undefined when none is.
 */
function factor(kind: Kind, list: readonly Filter[]): Filter | undefined {
  const inner: Kind = kind === 'and' ? 'or' : 'and';
  const count = new Map<string, number>();
  for (const p of list) {
    const parts = partsOf(p, inner);
    if (!parts) continue;
    for (const k of new Set(parts.map(filterKey))) count.set(k, (count.get(k) ?? 0) + 1);
  }
  let best: string | undefined;
  let most = 1;
  for (const [k, n] of count) if (n > most) [best, most] = [k, n];
  if (best === undefined) return undefined;
  let common: Filter | undefined;
  const rests: Filter[] = [];
  const others: Filter[] = [];
  for (const p of list) {
    const parts = partsOf(p, inner);
    const hit = parts?.find((x) => filterKey(x) === best);
    if (!parts || hit === undefined) {
      others.push(p);
      continue;
    }
    common ??= hit;
    rests.push(junction(inner, parts.filter((x) => filterKey(x) !== best)));
  }
  return junction(kind, [junction(inner, [common!, junction(kind, rests)]), ...others]);
}

/**
 * Parts implied by the others (in an `and`) or implying the others (in an `or`) go:
 * `a or (a and b)` is `a`, `a and (a or b)` is `a`, `x > 5 and x > 3` is `x > 5`.
 * An `and` with two parts that cannot hold together is `false`; an `or` with a part
 * and one its negation implies is `true`.
 */
function dropImplied(kind: Kind, list: Filter[], b: Budget): Filter[] | boolean {
  if (list.length > PAIRWISE_MAX) return list;
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      const [p, q] = [list[i]!, list[j]!];
      if (kind === 'and' ? disjoint(p, q, b) : complementary(p, q, b)) return kind === 'or';
    }
  }
  let kept = list;
  for (let j = kept.length - 1; j >= 0 && kept.length > 1; j--) {
    const others = kept.filter((_, i) => i !== j);
    const rest = build(kind, others);
    if (kind === 'and' ? implies(rest, kept[j]!, b) : implies(kept[j]!, rest, b)) kept = others;
  }
  return kept;
}

/**
 * Each part simplified in the context of the others: in `S and ((X and S) or Y)` the
 * inner `S` is known to hold, so it is `S and (X or Y)`; dually, in `S or ((X or S) and Y)`
 * the inner `S` is known to be false, so it is `S or (X and Y)`. This is what keeps a
 * chain of grants under one repeated revoke from nesting once per document. One level
 * deep; the rebuilt parts simplify as they are built.
 */
function inContext(kind: Kind, list: Filter[], b: Budget): Filter[] {
  if (list.length > PAIRWISE_MAX) return list;
  const inner: Kind = kind === 'and' ? 'or' : 'and';
  // one part at a time, against the others as they are now (rewriting two parts each
  // against the other's old form at once would not be sound)
  let out = list;
  for (let i = 0; i < out.length; i++) {
    const alternatives = partsOf(out[i]!, inner);
    if (!alternatives) continue;
    const others = out.filter((_, j) => j !== i);
    // in an and, a term another part implies holds here; in an or, a term implying another part is false here
    const known = (t: Filter) => others.some((o) => (kind === 'and' ? implies(o, t, b) : implies(t, o, b)));
    let touched = false;
    const rewritten = alternatives.map((alt) => {
      const terms = partsOf(alt, kind);
      if (!terms) return alt;
      const left = terms.filter((t) => !known(t));
      if (left.length === terms.length) return alt;
      touched = true;
      return junction(kind, left);
    });
    if (touched) out = out.map((p, j) => (j === i ? junction(inner, rewritten) : p));
  }
  return out;
}

/** Does `p or q` always hold? (one is a negation the other implies) */
function complementary(p: Filter, q: Filter, b: Budget): boolean {
  if (typeof p === 'object' && 'not' in p && implies(p.not, q, b)) return true;
  if (typeof q === 'object' && 'not' in q && implies(q.not, p, b)) return true;
  return false;
}

/** Adds `p` to a junction's parts (nested junctions of its kind flattened, duplicates dropped); false when it decides the junction. */
function flatten(kind: Kind, p: Filter, out: Filter[], keys: string[], seen: Set<string>): boolean {
  if (typeof p === 'boolean') return p === (kind === 'and');
  const nested = partsOf(p, kind);
  if (nested) {
    for (const q of nested) if (!flatten(kind, q, out, keys, seen)) return false;
    return true;
  }
  const key = filterKey(p);
  if (seen.has(key)) return true;
  seen.add(key);
  out.push(p);
  keys.push(key);
  return true;
}

function junction(kind: Kind, parts: readonly Filter[]): Filter {
  const out: Filter[] = [];
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const p of parts) if (!flatten(kind, p, out, keys, seen)) return kind !== 'and';
  if (out.length <= 1) return build(kind, out);
  // the same junction again within one plan (a fold repeats its steps per document): its result
  const memoKey = scope ? `${kind}\u0001${keys.join('\u0002')}` : undefined;
  if (memoKey !== undefined) {
    const known = scope!.memo.get(memoKey);
    if (known !== undefined) return known;
  }
  const made = simplified(kind, out);
  if (memoKey !== undefined && scope!.memo.size < MEMO_MAX) scope!.memo.set(memoKey, made);
  return made;
}

/** A flattened junction of two or more distinct parts, simplified. */
function simplified(kind: Kind, out: Filter[]): Filter {
  const merged = mergeFields(kind, out);
  if (typeof merged === 'boolean') return merged;
  const budget = { steps: STEPS_PER_JUNCTION };
  const kept = dropImplied(kind, inContext(kind, merged, budget), budget);
  if (typeof kept === 'boolean') return kept;
  // something changed: the new parts may simplify further (each round has fewer parts or no new ones)
  if (kept.length > 1 && (kept.length < out.length || kept.some((p, i) => p !== out[i]))) return junction(kind, kept);
  return factor(kind, kept) ?? build(kind, kept);
}

/** While a plan is made (withJunctionMemo): junction results by their parts' keys, ids of structures, keys of nodes, comparison nodes. */
interface Scope {
  memo: Map<string, Filter>;
  ids: Map<string, string>;
  keyOf: Map<object, string>;
  leaves: Map<string, Comparison>;
}
let scope: Scope | undefined;
const MEMO_MAX = 10_000;

/**
 * Runs `fn` with junctions remembered by their parts' structure: a plan's fold builds the
 * same junctions once per document. Scoped to one plan (nested calls share the outer
 * scope; nothing is kept across requests); exact, since a junction's result is
 * equivalent to its parts whatever form it was simplified to. Filters made in one scope
 * compare structurally in another (a key from an earlier scope is never reused: it
 * lives in that scope's maps only).
 */
export function withJunctionMemo<T>(fn: () => T): T {
  if (scope) return fn();
  scope = { memo: new Map(), ids: new Map(), keyOf: new Map(), leaves: new Map() };
  try {
    return fn();
  } finally {
    scope = undefined;
  }
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
