// Differential tests of the evaluator (SPEC §2 "Evaluation") against the reference in
// test/reference: fast-check builds small policy sets over a tiny alphabet, and every
// concrete permission over that alphabet is decided both ways.
//
// The universe (segments a, b and a fresh z; 1..4 segments) decides everything
// patterns of at most 3 segments over {a, b, *} can tell apart, so "agrees on every
// permission of the universe" means "agrees on every permission".

import t from 'tap';
import fc from 'fast-check';
import { compilePolicy } from '../../src/core/compile/compile-policy.js';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import type { PolicyDocument, PolicyRule } from '../../src/core/document/types.js';
import { checkPermission } from '../../src/core/evaluate/check.js';
import { evaluatePolicies } from '../../src/core/evaluate/evaluate.js';
import { buildPathPlan, buildPlan, buildSegment, evaluatePlan } from '../../src/core/evaluate/plan.js';
import type { Decision, Subject } from '../../src/core/evaluate/types.js';
import {
  concretePermissions,
  refAllowed,
  refAllowedByLists,
  refEffects,
  refMatches,
  type RefDocument,
  type RefSubject,
} from '../reference/reference-evaluator.js';

const UNIVERSE = concretePermissions(['a', 'b', 'z'], 4);
const DEFAULT = ['*'];

// ------------------------------------------------------------------ generators

const patternArb = fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));
const matcherArb = fc.constantFrom(
  '*',
  '*', // twice: more rules apply, so effects interleave more
  'alice',
  'bob',
  'id:alice',
  'id:role:admin', // an id that looks like a role matcher
  'role:admin',
  'role:editor',
  'role:alice', // a role named like an id
  'group:team',
  'group:ops',
);
/** A grant / revoke / deny list, present `present` times in `outOf`. */
const listArb = (present: number, outOf: number): fc.Arbitrary<string[] | undefined> =>
  fc.oneof(
    { weight: present, arbitrary: fc.array(patternArb, { minLength: 0, maxLength: 2 }) },
    { weight: outOf - present, arbitrary: fc.constant(undefined) },
  );

type GenRule = { subjects: string[]; grant?: string[]; revoke?: string[]; deny?: string[] };
type GenDoc = { ordinal?: number; disabled?: boolean; rules: GenRule[] };

const ruleArb: fc.Arbitrary<GenRule> = fc
  .record({ subjects: fc.array(matcherArb, { minLength: 1, maxLength: 2 }), grant: listArb(3, 4), revoke: listArb(1, 2), deny: listArb(1, 3) })
  .map(({ subjects, grant, revoke, deny }) => {
    const r: GenRule = { subjects };
    if (grant !== undefined) r.grant = grant;
    if (revoke !== undefined) r.revoke = revoke;
    if (deny !== undefined) r.deny = deny;
    if (grant === undefined && revoke === undefined && deny === undefined) r.grant = ['a:*'];
    return r;
  });

const docArb: fc.Arbitrary<GenDoc> = fc
  .record({ ordinal: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), disabled: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }) })
  .map(({ ordinal, disabled, rules }) => {
    const d: GenDoc = { rules };
    if (ordinal !== undefined) d.ordinal = ordinal;
    if (disabled) d.disabled = true;
    return d;
  });

const docsArb = fc.array(docArb, { minLength: 1, maxLength: 4 });

const subjectArb: fc.Arbitrary<RefSubject> = fc.record({
  id: fc.constantFrom('alice', 'bob', 'carol', 'role:admin'),
  roles: fc.subarray(['admin', 'editor', 'alice']),
  groups: fc.subarray(['team', 'ops']),
});

// ------------------------------------------------------------------ plumbing

/** The documents as written (keys by position: the run order is the array order). */
function toDocuments(docs: readonly GenDoc[]): PolicyDocument[] {
  return docs.map((d, i) => {
    const doc: PolicyDocument = { key: `global-d${i}`, rules: d.rules.map((r) => ({ ...r }) as PolicyRule) };
    if (d.ordinal !== undefined) doc.ordinal = d.ordinal;
    if (d.disabled) doc.disabled = true;
    return doc;
  });
}

function compileAll(docs: readonly PolicyDocument[]): CompiledPolicy[] {
  return docs.map((d) => {
    const r = compilePolicy(d);
    if (!r.ok) throw new Error(`generated document does not compile: ${JSON.stringify(r.errors)}`);
    return r.policy;
  });
}

function evaluate(docs: readonly PolicyDocument[], subject: RefSubject, explain = false): Decision {
  const s: Subject = { id: subject.id, roles: subject.roles, groups: subject.groups, attributes: {} };
  return evaluatePolicies(compileAll(docs), { subject: s, namespaces: [] }, { defaultPermissions: DEFAULT, explain });
}

const asRef = (docs: readonly PolicyDocument[]): readonly RefDocument[] => docs;

/** Brute-force containment over the universe (complete for these patterns). */
const covers = (a: string, b: string) => UNIVERSE.every((x) => !refMatches(b, x) || refMatches(a, x));
const overlap = (a: string, b: string) => UNIVERSE.some((x) => refMatches(a, x) && refMatches(b, x));
const isSortedUnique = (xs: readonly string[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

function summary(d: Decision) {
  return { permissions: d.permissions, denied: d.denied, exact: d.exact, default: d.default, policies: d.policies };
}

// ------------------------------------------------------------------ counters

let checks = 0; // checkPermission calls compared with the reference
let listChecks = 0; // summary-list readings compared with the reference
let decisions = 0;
let inexact = 0;
let inexactAndDifferent = 0;

function failWith(message: string, docs: readonly PolicyDocument[], subject: RefSubject, d?: Decision): never {
  const shown = d ? summary(d) : undefined;
  throw new Error(`${message}\nsubject: ${JSON.stringify(subject)}\ndocuments: ${JSON.stringify(docs)}\ndecision: ${JSON.stringify(shown)}`);
}

// ------------------------------------------------------------------ properties

function agreesWithReference(gen: GenDoc[], subject: RefSubject): true {
  const docs = toDocuments(gen);
  const d = evaluate(docs, subject);
  decisions++;
  if (d.default) failWith('documents were given, yet the default answered', docs, subject, d);
  let listsDiffer = false;
  for (const x of UNIVERSE) {
    const want = refAllowed(asRef(docs), subject, x, DEFAULT);
    checks++;
    if (checkPermission(d, x).allowed !== want) failWith(`check(${x}) should be ${want}`, docs, subject, d);
    const byLists = refAllowedByLists(d.permissions, d.denied, x);
    listChecks++;
    if (d.exact && byLists !== want) failWith(`exact lists read ${x} as ${byLists}, reference says ${want}`, docs, subject, d);
    if (byLists && !want) failWith(`inexact lists allow ${x}, which check refuses`, docs, subject, d);
    if (byLists !== want) listsDiffer = true;
  }
  if (!d.exact) {
    inexact++;
    if (listsDiffer) inexactAndDifferent++;
  }
  // `policies`: every document run, in run order, disabled ones left out.
  const run = docs.filter((x) => x.disabled !== true).map((x) => x.key);
  if (JSON.stringify(d.policies) !== JSON.stringify(run)) failWith(`policies should be ${JSON.stringify(run)}`, docs, subject, d);
  return true;
}

t.test('checkPermission and the summary lists agree with the reference', async (t) => {
  const RUNS = 3_000;
  fc.assert(fc.property(docsArb, subjectArb, agreesWithReference), { numRuns: RUNS });
  t.pass(`${RUNS} policy sets, ${UNIVERSE.length} permissions each`);
});

t.test('the same, with every rule applying (dense interleaving of grant, revoke, deny)', async (t) => {
  const RUNS = 3_000;
  const everyone = docsArb.map((docs) => docs.map((d) => ({ ...d, disabled: false, rules: d.rules.map((r) => ({ ...r, subjects: ['*'] })) })));
  const before = inexact;
  fc.assert(fc.property(everyone, subjectArb, agreesWithReference), { numRuns: RUNS });
  t.pass(`${RUNS} policy sets; ${inexact - before} of them inexact`);
});

t.test('permissions and denied: sorted, unique, minimal, drawn from the rules', async (t) => {
  const RUNS = 1_000;
  fc.assert(
    fc.property(docsArb, subjectArb, (gen, subject) => {
      const docs = toDocuments(gen);
      const d = evaluate(docs, subject);
      decisions++;
      const effects = refEffects(asRef(docs), subject);
      const granted = new Set(effects.filter((e) => e.kind === 'grant').map((e) => e.pattern));
      const excluded = new Set(effects.filter((e) => e.kind !== 'grant').map((e) => e.pattern));
      if (!isSortedUnique(d.permissions)) failWith('permissions not sorted and unique', docs, subject, d);
      if (!isSortedUnique(d.denied)) failWith('denied not sorted and unique', docs, subject, d);
      for (const p of d.permissions) {
        if (!granted.has(p)) failWith(`${p} in permissions was never granted`, docs, subject, d);
        for (const q of d.permissions) if (p !== q && covers(p, q)) failWith(`permissions not minimal: ${p} covers ${q}`, docs, subject, d);
      }
      for (const e of d.denied) {
        if (!excluded.has(e)) failWith(`${e} in denied was never revoked or denied`, docs, subject, d);
        if (!d.permissions.some((p) => overlap(p, e))) failWith(`${e} in denied overlaps nothing granted`, docs, subject, d);
        for (const f of d.denied) if (e !== f && covers(e, f)) failWith(`denied not minimal: ${e} covers ${f}`, docs, subject, d);
      }
      return true;
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} runs`);
});

t.test('evaluation is deterministic (re-run, re-compiled, with explain)', async (t) => {
  const RUNS = 500;
  fc.assert(
    fc.property(docsArb, subjectArb, (gen, subject) => {
      const docs = toDocuments(gen);
      const a = evaluate(docs, subject);
      const b = evaluate(JSON.parse(JSON.stringify(docs)) as PolicyDocument[], subject);
      const c = evaluate(docs, subject, true);
      decisions += 3;
      if (JSON.stringify(summary(a)) !== JSON.stringify(summary(b))) failWith('re-evaluation differs', docs, subject, a);
      if (JSON.stringify(summary(a)) !== JSON.stringify(summary(c))) failWith('explain changes the decision', docs, subject, a);
      if (a.trace !== undefined || !Array.isArray(c.trace) || c.trace.length !== docs.length) failWith('trace only with explain, one entry per document', docs, subject, c);
      for (const x of UNIVERSE) {
        checks++;
        if (checkPermission(a, x).allowed !== checkPermission(b, x).allowed) failWith(`check(${x}) differs between runs`, docs, subject, a);
      }
      return true;
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} runs`);
});

t.test('the indexed plan (evaluatePlan) decides exactly as evaluatePolicies', async (t) => {
  const RUNS = 1_000;
  fc.assert(
    fc.property(docsArb, fc.array(subjectArb, { minLength: 1, maxLength: 3 }), (gen, subjects) => {
      const docs = toDocuments(gen);
      const plan = buildPlan(compileAll(docs));
      // One plan serves many subjects in turn (it keeps scratch state between calls).
      for (const subject of subjects) {
        const input = { subject: { ...subject, attributes: {} }, namespaces: [] };
        const a = evaluatePolicies(plan.policies, input, { defaultPermissions: DEFAULT });
        const b = evaluatePlan(plan, input, { defaultPermissions: DEFAULT });
        decisions += 2;
        if (JSON.stringify(summary(a)) !== JSON.stringify(summary(b))) failWith('evaluatePlan differs from evaluatePolicies', docs, subject, b);
        for (const x of UNIVERSE) {
          checks++;
          if (checkPermission(b, x).allowed !== refAllowed(asRef(docs), subject, x, DEFAULT)) failWith(`plan: check(${x}) disagrees with the reference`, docs, subject, b);
        }
      }
      return true;
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} plans`);
});

t.test('a plan of shared segments (one per namespace) decides exactly as the whole path', async (t) => {
  const RUNS = 600;
  let plans = 0;
  fc.assert(
    fc.property(docsArb, docsArb, fc.array(fc.nat(), { minLength: 0, maxLength: 3 }), fc.array(subjectArb, { minLength: 1, maxLength: 3 }), (genA, genB, cuts, subjects) => {
      // Two paths sharing a prefix, as `global.org.org:t1` and `global.org.org:t2` do: the
      // prefix's documents cut into segments at `cuts`, then each path's own documents.
      const prefix = compileAll(toDocuments(genA));
      const at = [...new Set(cuts.map((c) => c % (prefix.length + 1)))].sort((x, y) => x - y);
      const chunks: CompiledPolicy[][] = [];
      let from = 0;
      for (const c of [...at, prefix.length]) {
        if (c > from) chunks.push(prefix.slice(from, c));
        from = Math.max(from, c);
      }
      const shared = chunks.map((c) => buildSegment(c));
      const tails = [compileAll(toDocuments(genB)), compileAll(toDocuments(genA.slice(0, 1)))];
      for (const tail of tails) {
        const plan = buildPathPlan([...shared, buildSegment(tail)]);
        const docs = [...toDocuments(genA), ...toDocuments(tail === tails[0] ? genB : genA.slice(0, 1))];
        plans++;
        for (const subject of subjects) {
          const input = { subject: { ...subject, attributes: {} }, namespaces: [] };
          const a = evaluatePolicies([...prefix, ...tail], input, { defaultPermissions: DEFAULT });
          const b = evaluatePlan(plan, input, { defaultPermissions: DEFAULT });
          decisions += 2;
          if (JSON.stringify(summary(a)) !== JSON.stringify(summary(b))) failWith('a segmented plan differs from evaluatePolicies', docs, subject, b);
          if (JSON.stringify(b.policies) !== JSON.stringify(a.policies)) failWith('a segmented plan names other documents', docs, subject, b);
          for (const x of UNIVERSE) {
            checks++;
            if (checkPermission(b, x).allowed !== refAllowed(asRef(docs), subject, x, DEFAULT)) failWith(`segmented plan: check(${x}) disagrees with the reference`, docs, subject, b);
          }
        }
      }
      return true;
    }),
    { numRuns: RUNS },
  );
  t.pass(`${plans} segmented plans`);
});

/** Insert a new effect: as a rule of its own for anyone, or into an existing rule. */
const insertionArb = fc.record({
  doc: fc.nat(),
  rule: fc.nat(),
  intoExisting: fc.boolean(),
  pattern: patternArb,
});

function withEffect(docs: readonly PolicyDocument[], kind: 'grant' | 'revoke' | 'deny', ins: { doc: number; rule: number; intoExisting: boolean; pattern: string }): PolicyDocument[] {
  const copy = JSON.parse(JSON.stringify(docs)) as PolicyDocument[];
  const target = copy[ins.doc % copy.length]!;
  if (ins.intoExisting) {
    const r = target.rules[ins.rule % target.rules.length]!;
    const list = [...(r[kind] ?? [])];
    list.splice(ins.rule % (list.length + 1), 0, ins.pattern);
    r[kind] = list;
  } else {
    target.rules.splice(ins.rule % (target.rules.length + 1), 0, { subjects: ['*'], [kind]: [ins.pattern] });
  }
  return copy;
}

t.test('monotonicity: a grant never removes, a revoke or deny never adds', async (t) => {
  const RUNS = 600;
  for (const kind of ['grant', 'revoke', 'deny'] as const) {
    fc.assert(
      fc.property(docsArb, subjectArb, insertionArb, (gen, subject, ins) => {
        const before = toDocuments(gen);
        const after = withEffect(before, kind, ins);
        const d0 = evaluate(before, subject);
        const d1 = evaluate(after, subject);
        decisions += 2;
        for (const x of UNIVERSE) {
          const a0 = checkPermission(d0, x).allowed;
          const a1 = checkPermission(d1, x).allowed;
          checks += 2;
          if (kind === 'grant' && a0 && !a1) failWith(`adding grant ${ins.pattern} removed ${x}`, after, subject, d1);
          if (kind !== 'grant' && a1 && !a0) failWith(`adding ${kind} ${ins.pattern} added ${x}`, after, subject, d1);
          if (a1 !== refAllowed(asRef(after), subject, x, DEFAULT)) failWith(`check(${x}) disagrees with the reference`, after, subject, d1);
          // Exact lists are the reference, so they inherit the same monotonicity.
          if (d0.exact && d1.exact) {
            const l0 = refAllowedByLists(d0.permissions, d0.denied, x);
            const l1 = refAllowedByLists(d1.permissions, d1.denied, x);
            listChecks += 2;
            if (kind === 'grant' ? l0 && !l1 : l1 && !l0) failWith(`lists not monotone for ${kind} ${ins.pattern} at ${x}`, after, subject, d1);
          }
        }
        return true;
      }),
      { numRuns: RUNS },
    );
    t.pass(`${kind}: ${RUNS} runs`);
  }
});

t.test('disabled documents change nothing but count as present', async (t) => {
  const RUNS = 500;
  fc.assert(
    fc.property(docsArb, docArb, fc.nat(), subjectArb, (gen, extra, at, subject) => {
      const docs = toDocuments(gen);
      const disabled: PolicyDocument = { key: 'global-disabled', disabled: true, rules: extra.rules as PolicyRule[] };
      const withDisabled = [...docs];
      withDisabled.splice(at % (docs.length + 1), 0, disabled);
      const a = evaluate(docs, subject);
      const b = evaluate(withDisabled, subject);
      decisions += 2;
      if (JSON.stringify(summary(a)) !== JSON.stringify(summary(b))) failWith('a disabled document changed the decision', withDisabled, subject, b);
      for (const x of UNIVERSE) {
        checks++;
        if (checkPermission(a, x).allowed !== checkPermission(b, x).allowed) failWith(`a disabled document changed check(${x})`, withDisabled, subject, b);
      }
      // Only disabled documents: present, so no default — and nothing granted.
      const only = evaluate([disabled], subject);
      decisions++;
      if (only.default || only.permissions.length > 0 || only.denied.length > 0 || only.policies.length > 0) {
        failWith('disabled documents alone must not give the default', [disabled], subject, only);
      }
      for (const x of UNIVERSE) {
        checks++;
        if (checkPermission(only, x).allowed) failWith(`only disabled documents, yet ${x} is allowed`, [disabled], subject, only);
      }
      return true;
    }),
    { numRuns: RUNS },
  );
  t.pass(`${RUNS} runs`);
});

t.test('no documents: the configured default', async (t) => {
  const subject: Subject = { id: 'alice', roles: [], groups: [], attributes: {} };
  const d = evaluatePolicies([], { subject, namespaces: [] }, { defaultPermissions: ['*'] });
  t.strictSame(summary(d), { permissions: ['*'], denied: [], exact: true, default: true, policies: [] });
  const wrong = UNIVERSE.filter((x) => {
    checks++;
    return checkPermission(d, x).allowed !== refAllowed([], subject, x, ['*']);
  });
  t.strictSame(wrong, [], 'the default * allows every permission');
  const narrow = evaluatePolicies([], { subject, namespaces: [] }, { defaultPermissions: ['b:*', 'a'] });
  t.strictSame(narrow.permissions, ['a', 'b:*'], 'sorted');
  for (const x of UNIVERSE) {
    checks++;
    if (checkPermission(narrow, x).allowed !== refAllowed([], subject, x, ['b:*', 'a'])) t.fail(`default check(${x})`);
  }
  const none = evaluatePolicies([], { subject, namespaces: [] }, { defaultPermissions: [] });
  t.notOk(checkPermission(none, 'a').allowed, 'an empty default allows nothing');
});

t.test('a denial names the rule that explains it', async (t) => {
  const docs: PolicyDocument[] = [
    { key: 'global-a', rules: [{ id: 'base', subjects: ['*'], grant: ['document:*'], deny: ['document:purge'], message: 'Purging documents needs an admin' }] },
    { key: 'global-b', rules: [{ id: 'freeze', subjects: ['*'], revoke: ['document:*'], message: 'Documents are read-only today' }] },
    { key: 'global-c', rules: [{ id: 'thaw', subjects: ['*'], grant: ['document:*'] }] },
  ];
  const d = evaluate(docs, { id: 'alice', roles: [], groups: [] });
  t.strictSame(checkPermission(d, 'document:read'), { allowed: true });
  // The revoke in global-b was lifted by global-c's grant; what still refuses
  // document:purge is the deny in global-a, so that is the reason to give.
  t.strictSame(
    checkPermission(d, 'document:purge'),
    { allowed: false, reason: { text: 'Purging documents needs an admin', rule: 'base', document: 'global-a' } },
    'a grant blocked by a deny: the deny is the reason, not an earlier revoke the grant lifted',
  );
  const simple = evaluate([docs[0]!, docs[1]!], { id: 'alice', roles: [], groups: [] });
  t.strictSame(checkPermission(simple, 'document:read'), {
    allowed: false,
    reason: { text: 'Documents are read-only today', rule: 'freeze', document: 'global-b' },
  });
  t.strictSame(checkPermission(simple, 'billing:read'), { allowed: false }, 'nothing explains a permission never granted');
});

t.test('totals', async (t) => {
  t.comment(`${decisions} decisions; ${checks} permission checks against the reference; ${listChecks} list readings`);
  t.comment(`${inexact} decisions had exact: false; in ${inexactAndDifferent} of them the lists really were stricter than check`);
  t.ok(checks >= 100_000, `at least 100,000 permission checks (${checks})`);
});
