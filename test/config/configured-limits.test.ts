// Promises of the configuration table that no other test held: STORE=none,
// writes beyond loopback without a token, BODY_LIMIT, the namespace limits,
// CACHE_TTL_MS, TLS from TLS_CERT_FILE / TLS_KEY_FILE, and the client's preview().
// Each is exercised over HTTP on a fully wired service.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { PolicyEngineClient } from '../../src/client/client.js';
import { testApp, putYaml } from '../helpers/app.js';

const ROOT = join(import.meta.dirname, '..', '..');
const policy = 'key: global-base\nrules:\n  - subjects: ["role:editor"]\n    grant: ["doc:*"]\n';

t.test('STORE=none: stored state is refused with STORE_DISABLED, the policies mode works', async (t) => {
  const { app } = await testApp(t, { store: 'none' });
  const list = await app.inject({ method: 'GET', url: '/v1/policies' });
  t.equal(list.statusCode, 400);
  t.equal(list.json().code, 'STORE_DISABLED');
  const put = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml' }, payload: policy });
  t.equal(put.statusCode, 400);
  t.equal(put.json().code, 'STORE_DISABLED');
  const stored = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', roles: ['editor'] }, namespace: 'global' } });
  t.equal(stored.statusCode, 400, 'a decision over stored policies has none to use');
  t.equal(stored.json().code, 'STORE_DISABLED');
  const inline = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', roles: ['editor'] }, policies: [policy] } });
  t.equal(inline.statusCode, 200);
  t.same(inline.json().permissions, ['doc:*']);
});

const DECISION = 'decision-token-0123456789';

t.test('beyond loopback without ADMIN_TOKEN: writes are refused with WRITES_DISABLED, nothing stored', async (t) => {
  const { app } = await testApp(t, { loopbackOnly: false, env: { DECISION_TOKEN: DECISION } });
  const put = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml' }, payload: policy });
  t.equal(put.statusCode, 403);
  t.equal(put.json().code, 'WRITES_DISABLED');
  const del = await app.inject({ method: 'DELETE', url: '/v1/policies/global-base' });
  t.equal(del.statusCode, 403);
  t.equal(del.json().code, 'WRITES_DISABLED');
  const r = await app.inject({ method: 'POST', url: '/v1/evaluate', headers: { authorization: `Bearer ${DECISION}` }, payload: { subject: { id: 'u', roles: ['editor'] }, namespace: 'global' } });
  t.equal(r.statusCode, 200);
  t.equal(r.json().default, true, 'nothing was stored: the default answers');
});

t.test('BODY_LIMIT: a larger body is 413 BODY_TOO_LARGE, a smaller one is read', async (t) => {
  const { app } = await testApp(t, { env: { BODY_LIMIT: '2048' } });
  const big = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', attributes: { pad: 'x'.repeat(3000) } }, namespace: 'global' } });
  t.equal(big.statusCode, 413);
  t.equal(big.json().code, 'BODY_TOO_LARGE');
  const small = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', attributes: { pad: 'x'.repeat(1000) } }, namespace: 'global' } });
  t.equal(small.statusCode, 200);
});

t.test('MAX_NAMESPACE_DEPTH and MAX_NAMESPACE_LENGTH: paths past them are NAMESPACE_INVALID', async (t) => {
  const { app } = await testApp(t, { env: { MAX_NAMESPACE_DEPTH: '3', MAX_NAMESPACE_LENGTH: '10' } });
  const ask = (namespace: string) => app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u' }, namespace } });
  t.equal((await ask('global.a.b')).statusCode, 200, 'three namespaces: allowed');
  const deep = await ask('global.a.b.c');
  t.equal(deep.statusCode, 400, 'four namespaces: refused');
  t.equal(deep.json().code, 'NAMESPACE_INVALID');
  t.equal((await ask('global.abcdefghij')).statusCode, 200, 'ten characters: allowed');
  const long = await ask('global.abcdefghijk');
  t.equal(long.statusCode, 400, 'eleven characters: refused');
  t.equal(long.json().code, 'NAMESPACE_INVALID');
});

// Wall-clock bounds here are generous (2 s TTL): the exact expiry is tested with an
// injected clock in test/cache/decision-cache.test.ts.
t.test('CACHE_TTL_MS: a cached decision is recomputed once it is older than the bound', async (t) => {
  const { app } = await testApp(t, { env: { CACHE_TTL_MS: '2000' } });
  await putYaml(t, app, 'global-base', policy);
  const ask = async () => (await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', roles: ['editor'] }, namespace: 'global' } })).json();
  t.equal((await ask()).cached, false, 'first: computed');
  t.equal((await ask()).cached, true, 'at once: from the cache');
  await new Promise((r) => setTimeout(r, 2300));
  t.equal((await ask()).cached, false, 'past the TTL: computed again');
  const { app: noTtl } = await testApp(t);
  await putYaml(t, noTtl, 'global-base', policy);
  const again = async () => (await noTtl.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', roles: ['editor'] }, namespace: 'global' } })).json();
  await again();
  await new Promise((r) => setTimeout(r, 600));
  t.equal((await again()).cached, true, 'without CACHE_TTL_MS an entry stays until invalidated');
});

t.test('TLS_CERT_FILE and TLS_KEY_FILE: the server speaks HTTPS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
  t.equal(gen.status, 0, `openssl made a certificate ${gen.stderr}`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', STORE: 'none', TLS_CERT_FILE: cert, TLS_KEY_FILE: key, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Server listening" within 60 s: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += String(d);
      const m = /Server listening at (https?:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  t.match(url, /^https:\/\//, 'it listens with https');
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.get(`${url}/healthz`, { ca: readFileSync(cert) }, (res) => {
      let text = '';
      res.on('data', (d) => (text += String(d)));
      res.on('end', () => resolve(`${res.statusCode} ${text}`));
    });
    req.on('error', reject);
  });
  t.match(body, /^200 /, 'and answers over TLS with the configured certificate');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
});

t.test("the client's preview(): the impact of a change, through the real route", async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-base', policy);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const client = new PolicyEngineClient({ baseUrl: url });
  const tighter = 'key: global-base\nrules:\n  - subjects: ["role:editor"]\n    grant: ["doc:read"]\n';
  const result = await client.preview({ put: [tighter], requests: [{ subject: { id: 'ed', roles: ['editor'] }, namespace: 'global', permission: 'doc:write' }] });
  t.equal(result.complete, true);
  t.equal(result.requests.length, 1, 'the given request was answered under both states');
  const change = result.requests[0]!;
  t.same(change.before.checks, { 'doc:write': true });
  t.same(change.after.checks, { 'doc:write': false }, 'the tighter policy takes doc:write away');
  t.same(change.lost, ['doc:*']);
});
