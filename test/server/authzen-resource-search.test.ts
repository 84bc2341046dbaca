// AuthZEN resource search over the relationship graph (SPEC §12): the query plan of §11
// run over the resources that tuples name. Every result evaluates to true and every
// other candidate to false, through the same decision path as /access/v1/evaluation.

import t from 'tap';
import { putYaml, testApp } from '../helpers/app.js';
import { exampleSchema, exampleTuples } from '../helpers/relations-example.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are checked field by field

const POLICY = `
key: global-rel
rules:
  - id: related-readers
    subjects: ["*"]
    when: 'related("document:" + resource.id, "read")'
    grant: ["document:read"]
  - id: no-drafts-for-bob
    subjects: ["user:bob"]
    deny: ["document:read"]
`;

t.test('resource search: the plan over the documents tuples name', async (t) => {
  const { app } = await testApp(t);
  const put = await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema });
  t.equal(put.statusCode, 200, put.body);
  const write = await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } });
  t.equal(write.statusCode, 200, write.body);
  await putYaml(t, app, 'global-rel', POLICY);
  const post = async (url: string, payload: object) => {
    const r = await app.inject({ method: 'POST', url, payload });
    return { status: r.statusCode, json: r.json() as Json };
  };
  const documents = [...new Set(exampleTuples.filter((s) => s.startsWith('document:')).map((s) => s.slice('document:'.length, s.indexOf('#'))))].sort();
  t.ok(documents.length >= 3, `${documents.length} documents in the tuples`);

  for (const user of ['alice', 'erin', 'zed', 'bob']) {
    const body = { subject: { type: 'user', id: user }, action: { name: 'document:read' }, resource: { type: 'document' } };
    const r = await post('/access/v1/search/resource', body);
    t.equal(r.status, 200, JSON.stringify(r.json));
    const found = new Set((r.json.results as Json[]).map((x) => x.id));
    for (const x of r.json.results as Json[]) t.equal(x.type, 'document');
    for (const id of documents) {
      const e = await post('/access/v1/evaluation', { ...body, resource: { type: 'document', id } });
      t.equal(found.has(id), e.json.decision, `${user} on document:${id}: search and evaluation agree`);
    }
    if (user === 'bob') t.equal(found.size, 0, 'a deny for bob empties his search');
    if (user === 'zed') t.same([...found], ['handbook'], 'user:* readers: anyone reads the handbook');
  }

  const p1 = await post('/access/v1/search/resource', { subject: { type: 'user', id: 'alice' }, action: { name: 'document:read' }, resource: { type: 'document', id: 'ignored' }, page: { limit: 1 } });
  t.equal(p1.json.results.length, 1);
  let token = p1.json.page.next_token as string;
  const all = [...p1.json.results];
  while (token !== '') {
    const p = await post('/access/v1/search/resource', { subject: { type: 'user', id: 'alice' }, action: { name: 'document:read' }, resource: { type: 'document', id: 'ignored' }, page: { limit: 1, token } });
    all.push(...p.json.results);
    token = p.json.page.next_token;
  }
  const whole = await post('/access/v1/search/resource', { subject: { type: 'user', id: 'alice' }, action: { name: 'document:read' }, resource: { type: 'document' } });
  t.same(all, whole.json.results, 'pages of one add up to the whole result');
  const bad = await post('/access/v1/search/resource', { subject: { type: 'user', id: 'alice' }, action: { name: 'document:*' }, resource: { type: 'document' } });
  t.equal(bad.status, 400, 'a pattern is no action');
});

// The directory's entities are candidates too, and the plan reads their stored attributes
// (SPEC §12): an attribute condition over them answers as /v1/check does for each one; a
// missing attribute fails its condition, closed: a grant under it does not apply, a deny does.
const OWNED = `
key: global-owned
rules:
  - id: owners-read
    subjects: ["*"]
    when: 'resource.attributes.owner == subject.id'
    grant: ["doc:read"]
  - id: reviewers-read
    subjects: ["role:reviewer"]
    when: 'resource.attributes.meta.level < 3'
    grant: ["doc:read"]
  - id: archived-hidden
    subjects: ["*"]
    when: 'resource.attributes.status == "archived"'
    deny: ["doc:read"]
`;

t.test('resource search over the directory: stored attributes decide, as in check', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-owned', OWNED);
  const docs: Record<string, Record<string, unknown>> = {
    a: { owner: 'user:alice', status: 'draft' },
    b: { owner: 'user:bob', status: 'draft', meta: { level: 1 } },
    c: { status: 'draft' },
    d: { owner: 'user:alice', status: 'archived' },
    e: { owner: 'user:alice', status: 'draft', meta: { level: 5 } },
    f: { status: 'draft', meta: { level: 2 } },
    g: { owner: 'user:alice', meta: { level: 1 } },
  };
  for (const [id, attributes] of Object.entries(docs)) {
    const r = await app.inject({ method: 'PUT', url: `/v1/entities/doc:${id}`, payload: { attributes } });
    t.equal(r.statusCode, 201, r.body);
  }
  const subjects: Array<{ type: string; id: string; properties?: Record<string, unknown> }> = [
    { type: 'user', id: 'alice' }, { type: 'user', id: 'bob' }, { type: 'user', id: 'carol', properties: { roles: ['reviewer'] } },
  ];
  const expected: Record<string, string[]> = { alice: ['a', 'e'], bob: ['b'], carol: ['b', 'f'] };
  for (const subject of subjects) {
    const r = await app.inject({ method: 'POST', url: '/access/v1/search/resource', payload: { subject, action: { name: 'doc:read' }, resource: { type: 'doc' } } });
    t.equal(r.statusCode, 200, r.body);
    const found = (r.json().results as Json[]).map((x) => x.id as string);
    for (const id of Object.keys(docs)) {
      const check = await app.inject({
        method: 'POST', url: '/v1/check',
        payload: { subject: { id: `user:${subject.id}`, roles: (subject.properties?.roles as string[] | undefined) ?? [] }, namespace: 'global', permission: 'doc:read', resource: { type: 'doc', id } },
      });
      t.equal(found.includes(id), check.json().allowed, `${subject.id} on doc:${id}: search and check agree`);
    }
    t.same(found, expected[subject.id], `${subject.id}'s documents`);
  }
});

// Action search (SPEC §12): the relationship schema's permissions of the resource's type are
// candidates too (`read`, `write` on `document`), each kept only when check allows it. The
// policy names neither in a grant (a pattern is no candidate): only the schema proposes them.
const RELATION_ACTIONS = `
key: global-actions
rules:
  - id: graph-readers
    subjects: ["*"]
    when: 'related("document:" + resource.id, "read")'
    grant: ["*"]
  - id: graph-writers-only
    subjects: ["*"]
    when: '!related("document:" + resource.id, "write")'
    deny: ["write"]
`;

t.test('action search: the relationship schema\'s permissions, as check decides them', async (t) => {
  const { app } = await testApp(t);
  t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema })).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } })).statusCode, 200);
  await putYaml(t, app, 'global-actions', RELATION_ACTIONS);
  const cases: Array<[string, string, string[]]> = [
    ['bob', 'draft', ['read', 'write']], ['alice', 'draft', ['read']], ['zed', 'handbook', ['read']], ['zed', 'root', []],
  ];
  for (const [user, doc, want] of cases) {
    const r = await app.inject({ method: 'POST', url: '/access/v1/search/action', payload: { subject: { type: 'user', id: user }, resource: { type: 'document', id: doc } } });
    t.equal(r.statusCode, 200, r.body);
    const names = (r.json().results as Json[]).map((x) => x.name as string);
    t.same(names, want, `${user} on document:${doc}`);
    for (const name of ['read', 'write']) {
      const c = await app.inject({ method: 'POST', url: '/v1/check', payload: { subject: `user:${user}`, namespace: 'global', permission: name, resource: { type: 'document', id: doc } } });
      t.equal(names.includes(name), c.json().allowed, `${user} ${name} document:${doc}: search and check agree`);
    }
  }
});
