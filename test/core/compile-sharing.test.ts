// Memory (issue 20): compiled documents share what they hold alike — subject matchers,
// pattern lists, a segment's subject index and id lists — and what is shared is frozen,
// so nothing one document (or tenant) does can change another's rules. Evaluation over
// shared structures is checked against the plain walk by evaluate-differential.test.ts.

import t from 'tap';
import { compilePolicy } from '../../src/core/compile/compile-policy.js';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import type { PolicyDocument } from '../../src/core/document/types.js';
import { buildPathPlan, buildSegment, evaluatePlan } from '../../src/core/evaluate/plan.js';

function compiled(doc: PolicyDocument): CompiledPolicy {
  const r = compilePolicy(doc);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

const tenantDoc = (tenant: string, roleOfFirst = 'editor'): PolicyDocument => ({
  key: `org:${tenant}-base`,
  namespace: `org:${tenant}`,
  rules: [
    { id: 'edit', subjects: [`role:${roleOfFirst}`], grant: ['document:read', 'document:list'] },
    { id: 'own', subjects: ['user:alice', 'role:owner'], grant: ['document:*'], revoke: ['document:purge'] },
    { subjects: ['*'], grant: ['document:list'] },
  ],
});

t.test('equal subject lists and pattern lists are one frozen object in every document', async (t) => {
  const a = compiled(tenantDoc('a'));
  const b = compiled(tenantDoc('b'));
  t.equal(a.rules[0]!.subjects, b.rules[0]!.subjects, 'one matcher for `role:editor`');
  t.equal(a.rules[0]!.grant, b.rules[0]!.grant, 'one list for `document:read, document:list`');
  t.equal(a.rules[1]!.subjects, b.rules[1]!.subjects);
  t.not(a.rules[0]!.subjects, a.rules[1]!.subjects, 'different subjects: different matchers');
  t.not(a.rules[0]!.grant, a.rules[2]!.grant, 'different patterns: different lists');
  t.same(a.rules[1]!.subjects, { any: false, ids: ['user:alice'], roles: ['owner'], groups: [] });
  t.equal(a.rules[2]!.id, '#2', 'a rule without an id is named by its place');
  for (const shared of [a.rules[0]!.subjects, a.rules[0]!.subjects.roles, a.rules[0]!.grant]) t.ok(Object.isFrozen(shared), 'shared, so frozen');
  t.throws(() => (a.rules[0]!.subjects.roles as string[]).push('admin'), TypeError, 'a write throws instead of changing another document');
  t.same(b.rules[0]!.subjects.roles, ['editor'], 'the other document is unchanged');
  t.equal(a.predicates.size, 0, 'no predicates');
  t.equal(a.predicates, b.predicates, 'one empty predicates map');
});

t.test('segments whose rules match subjects alike share one index; others get their own', async (t) => {
  const a = buildSegment([compiled(tenantDoc('a'))]);
  const b = buildSegment([compiled(tenantDoc('b'))]);
  const c = buildSegment([compiled(tenantDoc('c', 'viewer'))]);
  t.equal(a.index, b.index, 'two tenants of one template: one index');
  t.equal(a.byRole, b.byRole);
  t.not(a.index, c.index, 'another role in the first rule: another index');
  t.same([...c.byRole.entries()], [['viewer', [0]], ['owner', [1]]]);
  t.same([...a.byId.entries()], [['user:alice', [1]]]);
  t.same(a.anyone, [2]);
  for (const list of [...a.byRole.values(), a.anyone]) t.ok(Object.isFrozen(list), 'shared position lists are frozen');
  t.equal(a.rules.length, 3);
  t.not(a.rules, b.rules, 'the rules themselves are each document\'s own');

  // The same answers from shared structures as from each tenant's own.
  const planA = buildPathPlan([a]);
  const planB = buildPathPlan([b]);
  const planC = buildPathPlan([c]);
  const input = (roles: string[]) => ({ subject: { id: 'bob', roles, groups: [], attributes: {} }, namespaces: ['global', 'org'] });
  const options = { now: new Date(0), defaultPermissions: [] };
  t.same(evaluatePlan(planA, input(['editor']), options).permissions, ['document:list', 'document:read']);
  t.same(evaluatePlan(planB, input(['owner']), options).permissions, ['document:*']);
  t.same(evaluatePlan(planB, input(['owner']), options).denied, ['document:purge']);
  t.same(evaluatePlan(planC, input(['editor']), options).permissions, ['document:list'], 'c does not grant editors');
  t.same(evaluatePlan(planC, input(['viewer']), options).permissions, ['document:list', 'document:read']);
  t.same(planA.ids?.[0], planB.ids?.[0], 'equal effects over one pattern table: equal id lists');
});
