// Property: equal decision-cache keys ⇒ equal decisions (issue 16 item 1). Random
// conditions from a small grammar over context / subject / resource paths (dotted keys,
// has(), comparisons, `in`, size(), comprehensions, dynamic indexes, type()), and random
// pairs of inputs from a small domain (so that keys often collide) holding what JSON
// and the JavaScript engine tell apart with difficulty: missing / null, ±Infinity, NaN,
// -0, ints / doubles / "1", key order, dotted keys beside nested ones. For each pair with
// equal identity digests (same subject id, same path: the rest of the key), the two
// evaluations must decide alike. A second property does the same with a registry (typed
// inputs: numbers stay doubles, datetimes become Dates, null counts as missing). Shared by the test (test/cache/cache-key-property.test.ts)
// and the longer run (scripts/cache-key-property.ts).
import fc from 'fast-check';
import { identityDigest } from '../../src/cache/decision-cache.js';
import { compilePolicy } from '../../src/core/compile/compile-policy.js';
import { buildPlan, evaluatePlan } from '../../src/core/evaluate/plan.js';
import type { Decision } from '../../src/core/evaluate/types.js';
import { compileRegistry } from '../../src/core/registry/compile-registry.js';
import type { RegistryDocument } from '../../src/core/registry/types.js';
import { typeInputs } from '../../src/core/evaluate/typed-inputs.js';

// ------------------------------------------------------------------ conditions

/** Paths a condition can read (field selections, string and dynamic indexes). */
const SELECT_PATHS = [
  'context.a', 'context.b', 'context.x', 'context.a.b', 'context.a.a',
  'subject.attributes.a', 'subject.attributes.a.b', 'resource.attributes.a', 'resource.attributes.b',
];
const INDEX_PATHS = [
  'context["a.b"]', 'context["a"]', 'subject.attributes["a.b"]', 'resource.attributes["a.b"]', 'context.a["b"]',
  'context[context.x]', 'context.a[context.x]', 'context.a[0]', 'context.a[1]', 'subject.attributes[context.x]',
  'resource["attributes"]["a"]', 'subject.id', 'resource.id', 'dyn(context).a', 'subject.roles', 'subject.groups', 'subject.roles[0]',
];
const LITERALS = ['1', '0', '1.0', '0.0', '5.0', '-1.0', '"1"', '"a"', '"a.b"', 'true', 'false', 'null', '[]', '{}', '[1]', '"u"'];

const path = fc.constantFrom(...SELECT_PATHS, ...INDEX_PATHS);
const selectPath = fc.constantFrom(...SELECT_PATHS);
const literal = fc.constantFrom(...LITERALS);

const atom: fc.Arbitrary<string> = fc.oneof(
  selectPath.map((p) => `has(${p})`),
  fc.tuple(path, fc.constantFrom('==', '!=', '<', '>', '>='), literal).map(([p, op, l]) => `${p} ${op} ${l}`),
  fc.tuple(path, path).map(([p, q]) => `${p} == ${q}`),
  fc.tuple(literal, path).map(([l, p]) => `${l} in ${p}`),
  fc.tuple(path, fc.constantFrom('> 0', '== 1', '== 2')).map(([p, c]) => `size(${p}) ${c}`),
  fc.tuple(path, literal).map(([p, l]) => `${p}.exists(v, v == ${l})`),
  fc.tuple(path, literal).map(([p, l]) => `${p}.all(v, v != ${l})`),
  path.map((p) => `${p}.map(k, k)[0] == "a"`),
  fc.tuple(path, literal).map(([p, l]) => `${p}.filter(v, v == ${l}).size() == 1`),
  fc.tuple(path, fc.constantFrom('int', 'double', 'string', 'bool', 'null_type', 'list', 'map')).map(([p, ty]) => `type(${p}) == ${ty}`),
  path.map((p) => `1.0 / ${p} < 0.0`),
  fc.tuple(path, fc.constantFrom('"1"', '"-0"', '"0"', '"+Inf"', '"-Inf"', '"NaN"', '"1.5"', '"true"')).map(([p, s]) => `string(${p}) == ${s}`),
  fc.constantFrom('"a.b" in context', '"a" in context', '"b" in context.a', 'size(context) == 2', 'context.a != context.b', 'has(context.a) && !has(context.b)',
    '"a" in subject.roles', 'subject.roles == ["a", "b"]'),
  // bound variables named like the roots, and cel.bind
  fc.tuple(path, literal).map(([p, l]) => `${p}.exists(context, context == ${l})`),
  fc.tuple(path, literal).map(([p, l]) => `cel.bind(x, ${p}, x == ${l})`),
  fc.tuple(path, literal).map(([p, l]) => `cel.bind(context, ${p}, context.a == ${l})`),
  fc.tuple(path, literal).map(([p, l]) => `cel.bind(subject, context, subject.attributes == ${l} || ${p} == ${l})`),
);

export const condition: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    atom,
    tie('expr').map((e) => `!(${e})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(${a}) && (${b})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(${a}) || (${b})`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([a, b, c]) => `(${a}) ? (${b}) : (${c})`),
  ),
})).expr;

// ------------------------------------------------------------------ inputs

const SCALARS: unknown[] = [null, true, false, 0, -0, 1, 1.5, -1, 5, Infinity, -Infinity, NaN, '1', 'a', 'a.b', '', 'u', 2 ** 53, 2 ** 53 + 2];
const scalar = fc.constantFrom(...SCALARS);
const KEYS = ['a', 'b', 'x', 'a.b', '0', '1'];
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 3 }),
    // the same entries in the other order
    fc.constantFrom<unknown>({ a: 1, b: 2 }, { b: 2, a: 1 }, { a: { b: true } }, { 'a.b': true }, ['a', 'b'], ['b', 'a']),
  ),
})).v;
const record = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4, noNullPrototype: true });

export interface Inputs {
  context: Record<string, unknown>;
  subject: Record<string, unknown>;
  resource: Record<string, unknown>;
  roles: string[];
}
const inputs: fc.Arbitrary<Inputs> = fc.record({ context: record, subject: record, resource: record, roles: fc.constantFrom([], ['a'], ['a', 'b'], ['b', 'a'], ['a', 'a']) });

type Edit = { scope: 'context' | 'subject' | 'resource'; key: string; op: 'set' | 'delete' | 'reverse'; value: unknown };
const edit: fc.Arbitrary<Edit> = fc.record({
  scope: fc.constantFrom<Edit['scope']>('context', 'subject', 'resource'),
  key: fc.constantFrom(...KEYS),
  op: fc.constantFrom<Edit['op']>('set', 'delete', 'reverse'),
  value,
});

function applyEdits(base: Inputs, edits: readonly Edit[]): Inputs {
  const out: Inputs = { context: { ...base.context }, subject: { ...base.subject }, resource: { ...base.resource }, roles: base.roles };
  for (const e of edits) {
    const target = out[e.scope];
    if (e.op === 'set') target[e.key] = e.value;
    else if (e.op === 'delete') delete target[e.key];
    else out[e.scope] = Object.fromEntries(Object.entries(target).reverse());
  }
  return out;
}

/** Pairs: often the second is the first with a few edits (keys then collide often), else independent. */
export const inputPair: fc.Arbitrary<[Inputs, Inputs]> = fc.oneof(
  { arbitrary: fc.tuple(inputs, fc.array(edit, { minLength: 1, maxLength: 2 })).map(([a, edits]): [Inputs, Inputs] => [a, applyEdits(a, edits)]), weight: 3 },
  { arbitrary: fc.tuple(inputs, inputs), weight: 1 },
);

// ------------------------------------------------------------------ the property

export interface PropertyStats {
  runs: number;
  /** conditions that did not compile (skipped) */
  invalid: number;
  /** pairs whose keys were equal (where the property says something) */
  equalKeys: number;
  /** of those, pairs whose inputs differ */
  equalKeysDifferentInputs: number;
}

function summary(d: Decision): string {
  return JSON.stringify({ p: d.permissions, d: d.denied, e: d.exact, x: d.default, a: d.applied.map((r) => r.id), c: d.conditionErrors ?? [] });
}

function toRequest(i: Inputs) {
  return {
    subject: { id: 'user:u', roles: i.roles, groups: [], attributes: i.subject },
    context: i.context,
    resource: { type: 'doc', id: 'd', attributes: i.resource },
  };
}

const compiled = new Map<string, ReturnType<typeof buildPlan> | undefined>();

/** The plan of one document: a rule per condition (grant), the first as a predicate, also used by a deny. */
function planFor(conds: readonly string[]): ReturnType<typeof buildPlan> | undefined {
  const key = JSON.stringify(conds);
  if (compiled.has(key)) return compiled.get(key);
  const r = compilePolicy({
    key: 'global-p',
    predicates: { p0: conds[0]! },
    rules: [
      // the first condition through its predicate (each condition compiled once)
      ...conds.map((when, i) => ({ id: `g${i}`, subjects: ['*'], when: i === 0 ? 'p0' : when, grant: [`g${i}:x`] })),
      { id: 'd', subjects: ['*'], when: 'p0', deny: ['g1:x'] },
    ],
  });
  const plan = r.ok ? buildPlan([r.policy]) : undefined;
  if (compiled.size > 5000) compiled.clear();
  compiled.set(key, plan);
  return plan;
}

export function keyProperty(stats: PropertyStats) {
  return fc.property(fc.array(condition, { minLength: 1, maxLength: 2 }), inputPair, (conds, [a, b]) => {
    stats.runs++;
    const plan = planFor(conds);
    if (!plan) {
      stats.invalid++;
      return true;
    }
    const ra = toRequest(a);
    const rb = toRequest(b);
    const ka = identityDigest(ra, plan.reads, 0);
    const kb = identityDigest(rb, plan.reads, 0);
    if (ka !== kb) return true;
    stats.equalKeys++;
    const opts = { defaultPermissions: [] as string[], now: new Date(0) };
    const da = summary(evaluatePlan(plan, { ...ra, namespaces: ['global'] }, opts));
    const db = summary(evaluatePlan(plan, { ...rb, namespaces: ['global'] }, opts));
    if (fc.stringify(a) !== fc.stringify(b)) stats.equalKeysDifferentInputs++;
    if (da !== db) throw new Error(`equal keys, different decisions:\n  key ${ka}\n  ${da}\n  ${db}`);
    return true;
  });
}

export function newStats(): PropertyStats {
  return { runs: 0, invalid: 0, equalKeys: 0, equalKeysDifferentInputs: 0 };
}

// ------------------------------------------------------------------ with a registry

// Registry-typed inputs reach conditions validated, not converted: numbers stay doubles
// (so -0 and 0 differ: `1.0 / x`), null is dropped like a missing key, datetimes are Dates.
const REGISTRY = compileRegistry({
  key: 'global-attributes', kind: 'registry',
  subject: { n: { type: 'number' }, since: { type: 'datetime' } },
  context: { a: { type: 'number' }, b: { type: 'string' }, l: { type: 'string_list' }, f: { type: 'bool' } },
  resource: { s: { type: 'string' }, n: { type: 'number' } },
} as RegistryDocument);
if (!REGISTRY.ok) throw new Error(JSON.stringify(REGISTRY.errors));
const registry = REGISTRY.registry;

const NUMBER_PATHS = ['context.a', 'subject.attributes.n', 'resource.attributes.n'];
const STRING_PATHS = ['context.b', 'resource.attributes.s'];
const typedAtom: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('context.a', 'context.b', 'context.l', 'context.f', 'subject.attributes.n', 'subject.attributes.since', 'resource.attributes.s', 'resource.attributes.n').map((p) => `has(${p})`),
  fc.tuple(fc.constantFrom(...NUMBER_PATHS), fc.constantFrom('==', '<', '>'), fc.constantFrom('0.0', '1.0', '-1.0', '5.0', '1.5')).map(([p, op, l]) => `${p} ${op} ${l}`),
  fc.constantFrom(...NUMBER_PATHS).map((p) => `1.0 / ${p} < 0.0`),
  fc.tuple(fc.constantFrom(...NUMBER_PATHS), fc.constantFrom('"0"', '"-0"', '"1"', '"1.5"', '"9007199254740992"')).map(([p, s]) => `string(${p}) == ${s}`),
  fc.tuple(fc.constantFrom(...NUMBER_PATHS), fc.constantFrom(...NUMBER_PATHS)).map(([p, q]) => `${p} == ${q}`),
  fc.tuple(fc.constantFrom(...STRING_PATHS), fc.constantFrom('""', '"a"', '"1"', '"a.b"')).map(([p, l]) => `${p} == ${l}`),
  fc.constantFrom('"a" in context.l', 'size(context.l) == 1', 'context.l.map(x, x)[0] == "a"', 'context.l.exists(x, x == context.b)', 'context.f', '!context.f',
    'subject.attributes.since < timestamp("2026-01-01T00:00:00Z")', 'subject.attributes.since == timestamp("2026-01-01T00:00:00Z")', 'context.b in context.l'),
);
export const typedCondition: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: typedAtom, weight: 4 },
    tie('expr').map((e) => `!(${e})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(${a}) && (${b})`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `(${a}) || (${b})`),
  ),
})).expr;

const opt = <T>(arb: fc.Arbitrary<T>) => fc.oneof(fc.constant(MISSING), fc.constant(null), arb);
const MISSING = Symbol('missing');
const num = fc.constantFrom(0, -0, 0, 1, -1, 1.5, 5, 2 ** 53, 2 ** 53 + 2, 1e300, 5e-324);
const str = fc.constantFrom('', 'a', '1', 'a.b');
const FIELDS = {
  subject: { n: opt(num), since: opt(fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-01-01T01:00:00+01:00')) },
  context: { a: opt(num), b: opt(str), l: opt(fc.constantFrom([], ['a'], ['a', 'b'], ['b', 'a'], [''])), f: opt(fc.boolean()), extra: opt(str) },
  resource: { s: opt(str), n: opt(num) },
};
const typedInputs = fc.record({ subject: fc.record(FIELDS.subject), context: fc.record(FIELDS.context), resource: fc.record(FIELDS.resource) });
type TypedInputs = typeof typedInputs extends fc.Arbitrary<infer T> ? T : never;
type Scope = keyof typeof FIELDS;
/** One field of one scope given another value of its type (keys then collide often). */
const typedEdit = fc.oneof(...(Object.keys(FIELDS) as Scope[]).flatMap((scope) => Object.entries(FIELDS[scope]).map(([field, arb]) =>
  (arb as fc.Arbitrary<unknown>).map((value) => ({ scope, field, value })))));
/** A number field negated: 0 becomes -0, which only a double can tell (`1.0 / x`). */
const negate = fc.constantFrom<[Scope, string]>(['context', 'a'], ['subject', 'n'], ['resource', 'n']);
const negated = (a: TypedInputs, [scope, field]: [Scope, string]): TypedInputs => {
  const v = (a[scope] as Record<string, unknown>)[field];
  return { ...a, [scope]: { ...a[scope], [field]: typeof v === 'number' ? -v : v } };
};
const typedPair: fc.Arbitrary<[TypedInputs, TypedInputs]> = fc.oneof(
  { arbitrary: fc.tuple(typedInputs, typedEdit).map(([a, e]): [TypedInputs, TypedInputs] => [a, { ...a, [e.scope]: { ...a[e.scope], [e.field]: e.value } }]), weight: 3 },
  { arbitrary: fc.tuple(typedInputs, negate).map(([a, f]): [TypedInputs, TypedInputs] => [a, negated(a, f)]), weight: 2 },
  { arbitrary: fc.tuple(typedInputs, typedInputs), weight: 1 },
);

function present(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== MISSING));
}

function typedRequest(i: TypedInputs) {
  return typeInputs(registry, {
    subject: { id: 'user:u', roles: [], groups: [], attributes: present(i.subject) },
    context: present(i.context),
    resource: { type: 'doc', id: 'd', attributes: present(i.resource) },
  });
}

const typedPlans = new Map<string, ReturnType<typeof buildPlan> | undefined>();

export function typedKeyProperty(stats: PropertyStats) {
  return fc.property(typedCondition, typedPair, (when, [a, b]) => {
    stats.runs++;
    let plan = typedPlans.get(when);
    if (!typedPlans.has(when)) {
      const r = compilePolicy({ key: 'global-p', rules: [{ id: 'g', subjects: ['*'], when, grant: ['g:x'] }] }, { registry });
      plan = r.ok ? buildPlan([r.policy]) : undefined;
      if (typedPlans.size > 5000) typedPlans.clear();
      typedPlans.set(when, plan);
    }
    if (!plan) {
      stats.invalid++;
      return true;
    }
    const ra = typedRequest(a);
    const rb = typedRequest(b);
    if (identityDigest(ra, plan.reads, 0) !== identityDigest(rb, plan.reads, 0)) return true;
    stats.equalKeys++;
    if (fc.stringify(a) !== fc.stringify(b)) stats.equalKeysDifferentInputs++;
    const opts = { defaultPermissions: [] as string[], now: new Date(0), registry };
    const da = summary(evaluatePlan(plan, { ...ra, namespaces: ['global'] }, opts));
    const db = summary(evaluatePlan(plan, { ...rb, namespaces: ['global'] }, opts));
    if (da !== db) throw new Error(`equal keys, different decisions:\n  ${da}\n  ${db}`);
    return true;
  });
}
