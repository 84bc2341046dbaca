// POST /v1/plan and POST /v1/relations/plan over HTTP (SPEC §11): the answer's shape,
// the default and wildcard branches, related() as `id in`, and every refusal as a clean
// 4xx with its code; hostile names and values never reach the SQL text or a Mongo key.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { testApp, putYaml } from '../helpers/app.js';
import { exampleSchema, exampleTuples } from '../helpers/relations-example.js';

const BASE = `key: global-docs
rules:
  - id: published
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.status in ['published', 'archived']"
  - id: own
    subjects: ["*"]
    grant: ["document:*"]
    when: "resource.attributes.owner == subject.id"
  - id: no-secrets-at-night
    subjects: ["*"]
    deny: ["document:read"]
    when: "context.hour >= 22 && resource.attributes.secret == true"
`;
const ORG = `key: org:57af-members
namespace: org:57af
rules:
  - id: drafts
    subjects: ["role:member"]
    grant: ["document:read"]
    when: "resource.attributes.status == 'draft'"
`;

async function plan(app: FastifyInstance, body: Record<string, unknown>) {
  const r = await app.inject({ method: 'POST', url: '/v1/plan', payload: { subject: 'user:alice', namespace: 'global', permission: 'document:read', resource: { type: 'document' }, ...body } });
  return { status: r.statusCode, json: r.json() as Record<string, any> };
}

/** every key of a Mongo filter that starts with `$` */
function operators(v: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) operators(x, into);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) into.add(k);
    operators(x, into);
  }
  return into;
}
const ALLOWED_OPERATORS = new Set(['$and', '$or', '$nor', '$in', '$nin', '$ne', '$lt', '$lte', '$gt', '$gte', '$elemMatch', '$eq']);

t.test('the answer: filter, mongo, sql, exact, revision', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', BASE);
  const r = await plan(app, { context: { hour: 10 }, fields: { id: '_id', 'attributes.owner': 'ownerId' } });
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.equal(r.json.kind, 'conditional');
  t.equal(r.json.exact, true);
  t.type(r.json.revision, 'string');
  t.same(r.json.filter, { or: [{ op: 'in', field: 'attributes.status', value: ['published', 'archived'] }, { op: 'eq', field: 'attributes.owner', value: 'user:alice' }] });
  t.same(r.json.mongo, { $or: [{ status: { $in: ['published', 'archived'] } }, { ownerId: 'user:alice' }] });
  t.same(r.json.sql, { where: '"status" = ANY($1) OR "ownerId" = $2', params: [['published', 'archived'], 'user:alice'] });

  // at night the deny applies where secret is true — or where it is missing (the condition fails: fail closed)
  const night = await plan(app, { context: { hour: 23 } });
  t.same(night.json.filter, { and: [
    { or: [{ op: 'in', field: 'attributes.status', value: ['published', 'archived'] }, { op: 'eq', field: 'attributes.owner', value: 'user:alice' }] },
    { op: 'ne', field: 'attributes.secret', value: true },
  ] });
  t.match(night.json.sql.where, /"secret" <> \$3/);

  // a permission nothing grants: never
  const never = await plan(app, { permission: 'billing:read' });
  t.same([never.json.kind, never.json.filter, never.json.sql.where], ['never', false, 'FALSE']);
  t.same(never.json.mongo, { _id: { $in: [] } });
});

t.test('the default: a path with no documents at all', async (t) => {
  const { app } = await testApp(t);
  const r = await plan(app, { namespace: 'global.org' });
  t.equal(r.status, 200);
  t.same([r.json.kind, r.json.filter, r.json.default, r.json.sql.where], ['always', true, true, 'TRUE']);
  t.same(r.json.mongo, {});
  const limited = await testApp(t, { env: { DEFAULT_PERMISSIONS: '["billing:*"]' } });
  const none = await plan(limited.app, { namespace: 'global.org' });
  t.same([none.json.kind, none.json.default], ['never', true]);
});

t.test('a wildcard: one branch per stored namespace that changes the answer, one for the others', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', BASE);
  await putYaml(t, app, 'org:57af-members', ORG);
  await putYaml(t, app, 'org:same-x', 'key: org:same-x\nnamespace: org:same\nrules:\n  - { subjects: ["user:nobody"], grant: ["*"] }\n');
  const member = { id: 'user:alice', roles: ['member'] };
  const r = await plan(app, { subject: member, namespace: 'global.org.org:*', context: { hour: 10 }, fields: { 'namespace.org': 'orgId' } });
  t.equal(r.status, 200, JSON.stringify(r.json));
  const shared = { or: [{ op: 'in', field: 'attributes.status', value: ['published', 'archived'] }, { op: 'eq', field: 'attributes.owner', value: 'user:alice' }] };
  t.same(r.json.filter, { or: [
    // the members' drafts join the status list: one `in`
    { and: [{ op: 'eq', field: 'namespace.org', value: '57af' }, { or: [{ op: 'in', field: 'attributes.status', value: ['published', 'archived', 'draft'] }, shared.or[1]] }] },
    { and: [{ op: 'ne', field: 'namespace.org', value: '57af' }, shared] },
  ] }, 'org:same changes nothing for alice: no branch of its own');
  t.match(r.json.sql.where, /"orgId" = \$1/);

  // nothing stored on the parent path: the others get the default, and the plan says so
  const empty = await testApp(t);
  await putYaml(t, empty.app, 'org:57af-members', ORG);
  const d = await plan(empty.app, { subject: member, namespace: 'org:*' });
  t.equal(d.json.default, true);
  t.same(d.json.filter, { or: [
    { and: [{ op: 'eq', field: 'namespace.org', value: '57af' }, { op: 'eq', field: 'attributes.status', value: 'draft' }] },
    { op: 'ne', field: 'namespace.org', value: '57af' },
  ] });
});

t.test('refusals: clean 4xx with a code, nothing inlined', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', BASE);
  await putYaml(t, app, 'global-lua', 'key: global-lua\nrules:\n  - id: name-prefix\n    subjects: ["user:lua"]\n    grant: ["document:read"]\n    when: "resource.attributes.name.startsWith(\'pub\')"\n');
  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['a pattern, not a permission', { permission: 'document:*' }, 400, 'PERMISSION_INVALID'],
    ['a wildcard in the middle', { namespace: 'global.org:*.team' }, 400, 'NAMESPACE_INVALID'],
    ['a wildcard alone', { namespace: '*' }, 400, 'NAMESPACE_INVALID'],
    ['two wildcards', { namespace: 'org:*.team:*' }, 400, 'NAMESPACE_INVALID'],
    ['a bad namespace', { namespace: 'global.o rg' }, 400, 'NAMESPACE_INVALID'],
    ['a mapping with SQL in it', { fields: { 'attributes.status': 'status"; DROP TABLE docs; --' } }, 400, 'PLAN_FIELD_INVALID'],
    ['a mapping to a Mongo operator', { fields: { 'attributes.status': '$where' } }, 400, 'PLAN_FIELD_INVALID'],
    ['a mapping of an unknown field', { fields: { 'resource.status': 'status' } }, 400, 'PLAN_FIELD_INVALID'],
    ['a mapping to a nested operator', { fields: { 'attributes.owner': 'a.$gt' } }, 400, 'PLAN_FIELD_INVALID'],
    ['no resource type', { resource: {} }, 400, 'REQUEST_INVALID'],
    ['an unknown property', { resource: { type: 'document' }, extra: 1 }, 400, 'REQUEST_INVALID'],
    ['a function over the resource', { subject: 'user:lua' }, 422, 'PLAN_UNSUPPORTED'],
    ['a context nested too deep', { context: JSON.parse('{"a":'.repeat(40) + '1' + '}'.repeat(40)) }, 400, 'REQUEST_INVALID'],
  ];
  for (const [what, body, status, code] of cases) {
    const r = await plan(app, body);
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.json).slice(0, 300)}`);
    t.equal(r.json.error?.code ?? r.json.code, code, what);
  }
  const unsupported = await plan(app, { subject: 'user:lua' });
  t.match(JSON.stringify(unsupported.json), /global-lua/, 'the refusal names the document');
  t.match(JSON.stringify(unsupported.json), /name-prefix/, 'and the rule');
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200, 'the server is still up');
});

t.test('allowPartial: an over-approximation that says what to re-check', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', 'key: global-docs\nrules:\n  - id: prefix\n    subjects: ["*"]\n    grant: ["document:read"]\n    when: "resource.attributes.name.startsWith(\'pub\') && resource.attributes.status == \'ok\'"\n  - id: own\n    subjects: ["*"]\n    grant: ["document:read"]\n    when: "resource.attributes.owner == subject.id"\n');
  const r = await plan(app, { allowPartial: true });
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.equal(r.json.exact, false);
  t.same(r.json.recheck.map((x: { document: string; rule: string }) => [x.document, x.rule]), [['global-docs', 'prefix']]);
  t.equal(r.json.kind, 'always', 'the unknown grant may apply to any row: every row is a candidate');
});

t.test('hostile values stay values: parameters in SQL, operands in Mongo', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', 'key: global-docs\nrules:\n  - { subjects: ["*"], grant: ["document:read"], when: "resource.attributes.owner == context.who || resource.attributes.status in context.states || context.tag in resource.attributes.tags" }\n');
  const evil = ["x' OR '1'='1", '"; DROP TABLE docs; --', '$where', '{"$gt": ""}', '\\u0000'];
  const r = await plan(app, { context: { who: evil[0], states: evil.slice(1), tag: '$ne' } });
  t.equal(r.status, 200, JSON.stringify(r.json));
  for (const e of evil) t.notOk(r.json.sql.where.includes(e), `${JSON.stringify(e)} is not in the SQL text`);
  t.same(r.json.sql.params, [evil[0], evil.slice(1), '$ne']);
  t.same([...operators(r.json.mongo)].filter((k) => !ALLOWED_OPERATORS.has(k)), [], 'no Mongo key from the input');
  t.match(r.json.sql.where, /^[A-Za-z0-9_"$(),= @>:<.\s]+$/, 'the SQL text holds names, placeholders and operators only');

  // a map where a scalar belongs: no filter form, so refused (never spliced in)
  const obj = await plan(app, { context: { who: { $gt: '' }, states: [], tag: 'x' } });
  t.equal(obj.status, 422);
  // a huge context: bounded by the body schema
  const huge = await plan(app, { context: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])) });
  t.equal(huge.status, 400);
});

t.test('related() over the resource: id in [...] from the relationship index, bounded', async (t) => {
  const { app } = await testApp(t, { env: { PLAN_MAX_IDS: '3' } });
  t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema })).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } })).statusCode, 200);
  await putYaml(t, app, 'global-docs', 'key: global-docs\nrules:\n  - id: shared\n    subjects: ["*"]\n    grant: ["document:write"]\n    when: "related(\'document:\' + resource.id, \'write\') && resource.attributes.status != \'locked\'"\n');
  const bob = await plan(app, { subject: 'user:bob', permission: 'document:write', fields: { id: '_id' } });
  t.equal(bob.status, 200, JSON.stringify(bob.json));
  const ids = (await app.inject({ method: 'POST', url: '/v1/relations/lookup-resources', payload: { subject: 'user:bob', resourceType: 'document', permission: 'write' } })).json().resources.map((r: string) => r.slice('document:'.length)).sort();
  t.ok(ids.length > 0);
  const term = bob.json.filter.and.find((x: { field?: string }) => x.field === 'id');
  t.same([...(Array.isArray(term.value) ? term.value : [term.value])].sort(), ids, 'the ids lookup-resources lists');
  t.match(bob.json.mongo, { _id: ids.length > 1 ? { $in: ids } : ids[0] });

  const rel = await app.inject({ method: 'POST', url: '/v1/relations/plan', payload: { subject: 'user:bob', resourceType: 'document', permission: 'write', fields: { id: '_id' } } });
  t.equal(rel.statusCode, 200, rel.body);
  t.same(rel.json().exact, true);
  t.match(rel.json().sql.where, /"_id" (= ANY\(\$1\)|= \$1)/);

  // more ids than PLAN_MAX_IDS: 422, never a silently shortened list
  const many = await app.inject({ method: 'POST', url: '/v1/relations/plan', payload: { subject: 'user:zed', resourceType: 'document', permission: 'read' } });
  const manyIds = (await app.inject({ method: 'POST', url: '/v1/relations/lookup-resources', payload: { subject: 'user:dave', resourceType: 'document', permission: 'read', limit: 100 } })).json().resources;
  t.equal(many.statusCode, 200, 'zed reads one document');
  const dave = await app.inject({ method: 'POST', url: '/v1/relations/plan', payload: { subject: 'user:dave', resourceType: 'document', permission: 'read' } });
  if (manyIds.length > 3) t.equal(dave.json().error?.code ?? dave.json().code, 'PLAN_TOO_LARGE');
  else t.fail(`the example should give dave more than 3 documents, has ${manyIds.length}`);
});
