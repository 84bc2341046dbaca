// JWT verification cost per request with the keys cached (docs/jwt.md): JwtSubjects.verify
// alone for ES256, RS256 (2048-bit) and EdDSA tokens, and a whole /v1/check through
// fastify's inject with a bearer JWT against the same check with the subject in the body
// (cache hits both: the difference is the token). Keys are made here; the JWKS is a file.
// Run:
//   nice -n 10 node --import tsx bench/jwt.ts [--quick]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createServices } from '../src/compose.js';
import { buildApp } from '../src/server/app.js';
import { JwtSubjects } from '../src/engine/tokens/jwt-subjects.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { int, ns } from './lib/util.js';

const quick = process.argv.includes('--quick');
const N = quick ? 2_000 : 20_000;
const dir = mkdtempSync(join(tmpdir(), 'pe-bench-jwt-'));
const ISS = 'https://idp.bench';
const AUD = 'pe';

const algs = ['ES256', 'RS256', 'EdDSA'] as const;
const keys: JWK[] = [];
const tokens: Record<string, string> = {};
for (const alg of algs) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  keys.push({ ...(await exportJWK(publicKey)), kid: alg, alg });
  tokens[alg] = await new SignJWT({ roles: ['editor'], email: 'alice@example.com', tenant: 't1' })
    .setProtectedHeader({ alg, kid: alg }).setSubject('alice').setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('1h').sign(privateKey);
}
const jwksFile = join(dir, 'jwks.json');
writeFileSync(jwksFile, JSON.stringify({ keys }));

function stats(samples: Float64Array): { avg: number; p50: number; p99: number } {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return { avg: sum / sorted.length, p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]! };
}

async function timeAsync(fn: () => Promise<unknown>, n: number): Promise<{ avg: number; p50: number; p99: number; perSec: number }> {
  for (let i = 0; i < Math.min(500, n / 10); i++) await fn();
  const d = new Float64Array(n);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    d[i] = Number(process.hrtime.bigint() - t0);
  }
  const total = Number(process.hrtime.bigint() - start);
  return { ...stats(d), perSec: (n / total) * 1e9 };
}

const line = (label: string, r: { avg: number; p50: number; p99: number; perSec: number }) =>
  console.log(`${label}: ${int(r.perSec)}/s, avg ${ns(r.avg)}, p50 ${ns(r.p50)}, p99 ${ns(r.p99)}`);

const subjects = new JwtSubjects({
  jwksFile, issuer: ISS, audience: [AUD], algorithms: [...algs], clockSkewMs: 30_000, subjectPrefix: 'user:',
  rolesClaim: 'roles', groupsClaim: 'groups', header: 'authorization', required: false,
  jwksCooldownMs: 30_000, jwksMaxAgeMs: 600_000, jwksTimeoutMs: 5000,
});
for (const alg of algs) line(`JwtSubjects.verify ${alg} (keys cached)`, await timeAsync(() => subjects.verify(tokens[alg]!), N));

const config = loadConfig({ LOG_LEVEL: 'silent', JWT_JWKS_FILE: jwksFile, JWT_ISSUER: ISS, JWT_AUDIENCE: AUD, JWT_ALGORITHMS: algs.join(','), DECISION_LOG: 'false', SAMPLES_ENABLED: 'false' });
const services = await createServices(config, pino({ level: 'silent' }), new MemoryStore());
const app = await buildApp({
  decisions: services.decisions, entities: services.entities, ...(services.tokens ? { tokens: services.tokens } : {}),
  auth: { adminToken: undefined, loopbackOnly: true }, bodyLimit: config.bodyLimit,
});
const payload = JSON.stringify({ namespace: 'global', permission: 'doc:edit' });
const withBody = JSON.stringify({ namespace: 'global', permission: 'doc:edit', subject: { id: 'user:alice', roles: ['editor'], attributes: { email: 'alice@example.com', tenant: 't1' } } });
const check = (headers: Record<string, string>, body: string) => async () => {
  const r = await app.inject({ method: 'POST', url: '/v1/check', headers: { 'content-type': 'application/json', ...headers }, payload: body });
  if (r.statusCode !== 200) throw new Error(r.body);
};
const M = quick ? 1_000 : 10_000;
line('POST /v1/check (inject), subject in the body', await timeAsync(check({}, withBody), M));
line('POST /v1/check (inject), ES256 bearer JWT', await timeAsync(check({ authorization: `Bearer ${tokens.ES256}` }, payload), M));
line('POST /v1/check (inject), RS256 bearer JWT', await timeAsync(check({ authorization: `Bearer ${tokens.RS256}` }, payload), M));
await app.close();
await services.close();
rmSync(dir, { recursive: true, force: true });
