// The memo of check verdicts against cached decisions (src/cache/check-verdicts.ts): the
// answer it gives is the replay's (allowed, and the reason's rule), for random documents;
// verdicts of two decisions never mix, even equal-looking ones; it is bounded.

import t from 'tap';
import fc from 'fast-check';
import { compilePolicy } from '../../src/core/compile/compile-policy.js';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import type { PolicyDocument } from '../../src/core/document/types.js';
import { checkPermission, verdictOf, verdictResult } from '../../src/core/evaluate/check.js';
import { evaluatePolicies } from '../../src/core/evaluate/evaluate.js';
import type { Decision } from '../../src/core/evaluate/types.js';
import { CheckVerdicts } from '../../src/cache/check-verdicts.js';

function compiled(doc: PolicyDocument): CompiledPolicy {
  const r = compilePolicy(doc);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

function decide(docs: PolicyDocument[], roles: string[]): Decision {
  return evaluatePolicies(docs.map(compiled), { subject: { id: 'u', roles, groups: [], attributes: {} }, namespaces: [] }, { defaultPermissions: [] });
}

const docs: PolicyDocument[] = [{
  key: 'global-base',
  rules: [
    { subjects: ['role:viewer'], grant: ['report:*'] },
    { subjects: ['role:viewer'], revoke: ['report:delete'], message: 'viewers do not delete reports' },
    { subjects: ['role:intern'], deny: ['report:*'], message: 'interns see no reports' },
    { subjects: ['role:editor'], grant: ['report:delete'] },
  ],
}];

t.test('the memo answers what the replay answers, reason included, and keeps one verdict per decision and permission', async (t) => {
  const memo = new CheckVerdicts(100);
  const viewer = decide(docs, ['viewer']);
  for (const p of ['report:read', 'report:delete', 'billing:read']) {
    for (let ask = 0; ask < 3; ask++) t.same(verdictResult(viewer, memo.verdict(viewer, p)), checkPermission(viewer, p), `${p}, ask ${ask + 1}`);
  }
  t.equal(memo.size, 3, 'three permissions, one verdict each');
  t.same(verdictResult(viewer, memo.verdict(viewer, 'report:delete')), { allowed: false, reason: { text: 'viewers do not delete reports', rule: '#1', document: 'global-base' } }, 'the revoke is the reason');
  const intern = decide(docs, ['viewer', 'intern', 'editor']);
  t.same(verdictResult(intern, memo.verdict(intern, 'report:delete')), { allowed: false, reason: { text: 'interns see no reports', rule: '#2', document: 'global-base' } }, 'a deny stays the reason after a later grant');
  const editor = decide(docs, ['viewer', 'editor']);
  t.same(verdictResult(editor, memo.verdict(editor, 'report:delete')), { allowed: true }, 'a later grant restores a revoked permission');
});

t.test('two decisions never share verdicts, even when they look alike', async (t) => {
  const memo = new CheckVerdicts(100);
  const a = decide(docs, ['viewer']);
  const b = decide(docs, ['viewer', 'editor']);
  t.equal(verdictResult(a, memo.verdict(a, 'report:delete')).allowed, false);
  t.equal(verdictResult(b, memo.verdict(b, 'report:delete')).allowed, true);
  const a2 = decide(docs, ['viewer']);
  t.not(a2, a, 'a new decision object');
  t.equal(verdictResult(a2, memo.verdict(a2, 'report:delete')).allowed, false);
  t.equal(memo.size, 3, 'each decision object has its own verdict');
});

t.test('bounded: emptied when full; long permissions and max 0 keep nothing', async (t) => {
  const memo = new CheckVerdicts(2);
  const d = decide(docs, ['viewer']);
  memo.verdict(d, 'report:a');
  memo.verdict(d, 'report:b');
  t.equal(memo.size, 2);
  t.equal(verdictResult(d, memo.verdict(d, 'report:c')).allowed, true, 'still answered when full');
  t.equal(memo.size, 1, 'started over');
  const long = `report:${'x'.repeat(300)}`;
  t.equal(memo.verdict(d, long), verdictOf(d, long));
  t.equal(memo.size, 1, 'a long permission is not kept');
  const off = new CheckVerdicts(0);
  off.verdict(d, 'report:a');
  t.equal(off.size, 0, 'max 0: never kept');
});

t.test('random documents: the memo, asked twice, answers as the replay does', async (t) => {
  const pattern = fc.constantFrom('a:*', 'a:b', 'a:b:c', 'a:*:c', 'b:*', '*');
  const list = fc.option(fc.array(pattern, { minLength: 1, maxLength: 2 }), { nil: undefined });
  const rule = fc.record({ role: fc.constantFrom('x', 'y'), grant: list, revoke: list, deny: list, message: fc.boolean() });
  const permission = fc.constantFrom('a:b', 'a:b:c', 'a:c', 'b:d', 'c:e', 'a:x:c');
  let checked = 0;
  fc.assert(fc.property(fc.array(rule, { minLength: 1, maxLength: 5 }), fc.subarray(['x', 'y']), fc.array(permission, { minLength: 1, maxLength: 6 }), (rules, roles, asked) => {
    const doc: PolicyDocument = {
      key: 'global-g',
      rules: rules.map((r, i) => ({
        subjects: [`role:${r.role}`],
        ...(r.grant ? { grant: r.grant } : {}), ...(r.revoke ? { revoke: r.revoke } : {}), ...(r.deny ? { deny: r.deny } : {}),
        ...(!r.grant && !r.revoke && !r.deny ? { grant: ['a:*'] } : {}),
        ...(r.message ? { message: `m${i}` } : {}),
      })),
    };
    const d = decide([doc], roles);
    const memo = new CheckVerdicts(64);
    for (let round = 0; round < 2; round++) {
      for (const p of asked) {
        checked++;
        if (JSON.stringify(verdictResult(d, memo.verdict(d, p))) !== JSON.stringify(checkPermission(d, p))) return false;
      }
    }
    return true;
  }), { numRuns: 300, seed: 20261207 });
  t.ok(checked > 600, `${checked} checks compared`);
});
