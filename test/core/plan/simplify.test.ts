// The filter simplifier (src/core/plan/filter.ts, comparison.ts): one test per rule, and
// the property that matters most — a filter built by the simplifying constructors
// selects exactly the records its unsimplified form selects.
import t from 'tap';
import fc from 'fast-check';
import { and, cmp, exists, matches, not, or, sameFilter, withJunctionMemo, type Filter, type Scalar } from '../../../src/core/plan/filter.js';
import type { ComparisonOp } from '../../../src/core/plan/comparison.js';

const a = cmp('eq', 'attributes.a', 1);
const b = cmp('lt', 'attributes.b', 2);
const c = cmp('eq', 'attributes.c', 'x');
const s = cmp('ne', 'attributes.secret', true);

t.test('duplicates in any order', async (t) => {
  t.same(or(and(a, b), and(b, a)), and(a, b));
  t.ok(sameFilter(and(a, b), and(b, a)));
  t.same(cmp('in', 'id', ['x', 'x']), cmp('eq', 'id', 'x'));
});

t.test('absorption: a part implied by the others goes', async (t) => {
  t.same(or(a, and(a, b)), a);
  t.same(and(a, or(a, b)), a);
  t.same(or(and(or(a, b), s), a, b), or(a, b), '(a ∨ b) ∧ s is implied by a ∨ b');
  t.same(and(cmp('gt', 'attributes.n', 5), cmp('gt', 'attributes.n', 3)), cmp('gt', 'attributes.n', 5));
  t.same(or(cmp('gt', 'attributes.n', 5), cmp('ge', 'attributes.n', 3)), cmp('ge', 'attributes.n', 3));
  t.same(or(exists('attributes.a'), a), exists('attributes.a'), 'a comparison implies exists');
  t.same(and(cmp('eq', 'attributes.a', 1), cmp('ne', 'attributes.a', 2)), a, 'eq 1 implies ne 2');
  t.same(and(cmp('eq', 'attributes.a', 1), not(cmp('eq', 'attributes.a', 2))), a, 'eq 1 implies not eq 2');
});

t.test('contradictions and tautologies', async (t) => {
  t.same(and(cmp('eq', 'attributes.a', 1), cmp('eq', 'attributes.a', 2)), false);
  t.same(and(cmp('lt', 'attributes.n', 3), cmp('ge', 'attributes.n', 3)), false);
  t.same(and(cmp('in', 'attributes.s', ['p', 'q']), cmp('in', 'attributes.s', ['r', 'z'])), false);
  t.same(and(a, exists('attributes.a', false)), false);
  t.same(and(and(a, b), not(a)), false, 'a part and a negation of one of its consequences');
  t.same(or(exists('attributes.a'), exists('attributes.a', false)), true);
  t.same(or(not(a), and(a, b), a), true);
  t.same(or(cmp('eq', 'attributes.s', 'v'), cmp('ne', 'attributes.s', 'v')), exists('attributes.s'), 'x = v ∨ x ≠ v is exists x (missing is neither)');
  t.same(or(cmp('ne', 'attributes.s', 'v'), cmp('ne', 'attributes.s', 'w')), exists('attributes.s'));
});

t.test('same-field merges', async (t) => {
  t.same(or(cmp('eq', 'attributes.s', 'p'), cmp('eq', 'attributes.s', 'q')), cmp('in', 'attributes.s', ['p', 'q']));
  t.same(or(cmp('in', 'attributes.s', ['p', 'q']), b, cmp('eq', 'attributes.s', 'r')), or(cmp('in', 'attributes.s', ['p', 'q', 'r']), b));
  t.same(and(cmp('in', 'attributes.s', ['p', 'q', 'r']), cmp('in', 'attributes.s', ['q', 'r', 'z'])), cmp('in', 'attributes.s', ['q', 'r']));
  t.same(and(cmp('in', 'attributes.s', ['p', 'q']), cmp('ne', 'attributes.s', 'p')), cmp('eq', 'attributes.s', 'q'));
  t.same(and(cmp('in', 'attributes.n', [1, 5, 9]), cmp('gt', 'attributes.n', 4)), cmp('in', 'attributes.n', [5, 9]));
  t.same(and(exists('attributes.a'), not(a)), cmp('ne', 'attributes.a', 1), 'exists ∧ ¬eq is ne');
  t.same(or(cmp('eq', 'attributes.s', 1), cmp('eq', 'attributes.s', '1')), { or: [cmp('eq', 'attributes.s', 1), cmp('eq', 'attributes.s', '1')] }, 'values of different types are not merged');
  t.same(and(cmp('lt', 'attributes.s', 'm'), cmp('lt', 'attributes.s', 'z')), { and: [cmp('lt', 'attributes.s', 'm'), cmp('lt', 'attributes.s', 'z')] }, 'string order is not reasoned about');
});

t.test('each part knowing the others', async (t) => {
  const x = cmp('eq', 'attributes.x', 1);
  const y = cmp('eq', 'attributes.y', 1);
  t.same(and(s, or(and(x, s), y)), and(s, or(x, y)), 'S ∧ ((X ∧ S) ∨ Y) is S ∧ (X ∨ Y)');
  t.same(or(s, and(or(x, s), y)), or(s, and(x, y)), 'S ∨ ((X ∨ S) ∧ Y) is S ∨ (X ∧ Y)');
  const n5 = cmp('gt', 'attributes.n', 5);
  const n3 = cmp('gt', 'attributes.n', 3);
  t.same(and(n5, or(and(x, n3), y)), and(n5, or(x, y)), 'n > 5 ∧ ((X ∧ n > 3) ∨ Y): the inner term holds');
  t.same(and(n3, or(and(x, n5), y)), { and: [n3, { or: [{ and: [x, n5] }, y] }] }, 'n > 3 does not make n > 5 hold');
  t.same(or(n3, and(or(x, n5), y)), or(n3, and(x, y)), 'n > 3 ∨ ((X ∨ n > 5) ∧ Y): the inner term is false');
  t.same(or(n5, and(or(x, n3), y)), { or: [n5, { and: [{ or: [x, n3] }, y] }] }, 'n > 5 false does not make n > 3 false');
  // grants under one repeated revoke: no nesting per step
  let allowed: Filter = false;
  const grants = [a, b, c];
  for (let i = 0; i < 30; i++) allowed = and(or(allowed, grants[i % 3]!), s);
  t.same(allowed, and(or(a, b, c), s));
});

t.test('factoring', async (t) => {
  const x = cmp('eq', 'attributes.x', 1);
  const y = cmp('eq', 'attributes.y', 1);
  t.same(or(and(a, x), and(a, y)), and(a, or(x, y)));
  t.same(and(or(a, x), or(a, y)), or(a, and(x, y)));
  t.same(or(and(a, b, x), and(a, b, y), c), or(and(a, b, or(x, y)), c));
});

t.test('big junctions stay linear: no pairwise work past the bound', async (t) => {
  const many = Array.from({ length: 5000 }, (_, i) => and(cmp('eq', 'namespace.org', `o${i}`), cmp('eq', 'attributes.owner', `u${i}`)));
  const f = or(...many);
  t.equal((f as { or: Filter[] }).or.length, 5000);
});

// ---- the property: simplified ≡ unsimplified

const FIELDS = ['attributes.a', 'attributes.b', 'attributes.n'];
const VALUES: Scalar[] = [0, 1, 2, 3, 'p', 'q', true, false];

const comparison = fc.tuple(fc.constantFrom<ComparisonOp>('eq', 'ne', 'lt', 'le', 'gt', 'ge', 'in', 'exists'), fc.constantFrom(...FIELDS), fc.constantFrom(...VALUES), fc.subarray(VALUES, { minLength: 2, maxLength: 4 }), fc.boolean())
  .map(([op, field, v, list, present]): Filter => {
    if (op === 'exists') return { op, field, value: present };
    if (op === 'in') {
      // one type per list, as a condition's list is
      const same = list.filter((x) => typeof x === typeof list[0]);
      return same.length > 1 ? { op, field, value: same } : { op: 'eq', field, value: same[0]! };
    }
    if (op !== 'eq' && op !== 'ne' && typeof v !== 'number') return { op: 'eq', field, value: v };
    return { op, field, value: v };
  });

/** A tree of raw nodes (no simplification) — the meaning to keep. */
const raw: fc.Arbitrary<Filter> = fc.letrec((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    { weight: 5, arbitrary: comparison },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: tie('f').map((x) => ({ not: x as Filter })) },
    { weight: 2, arbitrary: fc.array(tie('f'), { minLength: 1, maxLength: 4 }).map((xs) => ({ and: xs as Filter[] })) },
    { weight: 2, arbitrary: fc.array(tie('f'), { minLength: 1, maxLength: 4 }).map((xs) => ({ or: xs as Filter[] })) },
  ),
})).f as fc.Arbitrary<Filter>;

function rebuild(f: Filter): Filter {
  if (typeof f === 'boolean') return f;
  if ('and' in f) return and(...f.and.map(rebuild));
  if ('or' in f) return or(...f.or.map(rebuild));
  if ('not' in f) return not(rebuild(f.not));
  return f.op === 'in' ? cmp('in', f.field, f.value as Scalar[]) : f;
}

const record = fc.record({ 'attributes.a': fc.option(fc.constantFrom(...VALUES), { nil: undefined }), 'attributes.b': fc.option(fc.constantFrom(...VALUES), { nil: undefined }), 'attributes.n': fc.option(fc.constantFrom(0, 1, 2, 3, 4, -1), { nil: undefined }) });

t.test('a simplified filter selects exactly what its unsimplified form selects', async (t) => {
  let simplified = 0;
  fc.assert(fc.property(raw, fc.array(record, { minLength: 20, maxLength: 20 }), (f, records) => {
    const g = rebuild(f);
    if (JSON.stringify(g).length < JSON.stringify(f).length) simplified++;
    for (const r of records) {
      const get = (field: string) => (r as Record<string, unknown>)[field];
      if (matches(f, get) !== matches(g, get)) throw new Error(`${JSON.stringify(f)}\n→ ${JSON.stringify(g)}\ndiffers on ${JSON.stringify(r)}`);
    }
  }), { numRuns: 3000, seed: 4242 });
  t.ok(simplified > 1000, `${simplified} of 3000 filters got smaller`);
});

// ---- the same property while a plan is made (withJunctionMemo: comparison nodes shared,
// junction keys short ids), with values that hold the characters keys are made of

const HOSTILE: Scalar[] = ['a', 'a,b', 's1:a', '1:a,', 'eq\u0000attributes.a\u0000s1:a', ',', ')', '#0', '&(#0,#1)', 'b', 1, 11, true];

const hostileComparison = fc.tuple(fc.constantFrom<ComparisonOp>('eq', 'ne', 'in', 'exists'), fc.constantFrom(...FIELDS), fc.constantFrom(...HOSTILE), fc.subarray(HOSTILE.filter((x) => typeof x === 'string'), { minLength: 2, maxLength: 4 }), fc.boolean())
  .map(([op, field, v, list, present]): Filter => (op === 'exists' ? { op, field, value: present } : op === 'in' ? { op, field, value: list } : { op, field, value: v }));

const hostileRaw: fc.Arbitrary<Filter> = fc.letrec((tie) => ({
  f: fc.oneof(
    { depthSize: 'small' },
    { weight: 5, arbitrary: hostileComparison },
    { weight: 1, arbitrary: tie('f').map((x) => ({ not: x as Filter })) },
    { weight: 2, arbitrary: fc.array(tie('f'), { minLength: 1, maxLength: 4 }).map((xs) => ({ and: xs as Filter[] })) },
    { weight: 2, arbitrary: fc.array(tie('f'), { minLength: 1, maxLength: 4 }).map((xs) => ({ or: xs as Filter[] })) },
  ),
})).f as fc.Arbitrary<Filter>;

const hostileRecord = fc.record({ 'attributes.a': fc.option(fc.constantFrom(...HOSTILE), { nil: undefined }), 'attributes.b': fc.option(fc.constantFrom(...HOSTILE), { nil: undefined }), 'attributes.n': fc.option(fc.constantFrom(...HOSTILE), { nil: undefined }) });

t.test('within one plan (short keys, shared nodes) and with separator-laden values, simplified ≡ unsimplified', async (t) => {
  fc.assert(fc.property(fc.array(hostileRaw, { minLength: 1, maxLength: 4 }), fc.array(hostileRecord, { minLength: 20, maxLength: 20 }), (fs, records) => {
    // several filters in one scope, then combined: keys made for one are reused by the others
    const built = withJunctionMemo(() => {
      const gs = fs.map(rebuild);
      return [...gs, or(...gs), and(...gs)];
    });
    const want = [...fs, { or: fs }, { and: fs }];
    for (const r of records) {
      const get = (field: string) => (r as Record<string, unknown>)[field];
      want.forEach((f, i) => {
        if (matches(f, get) !== matches(built[i]!, get)) throw new Error(`${JSON.stringify(f)}\n→ ${JSON.stringify(built[i])}\ndiffers on ${JSON.stringify(r)}`);
      });
    }
  }), { numRuns: 3000, seed: 4243 });
  withJunctionMemo(() => {
    // joined naively, these two junctions' parts would read the same
    const x = and(cmp('eq', 'attributes.a', 'p'), cmp('eq', 'attributes.b', 'q,r'));
    const y = and(cmp('eq', 'attributes.a', 'p,q'), cmp('eq', 'attributes.b', 'r'));
    t.notOk(sameFilter(x, y));
    const n = cmp('eq', 'attributes.n', 'z');
    t.notOk(sameFilter(and(cmp('eq', 'attributes.a', 'p,eq\u0000attributes.b\u0000sq'), n), and(cmp('eq', 'attributes.a', 'p'), cmp('eq', 'attributes.b', 'q'), n)));
    t.notOk(sameFilter(cmp('in', 'attributes.a', ['a', 'b,c']), cmp('in', 'attributes.a', ['a,b', 'c'])));
    t.ok(sameFilter(and(x, y), and(y, x)));
  });
  t.pass('3000 cases');
});
