// Delegated administration with JWTs (docs/audit.md): ADMIN_TOKENS_FILE entries that name
// verified tokens (`jwt: { sub }` or `jwt: { claim, value }`) instead of a token digest.
// A table of JWT credentials × routes × namespaces (prefix tricks included), then the
// tokens that must never pass (expired, not yet valid, another issuer or audience,
// `alg: none`, a bad signature, HMAC signed with the RSA public key), the first matching
// entry winning, the actor `jwt:<sub>` in the history, inline policies, the playground's
// page guard, and revocation by editing the file. Keys are made here with jose.

import { createHash } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, type KeyInput } from 'jose';
import { testApp } from '../helpers/app.js';
import { exampleSchema } from '../helpers/relations-example.js';
import { jwtMatches, parseCredentials } from '../../src/server/credentials.js';
import type { VerifiedClaims } from '../../src/engine/tokens/jwt-subjects.js';

const ROOT = 'root-token-0123456789abcdef';
const HASHED = 'hashed-team-token-aaaaaaaaaa';
const ISSUER = 'https://idp.test';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const dir = await mkdtemp(join(tmpdir(), 'pe-jwt-admin-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const rsa = await generateKeyPair('RS256', { extractable: true });
const stranger = await generateKeyPair('RS256', { extractable: true });
const jwksFile = join(dir, 'jwks.json');
await writeFile(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }));
const jwtEnv = { JWT_JWKS_FILE: jwksFile, JWT_ISSUER: ISSUER, JWT_AUDIENCE: 'policy-engine', JWT_ALGORITHMS: 'RS256' };

interface TokenOptions {
  key?: KeyInput;
  alg?: string;
  iss?: string;
  aud?: string;
  exp?: number | string;
  nbf?: number;
}
const now = () => Math.floor(Date.now() / 1000);
async function jwt(sub: string, claims: JWTPayload = {}, o: TokenOptions = {}): Promise<string> {
  let b = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'RS256', kid: 'k1' }).setSubject(sub)
    .setIssuer(o.iss ?? ISSUER).setAudience(o.aud ?? 'policy-engine').setExpirationTime(o.exp ?? '5m').setIssuedAt();
  if (o.nbf !== undefined) b = b.setNotBefore(o.nbf);
  return b.sign(o.key ?? rsa.privateKey);
}
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The file: JWT credentials by subject, by a list claim, by a dotted path, by a string claim; one hashed token beside them. */
function credentialsFile(without: string[] = []): string {
  const all = [
    { name: 'alice', jwt: { sub: 'alice' }, verbs: ['read', 'write'], namespaces: ['org:57af'] },
    { name: 'team-57af', jwt: { claim: 'groups', value: 'team-57af' }, verbs: ['read', 'write', 'preview'], namespaces: ['org:57af'] },
    // Comes after team-57af: carol, in that group, gets the team's scope (the first match wins).
    { name: 'carol', jwt: { sub: 'carol' }, verbs: ['read', 'write'], namespaces: ['other'] },
    { name: 'relations-admins', jwt: { claim: 'realm_access.roles', value: 'relations-admin' }, verbs: ['relations'], namespaces: ['*'] },
    { name: 'tenant-57af', jwt: { claim: 'tenant', value: '57af' }, verbs: ['read', 'write'], namespaces: ['org:57af*'] },
    { name: 'directory', jwt: { claim: 'role', value: 'directory' }, verbs: ['entities'], namespaces: ['*'] },
    { name: 'hashed-team', sha256: sha(HASHED), verbs: ['read'], namespaces: ['org:57af'] },
  ];
  return JSON.stringify({ credentials: all.filter((c) => !without.includes(c.name)) });
}

const policy = (key: string) => `key: ${key}\nrules:\n  - subjects: ["*"]\n    grant: ["doc:read"]\n`;

t.test('the file format: jwt entries, and what it refuses', async (t) => {
  const entry = (extra: Record<string, unknown>) => JSON.stringify({ credentials: [{ name: 'x', verbs: ['read'], namespaces: ['a'], ...extra }] });
  const on = { jwt: true };
  t.same(parseCredentials(entry({ jwt: { sub: 'alice' } }), on)[0], { name: 'x', kind: 'jwt', jwt: { sub: 'alice' }, verbs: ['read'], namespaces: ['a'] });
  t.same(parseCredentials(entry({ jwt: { claim: 'realm_access.roles', value: 'admin' } }), on)[0]?.kind, 'jwt');
  t.equal(parseCredentials(`credentials:\n  - name: y\n    jwt: { claim: "https://example.com/groups", value: ops }\n    verbs: [write]\n    namespaces: ["org:1"]\n`, on).length, 1, 'YAML, and a URL-named claim');
  t.throws(() => parseCredentials(entry({ jwt: { sub: 'alice' } })), /needs JWT verification on/, 'a jwt entry without JWT keys could never match');
  t.throws(() => parseCredentials(entry({ jwt: { sub: 'alice' }, sha256: sha('a') }), on), /either sha256 .* or jwt/);
  t.throws(() => parseCredentials(entry({}), on), /either sha256 .* or jwt/);
  t.throws(() => parseCredentials(entry({ jwt: { sub: '' } }), on), /jwt\.sub/);
  t.throws(() => parseCredentials(entry({ jwt: { sub: 'a', claim: 'b' } }), on), /jwt must be/);
  t.throws(() => parseCredentials(entry({ jwt: { claim: 'groups' } }), on), /jwt must be/);
  t.throws(() => parseCredentials(entry({ jwt: { claim: 'groups', value: 7 } }), on), /jwt\.value/);
  t.throws(() => parseCredentials(entry({ jwt: { claim: 'a.__proto__.b', value: 'x' } }), on), /jwt\.claim/);
  t.throws(() => parseCredentials(entry({ jwt: { claim: 'a..b', value: 'x' } }), on), /jwt\.claim/);
  t.throws(() => parseCredentials(entry({ jwt: 'alice' }), on), /jwt must be/);
  t.throws(() => parseCredentials(JSON.stringify({ credentials: [
    { name: 'x', jwt: { sub: 'alice' }, verbs: ['read'], namespaces: ['a'] }, { name: 'y', jwt: { sub: 'alice' }, verbs: ['write'], namespaces: ['b'] },
  ] }), on), /already matches the same JWTs/, 'a second entry matching the same tokens would never be used');
});

t.test('claims match: a string equal to the value, or a list holding it; dotted paths', async (t) => {
  const claims = { sub: 'alice', groups: ['a', 'team-57af'], tenant: '57af', n: 5, realm_access: { roles: ['relations-admin'] }, 'https://x.test/role': 'ops' } as VerifiedClaims;
  t.ok(jwtMatches({ sub: 'alice' }, claims));
  t.notOk(jwtMatches({ sub: 'alic' }, claims));
  t.ok(jwtMatches({ claim: 'groups', value: 'team-57af' }, claims));
  t.notOk(jwtMatches({ claim: 'groups', value: 'team' }, claims), 'membership, not a substring');
  t.ok(jwtMatches({ claim: 'tenant', value: '57af' }, claims));
  t.notOk(jwtMatches({ claim: 'tenant', value: '57a' }, claims));
  t.notOk(jwtMatches({ claim: 'n', value: '5' }, claims), 'a number is not the string');
  t.ok(jwtMatches({ claim: 'realm_access.roles', value: 'relations-admin' }, claims));
  t.ok(jwtMatches({ claim: 'https://x.test/role', value: 'ops' }, claims), 'a claim named with dots is looked up whole first');
  t.notOk(jwtMatches({ claim: 'missing.path', value: 'x' }, claims));
});

t.test('JWT credentials × routes × namespaces', async (t) => {
  const file = join(dir, 'credentials.json');
  await writeFile(file, credentialsFile());
  const { app } = await testApp(t, { env: { ...jwtEnv, ADMIN_TOKEN: ROOT, ADMIN_TOKENS_FILE: file, ADMIN_TOKENS_RELOAD_MS: '100' } });
  const as = (token: string | undefined, extra: Record<string, string> = {}) => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra });
  for (const key of ['org:57af-base', 'org:57af0-base', 'org:57af:eu-base', 'other-base']) {
    const r = await app.inject({ method: 'PUT', url: `/v1/policies/${key}`, headers: as(ROOT, { 'content-type': 'application/yaml' }), payload: policy(key) });
    t.equal(r.statusCode, 201, `${key}: ${r.body}`);
  }
  t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: as(ROOT, { 'content-type': 'application/yaml' }), payload: exampleSchema })).statusCode, 200);

  const alice = await jwt('alice');
  const team = await jwt('bob', { groups: ['staff', 'team-57af'] });
  const carol = await jwt('carol', { groups: ['team-57af'] });
  const rel = await jwt('sync-bot', { realm_access: { roles: ['relations-admin'] } });
  const tenant = await jwt('dave', { tenant: '57af' });
  const tenantLookalike = await jwt('erin', { tenant: ['57af0'] });
  const directory = await jwt('dir-bot', { role: 'directory' });
  const nobody = await jwt('mallory', { groups: ['team-57af0'] });

  type Row = [who: string, token: string | undefined, method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, body: string | object | undefined, status: number, code?: string];
  const rows: Row[] = [
    ['alice', alice, 'GET', '/v1/policies/org:57af-base', undefined, 200],
    ['alice', alice, 'GET', '/v1/policies/org:57af:eu-base', undefined, 200],
    ['alice', alice, 'GET', '/v1/policies/org:57af0-base', undefined, 404, 'POLICY_NOT_FOUND'],
    ['alice', alice, 'GET', '/v1/policies/other-base', undefined, 404, 'POLICY_NOT_FOUND'],
    ['alice', alice, 'PUT', '/v1/policies/org:57af-alice', policy('org:57af-alice'), 201],
    ['alice', alice, 'PUT', '/v1/policies/org:57af0-alice', policy('org:57af0-alice'), 403, 'SCOPE_FORBIDDEN'],
    ['alice', alice, 'PUT', '/v1/policies/org%3A57af0-alice', policy('org:57af0-alice'), 403, 'SCOPE_FORBIDDEN'],
    ['alice', alice, 'GET', '/v1/policies?namespace=org:57af0', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['alice', alice, 'POST', '/v1/preview', { delete: ['org:57af-base'], samples: false, tests: false }, 403, 'SCOPE_FORBIDDEN'],
    ['alice', alice, 'POST', '/v1/relations/write', { writes: ['document:d1#owner@user:alice'] }, 403, 'SCOPE_FORBIDDEN'],
    ['alice', alice, 'PUT', '/v1/entities/user:zed', { roles: ['x'] }, 403, 'SCOPE_FORBIDDEN'],
    ['alice', alice, 'POST', '/v1/validate', { documents: [policy('org:57af-v')] }, 200],
    ['team (list claim)', team, 'PUT', '/v1/policies/org:57af-team', policy('org:57af-team'), 201],
    ['team (list claim)', team, 'PUT', '/v1/policies/org:57af0-team', policy('org:57af0-team'), 403, 'SCOPE_FORBIDDEN'],
    ['team (list claim)', team, 'POST', '/v1/preview', { delete: ['org:57af-base'], samples: false, tests: false }, 200],
    ['team (list claim)', team, 'POST', '/v1/preview', { delete: ['other-base'], samples: false, tests: false }, 403, 'SCOPE_FORBIDDEN'],
    ['carol (first match wins)', carol, 'PUT', '/v1/policies/org:57af-carol', policy('org:57af-carol'), 201],
    ['carol (first match wins)', carol, 'PUT', '/v1/policies/other-carol', policy('other-carol'), 403, 'SCOPE_FORBIDDEN'],
    ['relations (dotted claim)', rel, 'POST', '/v1/relations/write', { writes: ['document:d1#owner@user:alice'] }, 200],
    ['relations (dotted claim)', rel, 'GET', '/v1/policies/org:57af-base', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['relations (dotted claim)', rel, 'POST', '/v1/validate', { documents: [policy('org:57af-v')] }, 403, 'SCOPE_FORBIDDEN'],
    ['tenant (string claim, raw prefix)', tenant, 'PUT', '/v1/policies/org:57af0-tenant', policy('org:57af0-tenant'), 201],
    ['tenant (string claim, raw prefix)', tenant, 'PUT', '/v1/policies/other-tenant', policy('other-tenant'), 403, 'SCOPE_FORBIDDEN'],
    ['tenant look-alike', tenantLookalike, 'GET', '/v1/policies/org:57af-base', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['directory', directory, 'PUT', '/v1/entities/user:zed', { roles: ['x'] }, 201],
    ['directory', directory, 'PUT', '/v1/policies/org:57af-dir', policy('org:57af-dir'), 403, 'SCOPE_FORBIDDEN'],
    ['valid JWT, no entry', nobody, 'GET', '/v1/policies/org:57af-base', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['valid JWT, no entry', nobody, 'PUT', '/v1/policies/org:57af-m', policy('org:57af-m'), 403, 'SCOPE_FORBIDDEN'],
    ['valid JWT, no entry', nobody, 'GET', '/metrics', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['hashed token beside them', HASHED, 'GET', '/v1/policies/org:57af-base', undefined, 200],
    ['hashed token beside them', HASHED, 'PUT', '/v1/policies/org:57af-h', policy('org:57af-h'), 403, 'SCOPE_FORBIDDEN'],
    ['root', ROOT, 'PUT', '/v1/policies/org:57af0-root', policy('org:57af0-root'), 201],
    ['unknown opaque token', 'not-a-known-token-zzzzzzzz', 'GET', '/v1/policies/org:57af-base', undefined, 401, 'UNAUTHORIZED'],
  ];
  for (const [who, token, method, url, body, status, code] of rows) {
    const headers = as(token, typeof body === 'string' ? { 'content-type': 'application/yaml' } : {});
    const r = await app.inject({ method, url, headers, ...(body !== undefined ? { payload: body } : {}) });
    t.equal(r.statusCode, status, `${who} ${method} ${url} → ${status} (${r.body.slice(0, 200)})`);
    if (code !== undefined) t.equal(r.json().code, code, `${who} ${method} ${url}: ${code}`);
  }

  // Tokens that never pass: 401 TOKEN_INVALID with the reason, on reads and writes alike, never taken for an opaque token.
  const pem = Buffer.from(await exportSPKI(rsa.publicKey));
  const refused: Array<[string, string, string]> = [
    ['expired', await jwt('alice', {}, { exp: now() - 3600 }), 'expired'],
    ['not yet valid', await jwt('alice', {}, { nbf: now() + 3600 }), 'not_yet_valid'],
    ['another issuer', await jwt('alice', {}, { iss: 'https://evil.test' }), 'issuer'],
    ['another audience', await jwt('alice', {}, { aud: 'another-service' }), 'audience'],
    ['signed by another key with the same kid', await jwt('alice', {}, { key: stranger.privateKey }), 'signature'],
    ['alg none', `${b64({ alg: 'none', kid: 'k1' })}.${b64({ sub: 'alice', iss: ISSUER, aud: 'policy-engine', exp: now() + 300 })}.`, 'malformed'],
    ['alg none with a signature part', `${b64({ alg: 'none', kid: 'k1' })}.${b64({ sub: 'alice', iss: ISSUER, aud: 'policy-engine', exp: now() + 300 })}.x`, 'algorithm'],
    ['HS256 signed with the RSA public key (PEM)', await jwt('alice', {}, { alg: 'HS256', key: pem }), 'algorithm'],
    ['HS256 signed with the RSA public key (modulus)', await jwt('alice', {}, { alg: 'HS256', key: Buffer.from((await exportJWK(rsa.publicKey)).n!, 'base64url') }), 'algorithm'],
    ['a payload changed after signing', (() => { const [h, , s] = alice.split('.'); return `${h}.${b64({ sub: 'alice', iss: ISSUER, aud: 'policy-engine', exp: now() + 300, groups: ['team-57af'] })}.${s}`; })(), 'signature'],
    ['garbage in the JWT shape', 'a.b.c', 'malformed'],
  ];
  for (const [name, token, reason] of refused) {
    for (const [method, url, body] of [['GET', '/v1/policies/org:57af-base', undefined], ['PUT', '/v1/policies/org:57af-bad', policy('org:57af-bad')]] as const) {
      const r = await app.inject({ method, url, headers: as(token, body ? { 'content-type': 'application/yaml' } : {}), ...(body ? { payload: body } : {}) });
      t.equal(r.statusCode, 401, `${name}: ${method} → 401 (${r.body.slice(0, 200)})`);
      t.same([r.json().code, r.json().details?.reason], ['TOKEN_INVALID', reason], `${name}: ${method}`);
    }
  }
  t.equal((await app.inject({ method: 'GET', url: '/v1/policies/org:57af-bad', headers: as(ROOT) })).statusCode, 404, 'no refused token wrote anything');

  // Inline policies (caller-supplied code) take the same credentials: a JWT with `write`, and only it.
  // With JWT_HEADER=authorization the same token is the request's subject (docs/jwt.md).
  const inline = { policies: [{ key: 'global-inline', rules: [{ subjects: ['user:dave'], grant: ['doc:read'] }] }] };
  const evaluate = (token: string | undefined, body: object = inline) => app.inject({ method: 'POST', url: '/v1/evaluate', headers: as(token), payload: body });
  const ran = await evaluate(tenant);
  t.equal(ran.statusCode, 200, `a JWT credential with write may send inline policies (${ran.body.slice(0, 200)})`);
  t.same(ran.json().permissions, ['doc:read'], 'evaluated for the token\'s subject');
  const other = await evaluate(tenant, { ...inline, subject: 'user:x' });
  t.same([other.statusCode, other.json().code], [400, 'SUBJECT_INVALID'], 'a body naming another subject than the token is refused');
  const noWrite = await evaluate(rel);
  t.same([noWrite.statusCode, noWrite.json().code], [403, 'SCOPE_FORBIDDEN'], 'one without write may not');
  const stray = await evaluate(nobody);
  t.same([stray.statusCode, stray.json().code], [403, 'SCOPE_FORBIDDEN'], 'nor a valid JWT that matches no entry');
  const expired = await evaluate(refused[0]![1]);
  t.same([expired.statusCode, expired.json().code], [401, 'TOKEN_INVALID'], 'nor an expired one');

  // The history names the token's subject: jwt:<sub>, whichever entry matched.
  const feed = await app.inject({ method: 'GET', url: '/v1/changes?limit=500', headers: as(ROOT) });
  const actors = new Set(feed.json().changes.map((c: { actor: string }) => c.actor));
  t.same([...actors].sort(), ['admin', 'jwt:alice', 'jwt:bob', 'jwt:carol', 'jwt:dave', 'jwt:dir-bot', 'jwt:sync-bot'], 'each write names its JWT subject');
  const history = await app.inject({ method: 'GET', url: '/v1/policies/org:57af-team/history', headers: as(alice) });
  t.equal(history.json().entries?.[0]?.actor, 'jwt:bob', 'and so does the policy\'s history');

  // Revocation: alice's entry leaves the file; her still-valid token matches nothing once it is re-read.
  await writeFile(`${file}.tmp`, credentialsFile(['alice']));
  await rename(`${file}.tmp`, file);
  let status = 0;
  for (let i = 0; i < 100 && status !== 403; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(alice) })).statusCode;
  }
  t.equal(status, 403, 'a removed JWT credential stops working after the reload (valid JWT, no entry)');
  t.equal((await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(team) })).statusCode, 200, 'the others keep working');
  // A broken file revokes the JWT credentials too; the root token stays.
  await writeFile(file, '{ not json');
  status = 0;
  for (let i = 0; i < 100 && status !== 403; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(team) })).statusCode;
  }
  t.equal(status, 403, 'a broken file fails closed for JWT credentials');
  t.equal((await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(ROOT) })).statusCode, 200, 'ADMIN_TOKEN stays the root credential');
});

t.test('the playground page takes JWT credentials through the same guard', async (t) => {
  const assets = join(dir, 'ui');
  await rm(assets, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(assets));
  await writeFile(join(assets, 'index.html'), '<!doctype html><title>playground</title>');
  const file = join(dir, 'ui-credentials.json');
  await writeFile(file, credentialsFile());
  const { app } = await testApp(t, { env: { ...jwtEnv, ADMIN_TOKEN: ROOT, ADMIN_TOKENS_FILE: file, UI_ENABLED: 'true' }, uiAssetsDir: assets, loopbackOnly: false });
  const page = async (token?: string) => app.inject({ url: '/ui', headers: token ? { authorization: `Bearer ${token}` } : {} });
  t.equal((await page()).statusCode, 200, 'no token: the page opens and asks for one');
  t.equal((await page(await jwt('alice'))).statusCode, 200, 'a JWT credential with write');
  t.equal((await page(await jwt('alice', {}, { exp: now() - 3600 }))).statusCode, 200, 'a JWT that does not verify is a wrong token: the page asks again');
  const noWrite = await page(await jwt('sync-bot', { realm_access: { roles: ['relations-admin'] } }));
  t.same([noWrite.statusCode, noWrite.json().code], [403, 'SCOPE_FORBIDDEN'], 'a JWT credential without write, as a hashed one');
  const none = await page(await jwt('mallory'));
  t.same([none.statusCode, none.json().code], [403, 'SCOPE_FORBIDDEN'], 'a valid JWT matching no entry');
});

t.test('without ADMIN_TOKENS_FILE a JWT is an unknown token; without JWT keys a jwt entry stops the start', async (t) => {
  const { app } = await testApp(t, { env: { ...jwtEnv, ADMIN_TOKEN: ROOT } });
  const r = await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: { authorization: `Bearer ${await jwt('alice')}` } });
  t.same([r.statusCode, r.json().code], [401, 'UNAUTHORIZED']);
  const file = join(dir, 'off-credentials.json');
  await writeFile(file, credentialsFile());
  await t.rejects(testApp(t, { env: { ADMIN_TOKEN: ROOT, ADMIN_TOKENS_FILE: file } }), /needs JWT verification on/);
});
