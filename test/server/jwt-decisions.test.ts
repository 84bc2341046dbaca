// /v1/evaluate and /v1/check with JWT subjects on (JWT_JWKS_FILE): a verified token is the
// subject (its roles, its claims as attributes, the directory merged for its ref); a body
// naming another subject is refused; a bad token is 401 TOKEN_INVALID with its reason and
// nothing else happens; an opaque bearer token is not taken for a JWT; JWT_REQUIRED.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { testApp, putYaml } from '../helpers/app.js';
import { injectSender } from '../helpers/http.js';

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
  '  - subjects: ["user:alice"]', '    grant: ["doc:own"]', '',
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
