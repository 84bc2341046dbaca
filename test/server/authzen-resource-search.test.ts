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
