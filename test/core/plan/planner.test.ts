// The planner's pieces: filter simplification, translations, and the soundness of
// partial plans (an over-approximation never leaves out a resource check allows).
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { and, cmp, exists, matches, not, or, withJunctionMemo, type Filter } from '../../../src/core/plan/filter.js';
import { toMongo, toSql } from '../../../src/core/plan/translate.js';
import { PolicyEngineError } from '../../../src/errors.js';
import { compile, localPlanner } from './helpers.js';
import { caseArb, rowSets, type Row } from '../../helpers/plan-differential.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof PolicyEngineError ? err.code : String(err);
  }
}

t.test('simplification: folding, flattening, duplicates, contradictions', async (t) => {
  const a = cmp('eq', 'attributes.a', 1);
  const b = cmp('lt', 'attributes.b', 2);
  t.same(and(true, a), a);
  t.same(and(false, a), false);
  t.same(or(true, a), true);
  t.same(or(false, a, a), a);
  t.same(and(a, and(b, a)), { and: [a, b] });
  t.same(or(a, not(a)), true);
  t.same(and(a, not(a)), false);
  t.same(not(not(a)), a);
  t.same(not(exists('attributes.a')), exists('attributes.a', false));
  t.same(and(exists('attributes.a'), a), a, 'a comparison implies its field exists');
  t.same(cmp('in', 'id', ['x', 'x']), cmp('eq', 'id', 'x'));
  t.same(cmp('in', 'id', []), false);
});

t.test('translations: missing fields never slip through a negation', async (t) => {
  const f: Filter = and(not(cmp('eq', 'attributes.status', 'x')), cmp('contains', 'attributes.tags', 'y'));
  t.same(toSql(f), { where: '("status" = $1) IS NOT TRUE AND $2 = ANY("tags")', params: ['x', 'y'] });
  t.same(toSql(f, { 'attributes.tags': { column: 'tags', type: 'jsonb' } }).where, '("status" = $1) IS NOT TRUE AND "tags" @> $2::jsonb');
  t.same(toMongo(f), { $nor: [{ status: 'x' }], tags: { $elemMatch: { $eq: 'y' } } });
  t.same(toMongo(and(not(cmp('eq', 'attributes.a', 1)), not(cmp('eq', 'attributes.b', 2)))), { $and: [{ $nor: [{ a: 1 }] }, { $nor: [{ b: 2 }] }] }, 'colliding keys: $and');
  t.same(and(exists('attributes.a'), not(cmp('eq', 'attributes.a', 1))), cmp('ne', 'attributes.a', 1), 'exists and not eq is ne');
  t.same(toMongo(cmp('ne', 'attributes.n', 3)), { n: { $nin: [3, null] } });
  t.same(toSql(cmp('lt', 'attributes.name', 'm')).where, '"name" < $1 COLLATE "C"', 'strings compare by code point, as in CEL');
  t.same(toSql(cmp('eq', 'attributes.a', 1), { 'attributes.a': 'd.col_a' }).where, '"d"."col_a" = $1', 'a qualified column');
  for (const bad of ['a b', '$x', 'a.$x', 'a"b', '', 'a..b', '1a']) {
    t.equal(codeOf(() => toSql(cmp('eq', 'attributes.a', 1), { 'attributes.a': bad })), 'PLAN_FIELD_INVALID', JSON.stringify(bad));
  }
  t.equal(codeOf(() => toMongo(cmp('eq', 'attributes.x-y', 1))), 'PLAN_FIELD_INVALID', 'an unmapped field that is no identifier');
});

t.test('partial plans over-approximate: every row check allows matches the filter', async (t) => {
  const sets = rowSets(1, 150, 3);
  const rows: Row[] = sets[0]!;
  let partial = 0;
  // the generated policies plus a rule with no filter form, in a random place
  const unsupported = fc.record({ at: fc.nat(5), effect: fc.constantFrom('grant', 'revoke', 'deny') });
  fc.assert(fc.property(caseArb, unsupported, (c, u) => {
    const docs = c.docs.map((d) => ({ ...d, rules: [...d.rules] }));
    const rule = { subjects: ['*'], when: "resource.attributes.status.startsWith('d') || context.flag", [u.effect]: ['document:read'] };
    if (docs.length === 0) docs.push({ key: 'global-u', namespace: 'global', rules: [] });
    docs[u.at % docs.length]!.rules.splice(u.at % (docs[u.at % docs.length]!.rules.length + 1), 0, rule);
    const planner = localPlanner(compile(...docs.map((d) => JSON.stringify(d))));
    const req = { subject: c.subject, namespace: 'global.org.org:o1', permission: 'document:read', resource: { type: 'document' }, context: c.context };
    const refused = codeOf(() => planner.plan(req));
    if (refused !== 'PLAN_UNSUPPORTED' && refused !== undefined) throw new Error(`refused with ${refused}`);
    const plan = planner.plan({ ...req, allowPartial: true });
    if (!plan.exact) partial++;
    for (const row of rows) {
      const { _id, org: _org, ...attributes } = row;
      const allowed = planner.check({ ...req, resource: { type: 'document', id: _id, attributes } });
      const get = (field: string) => (field === 'id' ? _id : field === 'namespace.org' ? 'o1' : (attributes as Record<string, unknown>)[field.slice('attributes.'.length)]);
      if (allowed && !matches(plan.filter, get)) throw new Error(`row ${_id} is allowed but not in the partial plan ${JSON.stringify(plan.filter)}`);
    }
  }), { numRuns: 300, seed: 99 });
  t.ok(partial > 0, `${partial} partial plans`);
});

t.test("docs/plans.md's worked example is what the planner answers", async (t) => {
  const text = readFileSync(new URL('../../../docs/plans.md', import.meta.url), 'utf8');
  const yamlStart = text.indexOf('```yaml\n') + 8;
  const docs = text.slice(yamlStart, text.indexOf('```', yamlStart)).split('---\n');
  const jsonStart = text.indexOf('```json\n{ "kind"') + 8;
  const shown = JSON.parse(text.slice(jsonStart, text.indexOf('```', jsonStart))) as Record<string, unknown>;
  const planner = localPlanner(compile(...docs), { relatedIds: (subject, type, permission) => (subject === 'user:alice' && type === 'doc' && permission === 'read' ? ['d1', 'd9'] : []) });
  const plan = planner.plan({ subject: { id: 'user:alice', roles: ['member'] }, namespace: 'global.org.org:*', permission: 'document:read', resource: { type: 'document' }, context: { hour: 10 }, fields: { id: '_id', 'attributes.owner': 'ownerId', 'namespace.org': 'orgId' } });
  t.same({ ...plan, revision: '42' }, shown);
});

t.test('one compiled path asked for several permissions and subjects in turn: each plan is its own', async (t) => {
  // the planner keeps a path's rule steps per permission and remembers junctions within
  // a plan: asking in turn must answer as a planner that never saw another question
  const docs = [
    JSON.stringify({ key: 'global-g', namespace: 'global', rules: [
      { id: 'own', subjects: ['*'], grant: ['document:read', 'document:write'], when: 'resource.attributes.owner == subject.id' },
      { id: 'pub', subjects: ['role:member'], grant: ['document:*'], when: "resource.attributes.status == 'published'" },
      { id: 'purge', subjects: ['*'], deny: ['document:purge'], when: 'resource.attributes.locked == true' },
    ] }),
    JSON.stringify({ key: 'org:o1-o', namespace: 'org:o1', rules: [
      { id: 'secret', subjects: ['*'], revoke: ['document:read'], when: 'resource.attributes.secret == true' },
      { id: 'admin', subjects: ['role:admin'], grant: ['document:purge'] },
    ] }),
  ];
  const shared = localPlanner(compile(...docs));
  const questions = ['document:read', 'document:purge', 'document:write', 'document:read', 'document:purge'].flatMap((permission) =>
    [{ id: 'user:a', roles: ['member'] }, { id: 'user:b', roles: ['admin'] }, { id: 'user:c', roles: [] }].map((s) => ({ permission, subject: { ...s, groups: [], attributes: {} } })));
  const kinds = new Set<string>();
  for (const q of questions) {
    const req = { subject: q.subject, namespace: 'global.org:o1', permission: q.permission, resource: { type: 'document' } };
    const fresh = localPlanner(compile(...docs)).plan(req);
    const asked = shared.plan(req);
    t.same(asked.filter, fresh.filter, `${q.subject.id} ${q.permission}`);
    kinds.add(JSON.stringify(asked.filter));
  }
  t.ok(kinds.size >= 4, `${kinds.size} different answers among the questions`);
});

t.test('junctions remembered within one plan answer as built anew', async (t) => {
  const a = cmp('eq', 'attributes.a', 1);
  const b = cmp('gt', 'attributes.b', 2);
  const c = cmp('eq', 'attributes.c', 'x');
  const build = () => [and(a, b), or(a, b), and(or(a, c), b), or(and(a, c), b), and(a, b), or(b, a), not(and(a, b))];
  const plain = build();
  const remembered = withJunctionMemo(() => build());
  t.same(remembered, plain);
  t.same(withJunctionMemo(() => [or(a, b), and(a, b)]), [plain[1], plain[0]], 'an or and an and of the same parts are two junctions');
});

t.test('field paths remembered across plans: a computed key still follows the request', async (t) => {
  const planner = localPlanner(compile(JSON.stringify({ key: 'global-g', namespace: 'global', rules: [
    { id: 'by-key', subjects: ['*'], grant: ['document:read'], when: 'resource.attributes[context.k].x == 1 && resource.attributes.owner == subject.id' },
    { id: 'by-j', subjects: ['*'], revoke: ['document:read'], when: 'resource.attributes[context.j] == 2' },
  ] })));
  const ask = (context: Record<string, string>, subject: string) => planner.plan({ subject: { id: subject, roles: [], groups: [], attributes: {} }, namespace: 'global', permission: 'document:read', resource: { type: 'document' }, context }).filter;
  t.same(ask({ k: 'a', j: 'c' }, 'user:u1'), { and: [cmp('eq', 'attributes.a.x', 1), cmp('eq', 'attributes.owner', 'user:u1'), cmp('ne', 'attributes.c', 2)] });
  t.same(ask({ k: 'b', j: 'c' }, 'user:u2'), { and: [cmp('eq', 'attributes.b.x', 1), cmp('eq', 'attributes.owner', 'user:u2'), cmp('ne', 'attributes.c', 2)] }, 'the second plan reads attributes.b.x, not the first one\'s path');
  t.equal(codeOf(() => ask({ k: 'a', j: 'a.x' }, 'user:u3')), 'PLAN_UNSUPPORTED', 'a key holding a dot is no field, even after attributes.a.x was one');
});
