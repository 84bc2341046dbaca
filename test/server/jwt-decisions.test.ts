// The decision routes with JWT subjects on (JWT_JWKS_FILE): /v1/evaluate, /v1/check, the
// plans and AuthZEN. A verified token is the subject (its roles, its claims as attributes,
// the directory merged for its ref); a body naming another subject is refused; a bad token
// is 401 TOKEN_INVALID with its reason and nothing else happens; an opaque bearer token is
// not taken for a JWT, nor is this server's own DECISION_TOKEN; JWT_REQUIRED.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { testApp, putYaml } from '../helpers/app.js';
import { httpSender, injectSender } from '../helpers/http.js';
import { exampleSchema, exampleTuples } from '../helpers/relations-example.js';

const dir = mkdtempSync(join(tmpdir(), 'pe-jwt-http-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const other = await generateKeyPair('ES256', { extractable: true });
const jwksFile = join(dir, 'jwks.json');
writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
const env = { JWT_JWKS_FILE: jwksFile, JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'pe', JWT_ALGORITHMS: 'ES256' };

const token = (claims: Record<string, unknown> = {}, key = privateKey, sub = 'alice') => new SignJWT({ roles: ['editor'], ...claims })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject(sub).setIssuer('https://idp.test').setAudience('pe').setExpirationTime('5m').sign(key);

const { app } = await testApp(t, { env });
const send = injectSender(app);
await putYaml(t, app, 'global-base', [
  'key: global-base', 'rules:',
  '  - subjects: ["role:editor"]', '    grant: ["doc:edit"]',
  '  - subjects: ["*"]', '    grant: ["doc:read"]', '    when: has(subject.attributes.tenant) && subject.attributes.tenant == "t1"',
  '  - subjects: ["user:alice"]', '    grant: ["doc:own"]',
  '  - subjects: ["user:ceo", "role:admin"]', '    grant: ["doc:secret"]', '',
].join('\n'));

const check = async (headers: Record<string, string>, body: Record<string, unknown> = {}) => send({
  method: 'POST', url: '/v1/check', headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify({ namespace: 'global', permissions: ['doc:edit', 'doc:read', 'doc:own'], ...body }),
});

t.test('a verified token is the subject: its id, roles and claims', async (t) => {
  const r = await check({ authorization: `Bearer ${await token({ tenant: 't1' })}` });
  t.equal(r.status, 200, r.body);
  t.same(r.json().results, { 'doc:edit': true, 'doc:read': true, 'doc:own': true });
  const e = await send({ method: 'POST', url: '/v1/evaluate', headers: { authorization: `Bearer ${await token()}` }, payload: { namespace: 'global' } });
  t.equal(e.status, 200, e.body);
  t.same(e.json().permissions.sort(), ['doc:edit', 'doc:own']);
  const same = await check({ authorization: `Bearer ${await token()}` }, { subject: 'user:alice' });
  t.equal(same.status, 200, 'a body naming the same subject is fine');
});

t.test('the directory is merged for the token\'s subject ref', async (t) => {
  await send({ method: 'PUT', url: '/v1/entities/user:bob', headers: { 'content-type': 'application/json' }, payload: '{"attributes":{"tenant":"t1"}}' });
  const r = await check({ authorization: `Bearer ${await token({ roles: [] }, privateKey, 'bob')}` });
  t.same(r.json().results, { 'doc:edit': false, 'doc:read': true, 'doc:own': false }, 'a stored attribute of user:bob counts');
  const sentWins = await check({ authorization: `Bearer ${await token({ roles: [], tenant: 't2' }, privateKey, 'bob')}` });
  t.equal(sentWins.json().results['doc:read'], false, 'a claim wins over the stored attribute of the same name');
});

t.test('refusals: 401 TOKEN_INVALID with its reason; another subject in the body is 400', async (t) => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['another key', { authorization: `Bearer ${await token({}, other.privateKey)}` }, 'signature'],
    ['garbage shaped as a JWT', { authorization: 'Bearer a.b.c' }, 'malformed'],
    ['alg none', { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.x` }, 'algorithm'],
  ];
  for (const [name, headers, reason] of cases) {
    const r = await check(headers, { subject: 'user:alice' });
    t.equal(r.status, 401, name);
    t.equal(r.json().code, 'TOKEN_INVALID');
    t.equal(r.json().details.reason, reason, name);
  }
  const another = await check({ authorization: `Bearer ${await token()}` }, { subject: { id: 'user:root', roles: ['admin'] } });
  t.equal(another.status, 400);
  t.equal(another.json().code, 'SUBJECT_INVALID');
  const opaque = await check({ authorization: 'Bearer some-opaque-token' }, { subject: 'user:carol' });
  t.equal(opaque.status, 200, 'an opaque bearer token is not a JWT: the body subject counts');
  t.same(opaque.json().results, { 'doc:edit': false, 'doc:read': false, 'doc:own': false });
  const none = await check({}, {});
  t.equal(none.json().code, 'REQUEST_INVALID', 'no token and no subject: the schema refuses');
});

t.test('JWT_REQUIRED: a request without a token is 401', async (t) => {
  const strict = await testApp(t, { env: { ...env, JWT_REQUIRED: 'true' } });
  const s = injectSender(strict.app);
  const r = await s({ method: 'POST', url: '/v1/check', payload: { subject: 'user:alice', namespace: 'global', permission: 'doc:edit' } });
  t.equal(r.status, 401);
  t.same([r.json().code, r.json().details.reason], ['TOKEN_INVALID', 'missing']);
  const ok = await s({ method: 'POST', url: '/v1/check', headers: { authorization: `Bearer ${await token()}` }, payload: { namespace: 'global', permission: 'doc:edit' } });
  t.equal(ok.status, 200, ok.body);
});

// AuthZEN and the plans (SPEC §12 "Tokens"): the same hook as /v1/check, over real HTTP.
const http = await httpSender(app);
const bearer = async (sub = 'alice', claims: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await token(claims, privateKey, sub)}` });
const post = (url: string, payload: object, headers: Record<string, string> = {}) => http({ method: 'POST', url, headers, payload });
const user = (id: string, properties?: Record<string, unknown>) => ({ type: 'user', id, ...(properties ? { properties } : {}) });
await send({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema });
await send({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } });
for (const id of ['1', '2']) await send({ method: 'PUT', url: `/v1/entities/doc:${id}`, headers: { 'content-type': 'application/json' }, payload: '{}' });

t.test('AuthZEN evaluation and evaluations: the token is the subject', async (t) => {
  const ask = { action: { name: 'doc:secret' }, resource: { type: 'doc', id: '1' } };
  const ceo = await post('/access/v1/evaluation', { subject: user('ceo'), ...ask }, await bearer());
  t.equal(ceo.status, 400, 'the body names user:ceo, the token alice: never the ceo\'s answer');
  t.equal(ceo.json().code, 'SUBJECT_INVALID');
  // The body's properties are the caller's claim; the token's roles replace them.
  const claimed = { subject: user('alice', { roles: ['admin'] }), ...ask };
  t.same((await post('/access/v1/evaluation', claimed)).json(), { decision: true }, 'without a token the body counts');
  t.same((await post('/access/v1/evaluation', claimed, await bearer())).json().decision, false, 'with one, alice\'s roles are the token\'s (editor)');
  const edit = await post('/access/v1/evaluation', { subject: user('alice'), action: { name: 'doc:edit' }, resource: { type: 'doc', id: '1' } }, await bearer());
  t.same(edit.json(), { decision: true }, 'the token\'s role editor');

  const batch = { subject: user('alice', { roles: ['admin'] }), resource: { type: 'doc', id: '1' }, evaluations: [{ action: { name: 'doc:secret' } }, { action: { name: 'doc:edit' } }] };
  const b = await post('/access/v1/evaluations', batch, await bearer());
  t.equal(b.status, 200, b.body);
  t.same(b.json().evaluations.map((e: { decision: boolean }) => e.decision), [false, true]);
  const itemCeo = await post('/access/v1/evaluations', { ...batch, evaluations: [{ action: { name: 'doc:edit' } }, { subject: user('ceo'), action: { name: 'doc:secret' } }] }, await bearer());
  t.same([itemCeo.status, itemCeo.json().code], [400, 'SUBJECT_INVALID'], 'an item naming another subject refuses the batch');
  const bad = await post('/access/v1/evaluation', claimed, { authorization: `Bearer ${await token({}, other.privateKey)}` });
  t.same([bad.status, bad.json().details.reason], [401, 'signature'], 'an invalid JWT is always 401');
});

t.test('AuthZEN searches: about the token\'s subject only', async (t) => {
  const resources = { subject: user('alice', { roles: ['admin'] }), action: { name: 'doc:secret' }, resource: { type: 'doc' } };
  t.same((await post('/access/v1/search/resource', resources)).json().results, [{ type: 'doc', id: '1' }, { type: 'doc', id: '2' }], 'the body\'s admin role, without a token');
  const r = await post('/access/v1/search/resource', resources, await bearer());
  t.equal(r.status, 200, r.body);
  t.same(r.json().results, [], 'the token\'s roles: no doc:secret');
  t.same((await post('/access/v1/search/resource', { ...resources, subject: user('ceo') }, await bearer())).status, 400);

  const actions = { subject: user('alice', { roles: ['admin'] }), resource: { type: 'doc', id: '1' } };
  const names = (res: { json(): { results: Array<{ name: string }> } }) => res.json().results.map((x) => x.name).sort();
  t.same(names(await post('/access/v1/search/action', actions)), ['doc:own', 'doc:secret']);
  t.same(names(await post('/access/v1/search/action', actions, await bearer())), ['doc:edit', 'doc:own'], 'the token\'s role editor, not the body\'s admin');
  t.same((await post('/access/v1/search/action', { ...actions, subject: user('ceo') }, await bearer())).status, 400);

  const subjects = { subject: { type: 'user' }, action: { name: 'doc:secret' }, resource: { type: 'doc', id: '1' } };
  t.same((await post('/access/v1/search/subject', subjects)).json().results, [{ type: 'user', id: 'ceo' }], 'without a token: every candidate');
  t.same((await post('/access/v1/search/subject', subjects, await bearer('ceo', { roles: [] }))).json().results, [{ type: 'user', id: 'ceo' }], 'the ceo\'s token: the ceo');
  t.same((await post('/access/v1/search/subject', subjects, await bearer())).json().results, [], 'alice\'s token: only alice is a candidate, and she may not');
  t.same((await post('/access/v1/search/subject', { ...subjects, action: { name: 'doc:edit' } }, await bearer())).json().results, [{ type: 'user', id: 'alice' }]);
});

t.test('plans: the token is the subject', async (t) => {
  const plan = { namespace: 'global', permission: 'doc:secret', resource: { type: 'doc' } };
  t.equal((await post('/v1/plan', { ...plan, subject: 'user:ceo' })).json().kind, 'always');
  const ceo = await post('/v1/plan', { ...plan, subject: 'user:ceo' }, await bearer());
  t.same([ceo.status, ceo.json().code], [400, 'SUBJECT_INVALID'], 'never the ceo\'s plan for alice\'s token');
  const mine = await post('/v1/plan', plan, await bearer('ceo', { roles: [] }));
  t.equal(mine.json().kind, 'always', 'no subject in the body: the token\'s');
  t.equal((await post('/v1/plan', { ...plan, subject: { id: 'user:alice', roles: ['admin'] } })).json().kind, 'always');
  t.equal((await post('/v1/plan', { ...plan, subject: { id: 'user:alice', roles: ['admin'] } }, await bearer())).json().kind, 'never', 'the token\'s roles');
  const rel = { resourceType: 'document', permission: 'read' };
  const relCeo = await post('/v1/relations/plan', { ...rel, subject: 'user:ceo' }, await bearer());
  t.same([relCeo.status, relCeo.json().code], [400, 'SUBJECT_INVALID']);
  const relMine = await post('/v1/relations/plan', rel, await bearer());
  t.equal(relMine.status, 200, relMine.body);
  // The relationship check and lookup-resources answer the same question about a subject.
  const relCheck = { resource: 'document:root', permission: 'read' };
  t.same([(await post('/v1/relations/check', { ...relCheck, subject: 'user:dave' }, await bearer('zed'))).json().code], ['SUBJECT_INVALID']);
  t.equal((await post('/v1/relations/check', relCheck, await bearer())).json().allowed, true, 'alice reads root (eng ⊂ staff)');
  t.equal((await post('/v1/relations/check', relCheck, await bearer('zed'))).json().allowed, false, 'zed does not');
  const lookup = { resourceType: 'document', permission: 'read' };
  t.same([(await post('/v1/relations/lookup-resources', { ...lookup, subject: 'user:dave' }, await bearer('zed'))).json().code], ['SUBJECT_INVALID']);
  t.same((await post('/v1/relations/lookup-resources', lookup, await bearer('zed'))).json().resources, ['document:handbook'], 'zed\'s documents, not dave\'s');
  const bad = await post('/v1/plan', plan, { authorization: 'Bearer a.b.c' });
  t.same([bad.status, bad.json().details.reason], [401, 'malformed']);
});

t.test('JWT_REQUIRED: AuthZEN and the plans without a token are 401', async (t) => {
  const strict = await testApp(t, { env: { ...env, JWT_REQUIRED: 'true' } });
  const s = await httpSender(strict.app);
  await s({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema });
  const requests: Array<[string, object]> = [
    ['/access/v1/evaluation', { subject: user('alice'), action: { name: 'doc:edit' }, resource: { type: 'doc', id: '1' } }],
    ['/access/v1/evaluations', { subject: user('alice'), resource: { type: 'doc', id: '1' }, evaluations: [{ action: { name: 'doc:edit' } }] }],
    ['/access/v1/search/resource', { subject: user('alice'), action: { name: 'doc:edit' }, resource: { type: 'doc' } }],
    ['/access/v1/search/action', { subject: user('alice'), resource: { type: 'doc', id: '1' } }],
    ['/access/v1/search/subject', { subject: { type: 'user' }, action: { name: 'doc:edit' }, resource: { type: 'doc', id: '1' } }],
    ['/v1/plan', { subject: 'user:alice', namespace: 'global', permission: 'doc:edit', resource: { type: 'doc' } }],
    ['/v1/relations/plan', { subject: 'user:alice', resourceType: 'document', permission: 'read' }],
    ['/v1/relations/check', { subject: 'user:alice', resource: 'document:root', permission: 'read' }],
    ['/v1/relations/lookup-resources', { subject: 'user:alice', resourceType: 'document', permission: 'read' }],
  ];
  for (const [url, payload] of requests) {
    const r = await s({ method: 'POST', url, payload });
    t.same([r.status, r.json().code, r.json().details?.reason], [401, 'TOKEN_INVALID', 'missing'], url);
    const ok = await s({ method: 'POST', url, payload, headers: { authorization: `Bearer ${await token()}` } });
    t.equal(ok.status, 200, `${url} with a token: ${ok.body.slice(0, 200)}`);
  }
});

t.test('DECISION_TOKEN: in X-Decision-Token beside the JWT, or in Authorization (never taken for a JWT) with the JWT in JWT_HEADER', async (t) => {
  // Shaped as a JWT (three dot-separated parts) on purpose: it is still this server's credential.
  const decisionToken = 'decision.token-of.this-server';
  const withHeader = await testApp(t, { env: { ...env, DECISION_TOKEN: decisionToken, JWT_HEADER: 'x-jwt-assertion' } });
  await putYaml(t, withHeader.app, 'global-base', 'key: global-base\nrules:\n  - subjects: ["role:editor"]\n    grant: ["doc:edit"]\n');
  const s = await httpSender(withHeader.app);
  const body = { subject: user('bob'), action: { name: 'doc:edit' }, resource: { type: 'doc', id: '1' } };
  const r = await s({ method: 'POST', url: '/access/v1/evaluation', payload: body, headers: { authorization: `Bearer ${decisionToken}` } });
  t.same([r.status, r.json().decision], [200, false], 'the decision token alone: the body\'s subject (bob, no roles)');
  const jwtBob = await s({ method: 'POST', url: '/access/v1/evaluation', payload: body, headers: { authorization: `Bearer ${decisionToken}`, 'x-jwt-assertion': await token({}, privateKey, 'bob') } });
  t.same([jwtBob.status, jwtBob.json().decision], [200, true], 'the JWT in x-jwt-assertion: bob with the token\'s role editor');
  const noGate = await s({ method: 'POST', url: '/access/v1/evaluation', payload: body, headers: { 'x-jwt-assertion': await token({}, privateKey, 'bob') } });
  t.equal(noGate.status, 401, 'a JWT is no decision token');

  const inAuthorization = await testApp(t, { env: { ...env, DECISION_TOKEN: decisionToken } });
  await putYaml(t, inAuthorization.app, 'global-base', 'key: global-base\nrules:\n  - subjects: ["role:editor"]\n    grant: ["doc:edit"]\n');
  const a = await httpSender(inAuthorization.app);
  const checkBob = { subject: 'user:bob', namespace: 'global', permission: 'doc:edit' };
  const c = await a({ method: 'POST', url: '/v1/check', payload: checkBob, headers: { authorization: `Bearer ${decisionToken}` } });
  t.same([c.status, c.json().allowed], [200, false], `the decision token is not verified as a JWT: the body's bob counts (${c.body.slice(0, 200)})`);
  const beside = await a({ method: 'POST', url: '/access/v1/evaluation', payload: body, headers: { 'x-decision-token': decisionToken, authorization: `Bearer ${await token({}, privateKey, 'bob')}` } });
  t.same([beside.status, beside.json().decision], [200, true], 'X-Decision-Token for the gate, the JWT in Authorization: bob the editor');
  const planBeside = await a({ method: 'POST', url: '/v1/plan', payload: { namespace: 'global', permission: 'doc:edit', resource: { type: 'doc' } }, headers: { 'x-decision-token': decisionToken, authorization: `Bearer ${await token({}, privateKey, 'bob')}` } });
  t.same([planBeside.status, planBeside.json().kind], [200, 'always']);

  const required = await testApp(t, { env: { ...env, DECISION_TOKEN: decisionToken, JWT_REQUIRED: 'true' } });
  const q = await httpSender(required.app);
  const only = await q({ method: 'POST', url: '/v1/check', payload: checkBob, headers: { authorization: `Bearer ${decisionToken}` } });
  t.same([only.status, only.json().details?.reason], [401, 'missing'], 'the decision token alone is no JWT');
});
