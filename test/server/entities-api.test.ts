// The directory over HTTP (SPEC §12): every /v1/entities route, bad input (a clean 4xx
// with a stable code, nothing stored), ETag / If-Match, the admin token, and the merge
// into decisions: roles and groups united, a sent attribute wins, the cache key and the
// answer's revision follow the entities (a stale entry is never served).
import t from 'tap';
import { testApp, putYaml } from '../helpers/app.js';
import { injectSender } from '../helpers/http.js';

const { app } = await testApp(t);
const send = injectSender(app);
const json = (payload: unknown) => ({ headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

async function count(): Promise<number> {
  const r = await send({ method: 'GET', url: '/v1/entities?limit=500' });
  return (r.json() as { items: unknown[] }).items.length;
}

t.test('PUT creates (201, ETag, Location), GET reads, PUT replaces (200), DELETE removes (204, then 404)', async (t) => {
  const put = await send({ method: 'PUT', url: '/v1/entities/user:alice', ...json({ roles: ['editor'], groups: ['eng'], attributes: { email: 'alice@example.com', 'mfa.verified': true } }) });
  t.equal(put.status, 201, put.body);
  t.match(put.headers.etag, /^"e\d+"$/);
  t.equal(put.headers.location, '/v1/entities/user%3Aalice');
  const got = await send({ method: 'GET', url: '/v1/entities/user:alice' });
  t.equal(got.status, 200);
  t.equal(got.headers.etag, put.headers.etag);
  t.match(got.json(), { ref: 'user:alice', roles: ['editor'], groups: ['eng'], attributes: { email: 'alice@example.com', 'mfa.verified': true }, etag: put.headers.etag });
  const notModified = await send({ method: 'GET', url: '/v1/entities/user:alice', headers: { 'if-none-match': put.headers.etag! } });
  t.equal(notModified.status, 304);
  const yamlPut = await send({ method: 'PUT', url: '/v1/entities/user:alice', headers: { 'content-type': 'application/yaml' }, payload: 'roles: [viewer]\nattributes:\n  team: blue\n' });
  t.equal(yamlPut.status, 200, 'YAML bodies are accepted; a replace is 200');
  t.not(yamlPut.headers.etag, put.headers.etag);
  t.same((await send({ method: 'GET', url: '/v1/entities/user:alice' })).json().attributes, { team: 'blue' });
  t.equal((await send({ method: 'DELETE', url: '/v1/entities/user:alice' })).status, 204);
  const gone = await send({ method: 'GET', url: '/v1/entities/user:alice' });
  t.equal(gone.status, 404);
  t.equal(gone.json().code, 'ENTITY_NOT_FOUND');
  t.equal((await send({ method: 'DELETE', url: '/v1/entities/user:alice' })).json().code, 'ENTITY_NOT_FOUND');
  const email = await send({ method: 'PUT', url: `/v1/entities/${encodeURIComponent('user:bob@example.com')}`, ...json({}) });
  t.equal(email.status, 201, 'ids are any printable characters (an email)');
  t.equal((await send({ method: 'GET', url: '/v1/entities/user:bob%40example.com' })).json().ref, 'user:bob@example.com');
  await send({ method: 'DELETE', url: '/v1/entities/user:bob@example.com' });
});

t.test('If-Match and If-None-Match: 412 on a stale or missing version, nothing written', async (t) => {
  const created = await send({ method: 'PUT', url: '/v1/entities/record:101', headers: { 'content-type': 'application/json', 'if-none-match': '*' }, payload: '{"attributes":{"owner":"alice"}}' });
  t.equal(created.status, 201);
  const again = await send({ method: 'PUT', url: '/v1/entities/record:101', headers: { 'content-type': 'application/json', 'if-none-match': '*' }, payload: '{}' });
  t.equal(again.status, 412);
  t.equal(again.json().code, 'PRECONDITION_FAILED');
  const stale = await send({ method: 'PUT', url: '/v1/entities/record:101', headers: { 'content-type': 'application/json', 'if-match': '"e999999"' }, payload: '{}' });
  t.equal(stale.status, 412);
  t.same(stale.json().details, { etag: created.headers.etag });
  t.equal((await send({ method: 'DELETE', url: '/v1/entities/record:101', headers: { 'if-match': '"e1"x' } })).status, 412);
  t.same((await send({ method: 'GET', url: '/v1/entities/record:101' })).json().attributes, { owner: 'alice' }, 'nothing was written');
  const ok = await send({ method: 'PUT', url: '/v1/entities/record:101', headers: { 'content-type': 'application/json', 'if-match': created.headers.etag! }, payload: '{"attributes":{"owner":"bob"}}' });
  t.equal(ok.status, 200);
  t.equal((await send({ method: 'DELETE', url: '/v1/entities/record:101', headers: { 'if-match': ok.headers.etag! } })).status, 204);
  t.equal((await send({ method: 'PUT', url: '/v1/entities/record:1', headers: { 'content-type': 'application/json', 'if-none-match': '"x"' }, payload: '{}' })).json().code, 'REQUEST_INVALID');
});

t.test('bad input: a clean 4xx with a stable code, nothing stored, the server still answers', async (t) => {
  const before = await count();
  const cases: Array<[string, string, string, number, string]> = [
    ['/v1/entities/alice', 'application/json', '{}', 400, 'ENTITY_REF_INVALID'],
    ['/v1/entities/:alice', 'application/json', '{}', 400, 'ENTITY_REF_INVALID'],
    ['/v1/entities/user:', 'application/json', '{}', 400, 'ENTITY_REF_INVALID'],
    ['/v1/entities/1user:a', 'application/json', '{}', 400, 'ENTITY_REF_INVALID'],
    ['/v1/entities/user:a%00b', 'application/json', '{}', 400, 'ENTITY_REF_INVALID'],
    [`/v1/entities/user:${'x'.repeat(257)}`, 'application/json', '{}', 400, 'ENTITY_REF_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"role":["x"]}', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"roles":"admin"}', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"roles":[1]}', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"roles":[""]}', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"attributes":[1]}', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"attributes":{"constructor":{"prototype":1}}}', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', `{"attributes":{"big":"${'x'.repeat(70_000)}"}}`, 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', `{"attributes":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`, 400, 'BODY_MALFORMED'],
    ['/v1/entities/user:a', 'application/json', '[]', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"ref":"user:b"}', 422, 'ENTITY_INVALID'],
    ['/v1/entities/user:a', 'application/json', '{"roles":', 400, 'BODY_MALFORMED'],
    ['/v1/entities/user:a', 'application/json', '', 400, 'BODY_MALFORMED'],
    ['/v1/entities/user:a', 'text/plain', '{}', 415, 'MEDIA_TYPE_UNSUPPORTED'],
    ['/v1/entities/user:a', 'application/yaml', 'a: &a [*a]', 400, 'BODY_MALFORMED'],
  ];
  for (const [url, type, payload, status, code] of cases) {
    const r = await send({ method: 'PUT', url, headers: { 'content-type': type }, payload });
    t.equal(r.status, status, `${url.slice(0, 60)} ${payload.slice(0, 60)}: ${r.body.slice(0, 200)}`);
    t.equal(r.json().code, code);
  }
  t.equal((await send({ method: 'GET', url: '/v1/entities?limit=0' })).json().code, 'REQUEST_INVALID');
  t.equal((await send({ method: 'GET', url: '/v1/entities?limit=501' })).json().code, 'REQUEST_INVALID');
  t.equal((await send({ method: 'GET', url: '/v1/entities?type=1x' })).json().code, 'ENTITY_REF_INVALID');
  t.equal((await send({ method: 'GET', url: '/v1/entities?cursor=nope' })).json().code, 'ENTITY_REF_INVALID');
  t.equal((await send({ method: 'GET', url: '/v1/entities?other=1' })).json().code, 'REQUEST_INVALID');
  t.equal((await send({ method: 'GET', url: '/v1/entities/nocolon' })).json().code, 'ENTITY_REF_INVALID');
  t.equal(await count(), before, 'nothing was stored');
  t.equal((await send({ method: 'GET', url: '/healthz' })).status, 200);
  const ready = await send({ method: 'GET', url: '/readyz' });
  t.match(ready.json(), { status: 'ready', directory: { loaded: true } }, '/readyz reports the directory');
});

t.test('bulk import: a JSON array or a YAML stream, all or nothing', async (t) => {
  const before = await count();
  const bad = await send({ method: 'POST', url: '/v1/entities', ...json([{ ref: 'user:x1', roles: ['a'] }, { ref: 'user:x2', roles: 'a' }, { ref: 'nope' }, { ref: 'user:x1' }]) });
  t.equal(bad.status, 422);
  t.equal(bad.json().code, 'ENTITY_INVALID');
  t.same(bad.json().details.map((d: { index: number }) => d.index), [1, 2, 3], 'every problem, by index');
  t.equal(await count(), before, 'nothing written when one is bad');
  for (const [payload, code] of [['{}', 'ENTITY_INVALID'], ['[]', 'ENTITY_INVALID'], ['[1]', 'ENTITY_INVALID'], ['[', 'BODY_MALFORMED']] as const) {
    const r = await send({ method: 'POST', url: '/v1/entities', headers: { 'content-type': 'application/json' }, payload });
    t.equal(r.json().code, code, payload);
  }
  const tooMany = await send({ method: 'POST', url: '/v1/entities', ...json(Array.from({ length: 1001 }, (_, i) => ({ ref: `user:m${i}` }))) });
  t.equal(tooMany.json().code, 'ENTITY_INVALID');
  t.equal(await count(), before);
  const ok = await send({ method: 'POST', url: '/v1/entities', ...json([{ ref: 'user:i1', roles: ['a'] }, { ref: 'user:i2', attributes: { k: 1 } }]) });
  t.equal(ok.status, 200, ok.body);
  t.match(ok.json(), { created: 2, replaced: 0, refs: ['user:i1', 'user:i2'] });
  const yamlStream = await send({ method: 'POST', url: '/v1/entities', headers: { 'content-type': 'application/yaml' }, payload: 'ref: user:i1\nroles: [b]\n---\nref: doc:d1\nattributes: {owner: i1}\n' });
  t.equal(yamlStream.status, 200, yamlStream.body);
  t.match(yamlStream.json(), { created: 1, replaced: 1 });
  t.same((await send({ method: 'GET', url: '/v1/entities/user:i1' })).json().roles, ['b']);
  const page1 = await send({ method: 'GET', url: '/v1/entities?type=user&limit=1' });
  t.equal(page1.json().items.length, 1);
  t.equal(page1.json().cursor, 'user:i1');
  const page2 = await send({ method: 'GET', url: `/v1/entities?type=user&limit=1&cursor=${encodeURIComponent(page1.json().cursor)}` });
  t.same(page2.json().items.map((e: { ref: string }) => e.ref), ['user:i2']);
  t.equal(page2.json().cursor, null);
  for (const ref of ['user:i1', 'user:i2', 'doc:d1']) await send({ method: 'DELETE', url: `/v1/entities/${ref}` });
});

t.test('decisions merge the directory: roles united, a sent attribute wins, resources by type:id', async (t) => {
  await putYaml(t, app, 'dir-base', [
    'key: dir-base', 'namespace: dir', 'rules:',
    '  - subjects: ["role:editor"]', '    grant: ["doc:edit"]',
    '  - subjects: ["role:viewer"]', '    grant: ["doc:read"]',
    '  - subjects: ["*"]', '    grant: ["doc:own"]', '    when: resource.attributes.owner == subject.id',
    '  - subjects: ["*"]', '    deny: ["doc:edit"]', '    when: has(subject.attributes.suspended) && subject.attributes.suspended == true',
    '',
  ].join('\n'));
  const check = async (body: object) => {
    const r = await send({ method: 'POST', url: '/v1/check', payload: { namespace: 'global.dir', permissions: ['doc:edit', 'doc:read', 'doc:own'], ...body } });
    t.equal(r.status, 200, r.body);
    return r.json() as { results: Record<string, boolean>; cached: boolean; revision: string };
  };
  const before = await check({ subject: 'user:carol', resource: { type: 'doc', id: '7' } });
  t.same(before.results, { 'doc:edit': false, 'doc:read': false, 'doc:own': false });
  t.notMatch(before.revision, /\+e/, 'no entity merged: the policy revision alone');
  await send({ method: 'PUT', url: '/v1/entities/user:carol', ...json({ roles: ['editor'] }) });
  await send({ method: 'PUT', url: '/v1/entities/doc:7', ...json({ attributes: { owner: 'user:carol' } }) });
  const after = await check({ subject: 'user:carol', resource: { type: 'doc', id: '7' } });
  t.same(after.results, { 'doc:edit': true, 'doc:read': false, 'doc:own': true }, 'stored role and resource owner count at once on this replica');
  t.equal(after.cached, false, 'the entry from before the change is never served');
  t.match(after.revision, /\+e\d+$/, 'the revision names the directory state');
  t.equal((await check({ subject: 'user:carol', resource: { type: 'doc', id: '7' } })).cached, true, 'then cached');
  const plan = async () => (await send({ method: 'POST', url: '/v1/plan', payload: { subject: 'user:carol', namespace: 'global.dir', permission: 'doc:edit', resource: { type: 'doc' } } })).json() as { kind: string; revision: string };
  const editorPlan = await plan();
  t.not(editorPlan.kind, 'never', `the query plan (§11) reads the stored role: ${JSON.stringify(editorPlan)}`);
  const united = await check({ subject: { id: 'user:carol', roles: ['viewer'] }, resource: { type: 'doc', id: '7' } });
  t.same(united.results, { 'doc:edit': true, 'doc:read': true, 'doc:own': true }, 'sent and stored roles are united');
  const sentWins = await check({ subject: 'user:carol', resource: { type: 'doc', id: '7', attributes: { owner: 'user:dave' } } });
  t.equal(sentWins.results['doc:own'], false, 'an attribute the request sends wins over the stored one');
  await send({ method: 'PUT', url: '/v1/entities/user:carol', ...json({ roles: ['editor'], attributes: { suspended: true } }) });
  const suspended = await check({ subject: 'user:carol', resource: { type: 'doc', id: '7' } });
  t.equal(suspended.cached, false);
  t.equal(suspended.results['doc:edit'], false, 'a stored attribute can deny: the change is seen at once');
  const suspendedPlan = await plan();
  t.equal(suspendedPlan.kind, 'never', 'the query plan (§11) reads the stored suspension');
  t.match(suspendedPlan.revision, /\+e\d+$/);
  const evalR = await send({ method: 'POST', url: '/v1/evaluate', payload: { namespace: 'global.dir', subject: 'user:carol', resource: { type: 'doc', id: '7' } } });
  t.same(evalR.json().permissions.sort(), ['doc:own'], '/v1/evaluate merges too');
  await send({ method: 'DELETE', url: '/v1/entities/user:carol' });
  t.equal((await plan()).kind, 'never', 'no stored entity: no stored role in the plan either');
  const deleted = await check({ subject: 'user:carol', resource: { type: 'doc', id: '7' } });
  t.same(deleted.results, { 'doc:edit': false, 'doc:read': false, 'doc:own': true }, 'a deleted entity no longer counts');
  const inline = await send({ method: 'POST', url: '/v1/check', payload: { subject: 'user:x', resource: { type: 'doc', id: '7' }, permission: 'doc:own', policies: [{ key: 'global-i', rules: [{ subjects: ['*'], grant: ['doc:own'], when: "resource.attributes.owner == 'user:carol'" }] }] } });
  t.equal(inline.json().allowed, true, 'inline policies see the directory too');
  await send({ method: 'DELETE', url: '/v1/entities/doc:7' });
});

t.test('the admin token guards writes; reads take the read token', async (t) => {
  const guarded = await testApp(t, { config: { adminToken: 'admin-secret', readToken: 'read-secret' } });
  const s = injectSender(guarded.app);
  const put = (headers: Record<string, string>) => s({ method: 'PUT', url: '/v1/entities/user:z', headers: { 'content-type': 'application/json', ...headers }, payload: '{}' });
  t.equal((await put({})).json().code, 'UNAUTHORIZED');
  t.equal((await put({ authorization: 'Bearer read-secret' })).json().code, 'TOKEN_READ_ONLY');
  t.equal((await s({ method: 'POST', url: '/v1/entities', headers: { 'content-type': 'application/json' }, payload: '[{"ref":"user:z"}]' })).status, 401);
  t.equal((await s({ method: 'DELETE', url: '/v1/entities/user:z' })).status, 401);
  t.equal((await s({ method: 'GET', url: '/v1/entities' })).status, 401);
  t.equal((await s({ method: 'GET', url: '/v1/entities', headers: { authorization: 'Bearer read-secret' } })).status, 200);
  t.equal((await put({ authorization: 'Bearer admin-secret' })).status, 201);
});

t.test('STORE=none keeps the directory in memory and merges it into inline decisions', async (t) => {
  const none = await testApp(t, { store: 'none' });
  const s = injectSender(none.app);
  t.equal((await s({ method: 'PUT', url: '/v1/entities/user:n', ...json({ roles: ['boss'] }) })).status, 201);
  const r = await s({ method: 'POST', url: '/v1/check', payload: { subject: 'user:n', permission: 'x:y', policies: [{ key: 'global-p', rules: [{ subjects: ['role:boss'], grant: ['x:y'] }] }] } });
  t.equal(r.json().allowed, true, r.body);
});
