// The history routes over HTTP, on the default test store (memory; MongoDB on the
// runner's TEST_STORE=mongo pass): versions with diffs and actors, pagination,
// rollback (recorded, If-Match honoured), and the change feed (resumable, long-poll,
// relationships included).

import t from 'tap';
import { testApp } from '../helpers/app.js';
import { exampleSchema } from '../helpers/relations-example.js';

const ADMIN = 'root-token-0123456789abcdef';
const auth = { authorization: `Bearer ${ADMIN}` };
const yamlHeaders = { ...auth, 'content-type': 'application/yaml' };

const policy = (key: string, perm: string) => `key: ${key}\nrules:\n  - subjects: ["*"]\n    grant: ["${perm}"]\n`;

type Entry = { revision: string; actor: string; op: string; before: { text: string } | null; after: { text: string } | null; diff: string | null; key?: string; kind: string };

t.test('every write is a version with its actor, text before and after, and a diff', async (t) => {
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: ADMIN } });
  const put = (perm: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'PUT', url: '/v1/policies/team-a', headers: { ...yamlHeaders, ...headers }, payload: policy('team-a', perm) });
  t.equal((await put('doc:read')).statusCode, 201);
  t.equal((await put('doc:write')).statusCode, 200);
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/policies/team-a', headers: auth })).statusCode, 204);
  t.equal((await put('doc:list')).statusCode, 201);

  const r = await app.inject({ method: 'GET', url: '/v1/policies/team-a/history', headers: auth });
  t.equal(r.statusCode, 200, r.body);
  const entries = r.json().entries as Entry[];
  t.same(entries.map((e) => e.op), ['put', 'delete', 'put', 'put'], 'newest first, one entry per write');
  t.ok(entries.every((e) => e.actor === 'admin'), 'the root credential is the actor');
  t.equal(entries[3]!.before, null, 'the first version replaced nothing');
  t.match(entries[2]!.before!.text, /doc:read/);
  t.match(entries[2]!.after!.text, /doc:write/);
  t.match(entries[2]!.diff, /-    grant: \["doc:read"\]\n\+    grant: \["doc:write"\]/, 'a unified diff from the version before');
  t.equal(entries[1]!.after, null, 'a delete has no after');
  const revisions = entries.map((e) => Number(e.revision));
  t.same([...revisions].sort((a, b) => b - a), revisions, 'revisions descend');

  const p1 = await app.inject({ method: 'GET', url: '/v1/policies/team-a/history?limit=3', headers: auth });
  t.equal(p1.json().entries.length, 3);
  const p2 = await app.inject({ method: 'GET', url: `/v1/policies/team-a/history?limit=3&before=${p1.json().cursor}`, headers: auth });
  t.same(p2.json().entries.map((e: Entry) => e.revision), [entries[3]!.revision], 'the cursor pages to older versions');
  t.equal(p2.json().cursor, null);

  const none = await app.inject({ method: 'GET', url: '/v1/policies/team-b/history', headers: auth });
  t.same(none.json().entries, [], 'a key never written has no history');
  t.equal((await app.inject({ method: 'GET', url: '/v1/policies/team-a/history' })).statusCode, 401, 'history is stored state: a token is needed');
});

t.test('a bulk import records one entry per document', async (t) => {
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: ADMIN } });
  const r = await app.inject({ method: 'POST', url: '/v1/policies', headers: yamlHeaders, payload: `${policy('imp-a', 'x:y')}---\n${policy('imp-b', 'x:z')}` });
  t.equal(r.statusCode, 200, r.body);
  const feed = await app.inject({ method: 'GET', url: '/v1/changes', headers: auth });
  t.same(feed.json().changes.map((c: Entry) => c.key), ['imp-a', 'imp-b']);
});

t.test('rollback writes a recorded version again, is recorded itself and honours If-Match', async (t) => {
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: ADMIN } });
  const put = (perm: string) => app.inject({ method: 'PUT', url: '/v1/policies/team-r', headers: yamlHeaders, payload: policy('team-r', perm) });
  const first = await put('doc:read');
  await put('doc:write');
  const firstRevision = first.json().revision as string;
  const stale = await app.inject({ method: 'POST', url: '/v1/policies/team-r/rollback', headers: { ...auth, 'if-match': first.headers.etag as string }, payload: { revision: firstRevision } });
  t.equal(stale.statusCode, 412, 'a stale If-Match refuses the rollback');
  const current = await app.inject({ method: 'GET', url: '/v1/policies/team-r', headers: auth });
  const ok = await app.inject({ method: 'POST', url: '/v1/policies/team-r/rollback', headers: { ...auth, 'if-match': current.headers.etag as string }, payload: { revision: firstRevision } });
  t.equal(ok.statusCode, 200, ok.body);
  t.equal(ok.json().restored, firstRevision);
  t.equal(ok.json().etag, first.headers.etag, 'the same text, so the same etag');
  const now = await app.inject({ method: 'GET', url: '/v1/policies/team-r', headers: { ...auth, accept: 'application/yaml' } });
  t.match(now.body, /doc:read/);
  const h = await app.inject({ method: 'GET', url: '/v1/policies/team-r/history', headers: auth });
  t.equal(h.json().entries.length, 3, 'the rollback is a version of its own; the refused one left nothing');
  const missing = await app.inject({ method: 'POST', url: '/v1/policies/team-r/rollback', headers: auth, payload: { revision: '999999' } });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'VERSION_NOT_FOUND');
});

t.test('the change feed: resumable by its cursor, long-polls, and carries relationship writes', async (t) => {
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: ADMIN } });
  await app.inject({ method: 'PUT', url: '/v1/policies/feed-a', headers: yamlHeaders, payload: policy('feed-a', 'a:b') });
  const first = await app.inject({ method: 'GET', url: '/v1/changes', headers: auth });
  t.equal(first.statusCode, 200, first.body);
  t.same(first.json().changes.map((c: Entry) => c.key), ['feed-a']);
  const next = first.json().next as string;
  const empty = await app.inject({ method: 'GET', url: `/v1/changes?since=${next}`, headers: auth });
  t.same(empty.json().changes, [], 'nothing after the cursor');
  t.equal(empty.json().next, next);

  // A waiting request answers as soon as something is written.
  const waiting = app.inject({ method: 'GET', url: `/v1/changes?since=${next}&wait=20`, headers: auth });
  await new Promise((r) => setTimeout(r, 300));
  const schema = await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: yamlHeaders, payload: exampleSchema });
  t.equal(schema.statusCode, 200, schema.body);
  const woke = await waiting;
  t.equal(woke.json().changes.length, 1, 'the long-poll returns the schema write');
  t.equal(woke.json().changes[0].kind, 'relations');
  t.equal(woke.json().changes[0].schema.before, null);
  t.equal(woke.json().changes[0].actor, 'admin');

  const w = await app.inject({ method: 'POST', url: '/v1/relations/write', headers: auth, payload: { writes: ['document:d1#owner@user:alice'] } });
  t.equal(w.statusCode, 200, w.body);
  const after = await app.inject({ method: 'GET', url: `/v1/changes?since=${woke.json().next}`, headers: auth });
  t.same(after.json().changes.map((c: { writes?: string[] }) => c.writes), [['document:d1#owner@user:alice']]);
  const now = await app.inject({ method: 'GET', url: '/v1/changes?since=now', headers: auth });
  t.same(now.json().changes, []);
  t.equal(now.json().next, after.json().next, '`now` is where the feed stands');
  const bad = await app.inject({ method: 'GET', url: '/v1/changes?since=x.y', headers: auth });
  t.equal(bad.statusCode, 400);
});
