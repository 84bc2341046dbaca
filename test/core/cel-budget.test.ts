// CEL is bounded (issue 16, item 2): `matches` is RE2 (linear time; invalid or oversized
// constant patterns are compile errors with their position), and every decision's
// conditions share a cost budget of steps and allocation; past it a condition fails with
// CEL_BUDGET_EXCEEDED and fails closed (no grant; its revoke and deny still apply).
// On the code before: lookahead / backreferences were accepted, `\pL` was refused, and
// none of the budget cases stopped.
import t from 'tap';
import { loadDocument } from '../../src/core/compile/load-document.js';
import { evaluatePolicies } from '../../src/core/evaluate/evaluate.js';
import { compileCondition } from '../../src/core/condition/compile-condition.js';
import { celLimits, configureCelLimits, DEFAULT_CEL_LIMITS, REQUEST_DECISIONS, withRequestBudget } from '../../src/core/condition/budget.js';
import { estimateProgramSize, compileRegex, MAX_REGEX_PROGRAM } from '../../src/core/condition/regex.js';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import type { PolicyDocument } from '../../src/core/document/types.js';
import { RE2JS } from 're2js';

function compile(doc: PolicyDocument): CompiledPolicy {
  const r = loadDocument(JSON.stringify(doc), 'json');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.loaded.policy;
}
const errorsOf = (when: string): string[] => {
  const r = loadDocument(JSON.stringify({ key: 'global-c', rules: [{ subjects: ['*'], when, grant: ['a:read'] }] }), 'json');
  return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
};
const subject = { id: 'user:alice', roles: [], groups: [], attributes: {} };
const run = (p: CompiledPolicy, context: Record<string, unknown>) =>
  evaluatePolicies([p], { subject, context, namespaces: ['global'] }, { defaultPermissions: [], now: new Date('2026-01-01T00:00:00Z'), explain: true });
const single = (when: string) => compile({ key: 'global-m', rules: [{ id: 'r', subjects: ['*'], when, grant: ['a:yes'] }] });

t.test('matches is RE2: partial match, RE2 syntax, no backtracking', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['abc', 'b', true],
    ['abc', '^b', false],
    ['ABC', '(?i)abc', true],
    ['héllo', '^\\pL+$', true],
    ['user-42', '^(?P<kind>[a-z]+)-\\d+$', true],
    ['a'.repeat(5000) + 'b', '^(a+)+$', false],
  ];
  for (const [text, pattern, want] of cases) {
    const d = run(single(`context.s.matches(${JSON.stringify(pattern)})`), { s: text });
    t.same(d.trace?.[0]?.rules[0]?.condition, { value: want }, `${JSON.stringify(text.slice(0, 12))}.matches(${pattern})`);
  }
});

t.test('an invalid or oversized constant pattern is a compile error at its position', async (t) => {
  for (const pattern of ['(?=x)', '(?!x)', '(a)\\1', '(?<=a)b', 'a++', '[', 'x{1001}']) {
    const errors = errorsOf(`context.s.matches(${JSON.stringify(pattern)})`);
    t.match(errors, [/^rules\[0\]\.when: matches\(\): (invalid regular expression \(RE2 syntax\)|regular expression too large).*\(expression line 1, column 19\)$/], pattern);
  }
  t.match(errorsOf('context.s.matches("x{300}y{300}z{300}w{300}")'), [/too large/], 'repetitions that expand past the program bound');
  t.match(errorsOf(`context.s.matches("${'a'.repeat(1001)}")`), [/longer than 1000/]);
  t.same(errorsOf('context.s.matches("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$")'), [], 'a DNS name pattern is fine');
});

t.test('a dynamic pattern: compiled through the cache, an invalid one fails the rule closed', async (t) => {
  const p = compile({ key: 'global-d', rules: [{ id: 'r', subjects: ['*'], when: 'context.s.matches(context.p)', grant: ['a:yes'] }, { id: 'deny', subjects: ['*'], when: '!context.s.matches(context.p)', deny: ['a:*'] }] });
  t.same(run(p, { s: 'abc', p: 'b+' }).permissions, ['a:yes']);
  const bad = run(p, { s: 'abc', p: '(?=b)' });
  t.same(bad.permissions, [], 'no grant');
  t.same(bad.denied, [], 'nothing granted to deny');
  t.match(bad.conditionErrors, [{ rule: 'r', error: /RE2 syntax/ }, { rule: 'deny', error: /RE2 syntax/ }]);
  t.match(run(p, { s: 'abc', p: 'a'.repeat(2000) }).conditionErrors?.[0]?.error, /longer than/);
});

t.test('the program-size estimate is never below RE2\'s own count', async (t) => {
  for (const pattern of ['abc', 'a{1000}', 'x{330}y{330}z{330}', '((ab){10}){10}', '[a-z]{1,63}', '(?i)admin|root', '\\p{Greek}+', '(?:a?){500}a{500}', '(a|b|c){100}', '.{990}', 'a{2,}', '(?P<x>a){5}', '\\Qa.b\\E{3}', '[[:alpha:]]{20}']) {
    const real = RE2JS.compile(pattern).programSize();
    t.ok(estimateProgramSize(pattern) >= real, `${pattern}: estimate ${estimateProgramSize(pattern)} ≥ ${real}`);
  }
  const big = compileRegex('a{490}');
  t.ok(big.ok && big.regex.size <= MAX_REGEX_PROGRAM);
});

t.test('the budget is per decision, shared by its conditions, and fails closed', async (t) => {
  t.teardown(() => configureCelLimits(DEFAULT_CEL_LIMITS));
  configureCelLimits({ steps: 5000, allocation: 1_000_000 });
  t.equal(celLimits().steps, 5000);
  const list = Array.from({ length: 300 }, (_, i) => i);
  // each rule's loop costs about 300 × 6 steps: two fit in 5,000, three do not
  const loop = 'context.l.all(x, x >= 0)';
  const p = compile({
    key: 'global-b',
    rules: [
      { id: 'one', subjects: ['*'], when: loop, grant: ['a:one'] },
      { id: 'two', subjects: ['*'], when: loop, grant: ['a:two'] },
      { id: 'three', subjects: ['*'], when: loop, grant: ['a:three'], deny: ['b:*'] },
      { id: 'cheap', subjects: ['*'], when: 'true', grant: ['a:cheap', 'b:x'] },
    ],
  });
  const d = run(p, { l: list });
  t.same(d.permissions, ['a:one', 'a:two'], 'the third loop and every later condition fail: no grant from them');
  t.same(d.denied, [], 'the failed rule still applied its deny: b:x is never granted');
  t.match(d.conditionErrors, [{ rule: 'three', error: /^CEL_BUDGET_EXCEEDED: conditions took more than 5000 steps/ }, { rule: 'cheap', error: /^CEL_BUDGET_EXCEEDED/ }]);
  t.same(run(p, { l: list }), d, 'deterministic: the same input, the same decision');
  t.same(run(p, { l: list.slice(0, 10) }).permissions, ['a:cheap', 'a:one', 'a:three', 'a:two'], 'small inputs fit (b:x stays denied by rule three)');
});

t.test('allocation is budgeted: doubling strings and lists stops', async (t) => {
  t.teardown(() => configureCelLimits(DEFAULT_CEL_LIMITS));
  configureCelLimits({ steps: 10_000_000 }); // so allocation is what stops them
  const strings = single('cel.bind(a, context.s + context.s, cel.bind(b, a + a, cel.bind(c, b + b, cel.bind(d, c + c, cel.bind(e, d + d, e.size() > 0)))))');
  t.match(run(strings, { s: 'x'.repeat(100_000) }).conditionErrors?.[0]?.error, /^CEL_BUDGET_EXCEEDED: conditions built more than 1000000/);
  t.same(run(strings, { s: 'x'.repeat(100) }).permissions, ['a:yes'], 'small ones are fine');
  const lists = single('cel.bind(a, context.l + context.l, cel.bind(b, a + a, cel.bind(c, b + b, cel.bind(d, c + c, cel.bind(e, d + d, e.size() > 0)))))');
  t.match(run(lists, { l: Array.from({ length: 19_000 }, (_, i) => `v${i}`) }).conditionErrors?.[0]?.error, /^CEL_BUDGET_EXCEEDED: conditions built more/);
  t.same(run(lists, { l: ['x'] }).permissions, ['a:yes']);
});

t.test('work by functions and operators is charged by the size of what they read', async (t) => {
  const s = 'a'.repeat(50_000);
  for (const when of [
    'context.s.split("").all(c, !context.s.contains(c + "b"))',
    'context.s.split("").exists(c, context.s.indexOf(c + "b") >= 0)',
    'context.l.map(x, context.l) == context.l.map(x, context.l)',
    'context.l.all(x, x in context.l)',
    'hasAny(context.l, context.m)',
    'context.s.matches("[\\\\p{L}\\\\p{N}]{490}")',
  ]) {
    const d = run(single(when), { s, l: Array.from({ length: 3000 }, (_, i) => i), m: Array.from({ length: 3000 }, (_, i) => -i - 1) });
    t.match(d.conditionErrors?.[0]?.error, /^CEL_BUDGET_EXCEEDED/, when);
    t.same(d.permissions, [], `${when}: fails closed`);
  }
  // a predicate draws on the same budget as the rule naming it
  const withPredicate = compile({ key: 'global-p', predicates: { heavy: 'context.s.split("").all(c, c == "a")' }, rules: [{ id: 'r', subjects: ['*'], when: 'heavy', grant: ['a:yes'] }] });
  t.match(run(withPredicate, { s }).conditionErrors?.[0]?.error, /^CEL_BUDGET_EXCEEDED/);
  t.same(run(withPredicate, { s: 'aaa' }).permissions, ['a:yes']);
});

t.test('a condition compiled alone still runs on a budget', async (t) => {
  const r = compileCondition('context.s.split("").all(c, c == "a")', []);
  if (!r.ok) throw new Error(r.error.message);
  t.throws(() => r.condition.run({ context: { s: 'a'.repeat(100_000) } }), /CEL_BUDGET_EXCEEDED/);
  t.equal(r.condition.run({ context: { s: 'aa' } }), true);
});

t.test('a request that makes many decisions (POST /v1/test) shares a total of REQUEST_DECISIONS budgets', async (t) => {
  const p = single('context.s.split("").all(c, c == "a")');
  const heavy = { s: 'a'.repeat(100_000) };
  const outcomes = withRequestBudget(() => Array.from({ length: REQUEST_DECISIONS + 3 }, () => run(p, heavy).conditionErrors?.[0]?.error ?? 'ok'));
  t.equal(outcomes.filter((e) => /in this decision$/.test(e)).length, REQUEST_DECISIONS, 'each of the first decisions spends its own budget');
  t.ok(outcomes.slice(REQUEST_DECISIONS).every((e) => /^CEL_BUDGET_EXCEEDED: .* in this request$/.test(e)), 'then the request total stops the rest at once');
  t.match(withRequestBudget(() => Array.from({ length: 50 }, () => run(p, { s: 'aaa' }).permissions)), Array(50).fill(['a:yes']), 'cheap decisions fit many times over');
  t.same(run(p, heavy).conditionErrors?.[0]?.error, outcomes[0], 'outside a request scope: a fresh budget per decision');
});
