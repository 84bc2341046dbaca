// The plan answer cache (src/cache/plan-results.ts, PLAN_RESULTS_MAX) through POST /v1/plan
// and /metrics: a repeated request is a hit with the same answer; a policy, relationship
// or directory change is never answered from before it; plans reading the clock,
// wildcard paths and a stale state are never kept; 0 disables it.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { putYaml, testApp } from '../helpers/app.js';

const DOCS = `key: global-docs
rules:
  - id: own
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.owner == subject.id"
  - id: editors
    subjects: ["role:editor"]
    grant: ["document:read"]
    when: "resource.attributes.status == 'draft'"
  - id: shared
    subjects: ["*"]
    grant: ["document:read"]
    when: "related('doc:' + resource.id, 'read')"
`;

async function plan(app: FastifyInstance, body: Record<string, unknown> = {}) {
  const r = await app.inject({ method: 'POST', url: '/v1/plan', payload: { subject: 'user:alice', namespace: 'global', permission: 'document:read', resource: { type: 'document' }, ...body } });
  t.equal(r.statusCode, 200, r.body);
  return r.json() as { filter: unknown; revision: string };
}

async function counts(app: FastifyInstance): Promise<{ hits: number; misses: number; entries: number }> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const read = (name: string) => Number(new RegExp(`^policy_engine_plan_results_${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { hits: read('hits_total'), misses: read('misses_total'), entries: read('entries') };
}

t.test('a repeated request is a hit; policy, relationship and directory changes are not served from before', async (t) => {
  const { app, services } = await testApp(t);
  await putYaml(t, app, 'global-docs', DOCS);
  const schema = await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: 'user: {}\ndoc:\n  relations: { viewer: [user] }\n  permissions: { read: viewer }\n' });
  t.ok(schema.statusCode < 300, schema.body);

  const first = await plan(app);
  const again = await plan(app);
  t.same(again, first);
  t.same(await counts(app), { hits: 1, misses: 1, entries: 1 }, 'the second request was answered from the cache');
  t.same(await plan(app, { context: { x: 1 } }), first, 'another request is another entry');
  t.equal((await counts(app)).misses, 2);

  // a relationship: the id joins the filter at once
  const w = await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: ['doc:d1#viewer@user:alice'] } });
  t.equal(w.statusCode, 200, w.body);
  t.match(JSON.stringify((await plan(app)).filter), /"d1"/, 'a relationship write is seen at once');

  // the directory: alice becomes an editor
  const e = await app.inject({ method: 'PUT', url: '/v1/entities/user:alice', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ roles: ['editor'] }) });
  t.ok(e.statusCode < 300, e.body);
  t.match(JSON.stringify((await plan(app)).filter), /draft/, 'an entity write is seen at once');

  // a policy change clears every answer
  t.ok((await counts(app)).entries > 0);
  await putYaml(t, app, 'global-docs', DOCS.replace("resource.attributes.owner == subject.id", "resource.attributes.author == subject.id"));
  t.equal((await counts(app)).entries, 0, 'a policy change clears the cache');
  const after = await plan(app);
  t.match(JSON.stringify(after.filter), /attributes\.author/);
  t.notMatch(JSON.stringify(after.filter), /attributes\.owner/);
  t.equal(after.revision, `${services.manager!.revision}+e${services.entities.manager.revision}`);
});

t.test('never kept: plans reading the clock, wildcard paths, a stale state; PLAN_RESULTS_MAX=0', async (t) => {
  const { app, services } = await testApp(t);
  await putYaml(t, app, 'global-clock', 'key: global-clock\nrules:\n  - subjects: ["*"]\n    grant: ["document:read"]\n    when: "resource.attributes.until > now"\n');
  await plan(app, { allowPartial: true });
  await plan(app, { allowPartial: true });
  t.same(await counts(app), { hits: 0, misses: 2, entries: 0 }, 'a plan that reads the clock is looked up (a miss) but never kept');
  const before = await counts(app);

  await putYaml(t, app, 'org:o1-docs', 'key: org:o1-docs\nnamespace: org:o1\nrules:\n  - subjects: ["*"]\n    grant: ["document:read"]\n    when: "resource.attributes.owner == subject.id"\n');
  await plan(app, { namespace: 'org:*' });
  await plan(app, { namespace: 'org:*' });
  t.same(await counts(app), before, 'a wildcard plan is neither looked up nor kept');

  await plan(app, { namespace: 'org:o1' });
  t.equal((await counts(app)).entries, 1, 'a plain path is kept');
  const manager = services.manager!;
  const isStale = manager.isStale;
  manager.isStale = () => true;
  t.teardown(() => { manager.isStale = isStale; });
  await plan(app, { namespace: 'org:o1' });
  t.equal((await counts(app)).hits, before.hits, 'a stale state is planned anew');

  const off = await testApp(t, { env: { PLAN_RESULTS_MAX: '0' } });
  await putYaml(t, off.app, 'org:o1-docs', 'key: org:o1-docs\nnamespace: org:o1\nrules:\n  - subjects: ["*"]\n    grant: ["document:read"]\n');
  await plan(off.app, { namespace: 'org:o1' });
  await plan(off.app, { namespace: 'org:o1' });
  t.same(await counts(off.app), { hits: 0, misses: 0, entries: 0 }, 'PLAN_RESULTS_MAX=0 disables it');
});
