// JWT subjects (docs/jwt.md) with keys this test makes: a valid token becomes the subject
// (prefix, roles, groups, claims as attributes); every hostile token is refused with 401
// TOKEN_INVALID and its stable reason; the JWKS from a file or a URL is cached, read again
// on an unknown kid (keys rotate), and a flood of forged kids costs no extra read within
// the cooldown; an unreadable JWKS is 503 TOKEN_KEYS_UNAVAILABLE.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createHmac } from 'node:crypto';
import { JwtSubjects, type JwtSettings } from '../../../src/engine/tokens/jwt-subjects.js';
import { PolicyEngineError } from '../../../src/errors.js';

const ISS = 'https://issuer.test';
const AUD = 'policy-engine';
const dir = mkdtempSync(join(tmpdir(), 'pe-jwt-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function keyPair(alg: string, kid: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const rsa = await keyPair('RS256', 'rsa-1');
const ec = await keyPair('ES256', 'ec-1');
const rotated = await keyPair('RS256', 'rsa-2');
const stranger = await keyPair('RS256', 'rsa-1'); // same kid, another key
const pss = await keyPair('PS256', 'rsa-1');

const jwksFile = join(dir, 'jwks.json');
writeFileSync(jwksFile, JSON.stringify({ keys: [rsa.jwk, ec.jwk] }));

const base: JwtSettings = {
  jwksFile, issuer: ISS, audience: [AUD], algorithms: ['RS256', 'ES256'], clockSkewMs: 30_000,
  subjectPrefix: 'user:', rolesClaim: 'roles', groupsClaim: 'groups', header: 'authorization', required: false,
  jwksCooldownMs: 60_000, jwksMaxAgeMs: 600_000, jwksTimeoutMs: 2000,
};

interface Sign {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  key?: CryptoKey;
  alg?: string;
  kid?: string;
  iss?: string;
  aud?: string;
  exp?: number | string;
  sub?: string | null;
}

async function sign(o: Sign = {}): Promise<string> {
  const alg = o.alg ?? 'RS256';
  let jwt = new SignJWT({ roles: ['editor'], groups: ['eng'], email: 'alice@example.com', ...(o.claims ?? {}) })
    .setProtectedHeader({ alg, kid: o.kid ?? 'rsa-1', ...(o.header ?? {}) })
    .setIssuer(o.iss ?? ISS).setAudience(o.aud ?? AUD).setIssuedAt().setExpirationTime(o.exp ?? '5m');
  if (o.sub !== null) jwt = jwt.setSubject(o.sub ?? 'alice');
  return jwt.sign(o.key ?? rsa.privateKey);
}

async function refusal(subjects: JwtSubjects, token: string): Promise<string> {
  try {
    await subjects.verify(token);
  } catch (err) {
    if (err instanceof PolicyEngineError) return err.code === 'TOKEN_INVALID' ? (err.details as { reason: string }).reason : err.code;
    throw err;
  }
  return 'accepted';
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

t.test('a valid token: prefix + sub, roles, groups, every other claim an attribute', async (t) => {
  const subjects = new JwtSubjects(base);
  const s = await subjects.verify(await sign({ claims: { tenant: 't1', 'mfa.verified': true } }));
  t.equal(s.id, 'user:alice');
  t.same(s.roles, ['editor']);
  t.same(s.groups, ['eng']);
  t.match(s.attributes, { email: 'alice@example.com', tenant: 't1', 'mfa.verified': true, iss: ISS, aud: AUD });
  t.notOk('sub' in s.attributes);
  t.notOk('roles' in s.attributes);
  t.equal((await subjects.verify(await sign({ alg: 'ES256', kid: 'ec-1', key: ec.privateKey }))).id, 'user:alice', 'ES256 with its key');
  const keycloak = new JwtSubjects({ ...base, rolesClaim: 'realm_access.roles', subjectPrefix: '' });
  const k = await keycloak.verify(await sign({ claims: { realm_access: { roles: ['admin'] } } }));
  t.same([k.id, k.roles], ['alice', ['admin']], 'a dotted roles claim reaches into an object; no prefix');
  const scopes = new JwtSubjects({ ...base, rolesClaim: 'scope' });
  t.same((await scopes.verify(await sign({ claims: { scope: 'read write' } }))).roles, ['read', 'write'], 'a space-separated claim');
  t.equal(await refusal(subjects, await sign({ claims: { roles: [1, 2] } })), 'claims', 'roles that are not names');
});

t.test('hostile tokens: 401 with a stable reason, never a guess', async (t) => {
  const subjects = new JwtSubjects(base);
  const good = await sign();
  const [h, p, sig] = good.split('.') as [string, string, string];
  const now = Math.floor(Date.now() / 1000);
  const pem = await exportSPKI(rsa.publicKey);
  const hsHeader = b64({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' });
  const hsPayload = b64({ sub: 'mallory', iss: ISS, aud: AUD, exp: now + 300, roles: ['admin'] });
  const confusion = `${hsHeader}.${hsPayload}.${createHmac('sha256', pem).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`;
  const confusionJwk = `${hsHeader}.${hsPayload}.${createHmac('sha256', JSON.stringify(rsa.jwk)).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`;
  const cases: Array<[string, string, string]> = [
    ['alg none', new UnsecuredJWT({ sub: 'mallory', roles: ['admin'] }).setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').encode(), 'malformed'],
    ['alg none with a signature part', `${b64({ alg: 'none' })}.${p}.${sig}`, 'algorithm'],
    ['alg NONE', `${b64({ alg: 'NONE', kid: 'rsa-1' })}.${p}.${sig}`, 'algorithm'],
    ['HS256 signed with the RSA public key (PEM) as the secret', confusion, 'algorithm'],
    ['HS256 signed with the public JWK as the secret', confusionJwk, 'algorithm'],
    ['an algorithm not configured (PS256)', await sign({ alg: 'PS256', key: pss.privateKey }), 'algorithm'],
    ['expired beyond the skew', await sign({ exp: now - 120 }), 'expired'],
    ['not valid yet', await sign({ claims: { nbf: now + 600 } }), 'not_yet_valid'],
    ['wrong audience', await sign({ aud: 'someone-else' }), 'audience'],
    ['wrong issuer', await sign({ iss: 'https://evil.test' }), 'issuer'],
    ['no sub', await sign({ sub: null }), 'claims'],
    ['no exp', await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).setSubject('alice').setIssuer(ISS).setAudience(AUD).sign(rsa.privateKey), 'claims'],
    ['unknown kid', await sign({ kid: 'nope' }), 'unknown_key'],
    ['a known kid, another key', await sign({ key: stranger.privateKey }), 'signature'],
    ['payload swapped after signing', `${h}.${b64({ sub: 'mallory', iss: ISS, aud: AUD, exp: now + 300, roles: ['admin'] })}.${sig}`, 'signature'],
    ['signature stripped', `${h}.${p}.`, 'malformed'],
    ['huge kid', await sign({ kid: 'k'.repeat(5000) }), 'malformed'],
    ['kid not a string', `${b64({ alg: 'RS256', kid: { $ne: 1 } })}.${p}.${sig}`, 'malformed'],
    ['huge token', `${h}.${'A'.repeat(20_000)}.${sig}`, 'malformed'],
    ['jku (a key URL in the header)', await sign({ header: { jku: 'https://evil.test/jwks.json' } }), 'header'],
    ['jwk (an embedded key)', await sign({ header: { jwk: stranger.jwk }, key: stranger.privateKey }), 'header'],
    ['x5u', await sign({ header: { x5u: 'https://evil.test/cert.pem' } }), 'header'],
    ['x5c', await sign({ header: { x5c: ['MIIB'] } }), 'header'],
    ['header not JSON', `${Buffer.from('{alg').toString('base64url')}.${p}.${sig}`, 'malformed'],
    ['not three parts', `${h}.${p}`, 'malformed'],
    ['not base64url', `${h}.${p}.a+b/c=`, 'malformed'],
    ['__proto__ in the claims', await sign({ claims: JSON.parse('{"__proto__": {"admin": true}}') as Record<string, unknown> }), 'claims'],
  ];
  for (const [name, token, reason] of cases) t.equal(await refusal(subjects, token), reason, name);
  t.equal(await refusal(subjects, good), 'accepted', 'the good token still passes');
});

t.test('expiry within the clock skew is accepted; beyond it refused', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const subjects = new JwtSubjects({ ...base, clockSkewMs: 60_000 });
  t.equal(await refusal(subjects, await sign({ exp: now - 20 })), 'accepted');
  t.equal(await refusal(new JwtSubjects({ ...base, clockSkewMs: 0 }), await sign({ exp: now - 20 })), 'expired');
});

t.test('tokenOf: Bearer JWTs from Authorization, opaque bearer tokens left alone, or a configured header', async (t) => {
  const subjects = new JwtSubjects(base);
  t.equal(subjects.tokenOf({ authorization: 'Bearer a.b.c' }), 'a.b.c');
  t.equal(subjects.tokenOf({ authorization: 'Bearer opaque-admin-token' }), undefined);
  t.equal(subjects.tokenOf({ authorization: 'Basic dXNlcjpwYXNz' }), undefined);
  t.equal(subjects.tokenOf({}), undefined);
  const custom = new JwtSubjects({ ...base, header: 'x-jwt-assertion' });
  t.equal(custom.tokenOf({ 'x-jwt-assertion': 'x.y.z' }), 'x.y.z');
  t.equal(custom.tokenOf({ 'x-jwt-assertion': 'garbage' }), 'garbage', 'a configured header is always a token: garbage is refused, not ignored');
});

t.test('a JWKS file: read again on an unknown kid (rotation) within the cooldown rule', async (t) => {
  const file = join(dir, 'rotating.json');
  writeFileSync(file, JSON.stringify({ keys: [rsa.jwk] }));
  let clock = 1_000_000;
  const subjects = new JwtSubjects({ ...base, jwksFile: file, jwksCooldownMs: 30_000, now: () => clock });
  // The injected clock is also the token clock: sign relative to it.
  const at = Math.floor(clock / 1000);
  const tok = (kid: string, key: CryptoKey) => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid }).setSubject('alice').setIssuer(ISS).setAudience(AUD).setIssuedAt(at).setExpirationTime(at + 3600).sign(key);
  t.equal(await refusal(subjects, await tok('rsa-1', rsa.privateKey)), 'accepted');
  writeFileSync(file, JSON.stringify({ keys: [rsa.jwk, rotated.jwk] }));
  t.equal(await refusal(subjects, await tok('rsa-2', rotated.privateKey)), 'unknown_key', 'within the cooldown the file is not read again');
  clock += 31_000;
  t.equal(await refusal(subjects, await tok('rsa-2', rotated.privateKey)), 'accepted', 'after it, an unknown kid reads the file again');
  writeFileSync(file, 'not json');
  clock += 31_000;
  t.equal(await refusal(subjects, await tok('rsa-3', rotated.privateKey)), 'TOKEN_KEYS_UNAVAILABLE', 'a broken file is a 503, not a guess');
  t.equal(await refusal(new JwtSubjects({ ...base, jwksFile: join(dir, 'missing.json') }), await sign()), 'TOKEN_KEYS_UNAVAILABLE');
});

t.test('a JWKS URL: fetched once and cached; forged kids cost no fetch within the cooldown; rotation is picked up after it; down is 503', async (t) => {
  let keys: JWK[] = [rsa.jwk];
  let fetches = 0;
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  const subjects = new JwtSubjects({ ...base, jwksFile: undefined, jwksUrl: url, jwksCooldownMs: 60_000 });
  for (let i = 0; i < 5; i++) t.equal(await refusal(subjects, await sign()), 'accepted');
  t.equal(fetches, 1, 'one fetch for five tokens');
  for (let i = 0; i < 20; i++) t.equal(await refusal(subjects, await sign({ kid: `forged-${i}` })), 'unknown_key');
  t.equal(fetches, 1, 'twenty forged kids within the cooldown: no further fetch');

  keys = [rsa.jwk, rotated.jwk];
  const eager = new JwtSubjects({ ...base, jwksFile: undefined, jwksUrl: url, jwksCooldownMs: 0 });
  t.equal(await refusal(eager, await sign()), 'accepted');
  const before = fetches;
  t.equal(await refusal(eager, await sign({ kid: 'rsa-2', key: rotated.privateKey })), 'accepted', 'a rotated key is found by fetching again');
  t.ok(fetches <= before + 1);

  const down = new JwtSubjects({ ...base, jwksFile: undefined, jwksUrl: 'http://127.0.0.1:1/jwks.json' });
  t.equal(await refusal(down, await sign()), 'TOKEN_KEYS_UNAVAILABLE');
});
