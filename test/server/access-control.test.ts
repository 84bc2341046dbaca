// Who may call what (issue 16 items 2, 5, 6, 7, 13; docs/security.md), over HTTP: tokens
// for code, reads and writes; Host and Origin checks against DNS rebinding and
// cross-origin pages; the token checked before the body is read; security headers on
// /docs. Host and Origin are sent as real headers on a listening socket.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { testApp } from '../helpers/app.js';
import { exampleSchema } from '../helpers/relations-example.js';
import { accessWarnings } from '../../src/server/admin-auth.js';
import { accessTable, routeAccess } from '../../src/server/route-access.js';
import { hostnameOf } from '../../src/server/request-origin.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const DECISION = 'decision-token-0123456789abcdef';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const POLICY = 'key: global-base\nrules:\n  - { id: r, subjects: ["*"], grant: [document:read] }\n';
const INLINE = { policies: [{ key: 'global-x', rules: [{ subjects: ['*'], grant: ['document:read'] }] }], subject: 'u' };
const SUITE = { name: 's', namespace: 'global', policies: [{ key: 'global-a', rules: [{ subjects: ['*'], grant: ['a:*'] }] }], cases: [{ name: 'c', subject: 'u', expect: { permissions: ['a:*'] } }] };

/** A server with tokens, a stored policy and a relationship schema with one tuple. */
async function tokenApp(t: Test, env: Record<string, string> = { ADMIN_TOKEN: ADMIN, READ_TOKEN: READ }): Promise<FastifyInstance> {
  const { app } = await testApp(t, { env });
  const auth = env.ADMIN_TOKEN ? bearer(env.ADMIN_TOKEN) : {};
  const put = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml', ...auth }, payload: POLICY });
  t.equal(put.statusCode, 201, put.body);
  const schema = await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml', ...auth }, payload: exampleSchema });
  t.equal(schema.statusCode, 200, schema.body);
  const w = await app.inject({ method: 'POST', url: '/v1/relations/write', headers: auth, payload: { writes: ['document:root#owner@user:dave'] } });
  t.equal(w.statusCode, 200, w.body);
  return app;
}

type Req = { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: string | object; headers?: Record<string, string> };

const READS: Req[] = [
  { method: 'GET', url: '/v1/policies' },
  { method: 'GET', url: '/v1/policies/global-base' },
  { method: 'GET', url: '/v1/relations?resource=document:root' },
  { method: 'GET', url: '/v1/relations/schema' },
  { method: 'GET', url: '/metrics' },
  { method: 'GET', url: '/docs' },
  { method: 'GET', url: '/docs/json' },
  { method: 'GET', url: '/openapi.json' },
];

t.test('item 5: with a token set, reads of stored state need the read or the admin token', async (t) => {
  const app = await tokenApp(t);
  for (const req of READS) {
    const name = `${req.method} ${req.url}`;
    const anon = await app.inject(req);
    t.equal(anon.statusCode, 401, `${name}: no token → 401`);
    t.equal(anon.json().code, 'UNAUTHORIZED', name);
    t.notMatch(anon.body, /global-base|user:dave|document:root/, `${name}: nothing of the state in the refusal`);
    const wrong = await app.inject({ ...req, headers: bearer(`${ADMIN}x`) });
    t.equal(wrong.statusCode, 401, `${name}: a wrong token → 401`);
    for (const [who, token] of [['read', READ], ['admin', ADMIN]] as const) {
      const r = await app.inject({ ...req, headers: bearer(token) });
      t.ok(r.statusCode === 200 || r.statusCode === 302, `${name} with the ${who} token: ${r.statusCode}`);
    }
  }
  const head = await app.inject({ method: 'HEAD', url: '/v1/policies/global-base' });
  t.equal(head.statusCode, 401, 'HEAD is a read too');
});

t.test('item 5: decisions and health stay open; READ_TOKEN is refused for writes', async (t) => {
  const app = await tokenApp(t);
  const ev = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global' } });
  t.equal(ev.statusCode, 200, ev.body);
  t.same(ev.json().permissions, ['document:read']);
  t.equal((await app.inject({ method: 'POST', url: '/v1/check', payload: { subject: 'u', namespace: 'global', permission: 'document:read' } })).json().allowed, true);
  const rel = await app.inject({ method: 'POST', url: '/v1/relations/check', payload: { resource: 'document:root', permission: 'read', subject: 'user:dave' } });
  t.equal(rel.statusCode, 200, rel.body);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);

  const writes: Req[] = [
    { method: 'PUT', url: '/v1/policies/global-y', payload: POLICY.replace('global-base', 'global-y'), headers: { 'content-type': 'application/yaml' } },
    { method: 'DELETE', url: '/v1/policies/global-base' },
    { method: 'POST', url: '/v1/relations/write', payload: { writes: ['document:root#owner@user:eve'] } },
    { method: 'POST', url: '/v1/preview', payload: { put: [POLICY] } },
  ];
  for (const req of writes) {
    const r = await app.inject({ ...req, headers: { ...req.headers, ...bearer(READ) } });
    t.equal(r.statusCode, 403, `${req.method} ${req.url} with the read token`);
    t.equal(r.json().code, 'TOKEN_READ_ONLY');
  }
  t.equal((await app.inject({ method: 'GET', url: '/v1/policies/global-base', headers: bearer(ADMIN) })).statusCode, 200, 'nothing was deleted');
  const tuples = await app.inject({ method: 'GET', url: '/v1/relations?resource=document:root', headers: bearer(READ) });
  t.notMatch(tuples.body, /user:eve/, 'nothing was written');
});

t.test('item 2: with a token set, caller-supplied code needs the admin token', async (t) => {
  const app = await tokenApp(t);
  const code: Req[] = [
    { method: 'POST', url: '/v1/evaluate', payload: INLINE },
    { method: 'POST', url: '/evaluate', payload: INLINE },
    { method: 'POST', url: '/v1/check', payload: { ...INLINE, permission: 'document:read' } },
    { method: 'POST', url: '/v1/test', payload: SUITE },
    { method: 'POST', url: '/v1/validate', payload: [{ key: 'global-v', rules: [] }] },
    { method: 'POST', url: '/v1/preview', payload: { put: [POLICY] } },
  ];
  for (const req of code) {
    const name = `${req.method} ${req.url}`;
    const anon = await app.inject(req);
    t.equal(anon.statusCode, 401, `${name}: no token`);
    t.equal(anon.json().code, 'UNAUTHORIZED', name);
    const read = await app.inject({ ...req, headers: bearer(READ) });
    t.equal(read.statusCode, 403, `${name}: the read token`);
    t.equal(read.json().code, 'TOKEN_READ_ONLY', name);
    const admin = await app.inject({ ...req, headers: bearer(ADMIN) });
    t.equal(admin.statusCode, 200, `${name}: the admin token: ${admin.body.slice(0, 200)}`);
  }
  // A worst-case condition sent without the token is never compiled: refused at once.
  const evil = { ...INLINE, policies: [{ key: 'global-x', rules: [{ subjects: ['*'], grant: ['a:b'], when: 'context.s.matches("^(a+)+$")' }] }], context: { s: `${'a'.repeat(26)}!` } };
  const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: evil });
  t.equal(r.statusCode, 401);
});

t.test('item 2: without a token, caller-supplied code runs on loopback as before', async (t) => {
  const { app } = await testApp(t);
  const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: INLINE });
  t.equal(r.statusCode, 200, r.body);
  t.same(r.json().permissions, ['document:read']);
  t.equal((await app.inject({ method: 'POST', url: '/v1/test', payload: SUITE })).statusCode, 200);
});

t.test('item 7: the token is checked before the body is parsed or validated', async (t) => {
  const app = await tokenApp(t);
  const cases: Array<[string, Req]> = [
    ['a schema-invalid relationship write', { method: 'POST', url: '/v1/relations/write', payload: { writes: 42, extra: true } }],
    ['an invalid policy', { method: 'PUT', url: '/v1/policies/global-z', payload: 'rules: [ {', headers: { 'content-type': 'application/yaml' } }],
    ['malformed JSON', { method: 'POST', url: '/v1/policies', payload: '{"a":', headers: { 'content-type': 'application/json' } }],
    ['an unsupported media type', { method: 'PUT', url: '/v1/policies/global-z', payload: 'x', headers: { 'content-type': 'text/plain' } }],
    ['an invalid preview', { method: 'POST', url: '/v1/preview', payload: { nope: 1 } }],
    ['an invalid list query', { method: 'GET', url: '/v1/policies?limit=100000&x=1' }],
    ['an invalid test suite', { method: 'POST', url: '/v1/test', payload: { name: 1 } }],
    ['invalid inline policies', { method: 'POST', url: '/v1/evaluate', payload: { policies: 'x', subject: 42 } }],
  ];
  for (const [name, req] of cases) {
    const r = await app.inject(req);
    t.equal(r.statusCode, 401, `${name}: 401, not a validation error (${r.body.slice(0, 120)})`);
    t.same(Object.keys(r.json()).sort(), ['code', 'error', 'message', 'statusCode'], `${name}: no details`);
  }
  // With the token, the same request gets its validation answer.
  const bad = await app.inject({ method: 'POST', url: '/v1/relations/write', headers: bearer(ADMIN), payload: { writes: 42, extra: true } });
  t.equal(bad.statusCode, 400);
});

/** A real request on a socket, so Host and Origin are exactly what is written here. */
function raw(app: FastifyInstance, req: Req & { headers: Record<string, string> }): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const { port } = app.server.address() as AddressInfo;
  const body = req.payload === undefined ? undefined : typeof req.payload === 'string' ? req.payload : JSON.stringify(req.payload);
  return new Promise((resolve, reject) => {
    const r = http.request({
      host: '127.0.0.1', port, method: req.method, path: req.url, setHost: false,
      headers: { ...(body !== undefined && typeof req.payload === 'object' ? { 'content-type': 'application/json' } : {}), ...req.headers },
    }, (res) => {
      let text = '';
      res.on('data', (c) => { text += String(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

t.test('item 6: on loopback without a token, browsers from other sites are kept out', async (t) => {
  const { app } = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const put = (headers: Record<string, string>, key = 'global-r') =>
    raw(app, { method: 'PUT', url: `/v1/policies/${key}`, payload: POLICY.replace('global-base', key), headers: { 'content-type': 'application/yaml', ...headers } });

  // The reported attack: a rebinding page, its own name in Host and its Origin.
  const rebound = await put({ host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` });
  t.equal(rebound.status, 403, rebound.body);
  t.equal(JSON.parse(rebound.body).code, 'HOST_NOT_ALLOWED');
  // A page elsewhere posting to the loopback name.
  const foreign = await put({ host: `127.0.0.1:${port}`, origin: 'http://attacker.example' });
  t.equal(foreign.status, 403);
  t.equal(JSON.parse(foreign.body).code, 'ORIGIN_NOT_ALLOWED');
  for (const origin of ['null', 'file://', 'chrome-extension://abc', 'http://127.0.0.1.attacker.example', 'http://localhost.attacker.example']) {
    const r = await put({ host: `localhost:${port}`, origin });
    t.equal(r.status, 403, `Origin: ${origin}`);
  }
  for (const host of ['attacker.example', '127.0.0.1.attacker.example', 'localhost.attacker.example', '', 'local host', '10.0.0.1']) {
    const r = await put({ host });
    t.equal(r.status, 403, `Host: ${JSON.stringify(host)}`);
  }
  const none = await raw(app, { method: 'GET', url: '/v1/policies', headers: { host: 'attacker.example' } });
  t.equal(none.status, 403, 'state reads are checked too');
  const decision = await raw(app, { method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global' }, headers: { host: 'attacker.example' } });
  t.equal(decision.status, 403, 'so are decisions (they show what the policies grant)');
  const health = await raw(app, { method: 'GET', url: '/healthz', headers: { host: 'attacker.example' } });
  t.equal(health.status, 200, 'health answers whatever the Host (probes)');
  const list = await app.inject({ method: 'GET', url: '/v1/policies' });
  t.same(list.json().items, [], 'nothing was stored');

  // The loopback names, any port; a same-origin page (the playground) may write.
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST', 'localhost.']) {
    const r = await raw(app, { method: 'GET', url: '/v1/policies', headers: { host } });
    t.equal(r.status, 200, `Host: ${host}`);
  }
  const same = await put({ host: `localhost:${port}`, origin: `http://localhost:${port}` });
  t.equal(same.status, 201, same.body);
  const other = await put({ host: `127.0.0.1:${port}`, origin: 'http://localhost:3000' }, 'global-s');
  t.equal(other.status, 201, 'a page served from a loopback name');
});

t.test('item 6: ALLOWED_HOSTS adds names; beyond loopback it turns the check on', async (t) => {
  const { app } = await testApp(t, { env: { ALLOWED_HOSTS: 'policy.internal,Sidecar' } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const get = (host: string, origin?: string) => raw(app, { method: 'GET', url: '/v1/policies', headers: { host, ...(origin ? { origin } : {}) } });
  t.equal((await get('policy.internal:8080')).status, 200);
  t.equal((await get('sidecar')).status, 200, 'case-insensitive');
  t.equal((await get('localhost')).status, 200, 'loopback names stay');
  t.equal((await get('other.internal')).status, 403);
  t.equal((await get('localhost', 'http://policy.internal')).status, 200, 'an origin on an allowed host');

  const beyond = await testApp(t, { loopbackOnly: false, env: { ADMIN_TOKEN: ADMIN, DECISION_TOKEN: DECISION } });
  await beyond.app.listen({ port: 0, host: '127.0.0.1' });
  const r = await raw(beyond.app, { method: 'POST', url: '/v1/check', payload: { subject: 'u', namespace: 'global', permission: 'a:b' }, headers: { host: 'policy-engine:8080', ...bearer(DECISION) } });
  t.equal(r.status, 200, 'beyond loopback without ALLOWED_HOSTS, any Host (service names) reaches decisions');
  const cross = await raw(beyond.app, { method: 'GET', url: '/v1/policies', headers: { host: 'policy-engine:8080', origin: 'http://attacker.example', ...bearer(ADMIN) } });
  t.equal(cross.status, 403, 'but a foreign Origin is still refused, token or not');
  t.equal(JSON.parse(cross.body).code, 'ORIGIN_NOT_ALLOWED');

  const pinned = await testApp(t, { loopbackOnly: false, env: { ADMIN_TOKEN: ADMIN, DECISION_TOKEN: DECISION, ALLOWED_HOSTS: 'policy-engine' } });
  await pinned.app.listen({ port: 0, host: '127.0.0.1' });
  const ok = await raw(pinned.app, { method: 'POST', url: '/v1/check', payload: { subject: 'u', namespace: 'global', permission: 'a:b' }, headers: { host: 'policy-engine:8080', ...bearer(DECISION) } });
  t.equal(ok.status, 200);
  const refused = await raw(pinned.app, { method: 'POST', url: '/v1/check', payload: { subject: 'u', namespace: 'global', permission: 'a:b' }, headers: { host: 'attacker.example', ...bearer(DECISION) } });
  t.equal(refused.status, 403);
  t.equal(JSON.parse(refused.body).code, 'HOST_NOT_ALLOWED', 'the token does not replace the Host check');
});

t.test('beyond loopback without ADMIN_TOKEN: stored state, docs and caller-supplied code are refused, nothing leaks', async (t) => {
  const { app } = await testApp(t, { loopbackOnly: false, env: { DECISION_TOKEN: DECISION } });
  for (const req of READS) {
    const r = await app.inject(req);
    t.equal(r.statusCode, 403, `${req.method} ${req.url}: ${r.body.slice(0, 100)}`);
    t.equal(r.json().code, 'ADMIN_TOKEN_REQUIRED', `${req.method} ${req.url}`);
  }
  for (const req of [
    { method: 'POST', url: '/v1/test', payload: SUITE },
    { method: 'POST', url: '/v1/validate', payload: [{ key: 'global-v', rules: [] }] },
    { method: 'GET', url: '/v1/entities' },
    { method: 'GET', url: '/v1/changes' },
  ] as Req[]) {
    const r = await app.inject(req);
    t.equal(r.statusCode, 403, `${req.method} ${req.url}`);
    t.equal(r.json().code, 'ADMIN_TOKEN_REQUIRED', `${req.method} ${req.url}`);
  }
  const inline = await app.inject({ method: 'POST', url: '/v1/evaluate', headers: bearer(DECISION), payload: INLINE });
  t.equal(inline.statusCode, 403, 'inline policies with the decision token: code, refused');
  t.equal(inline.json().code, 'ADMIN_TOKEN_REQUIRED');
  const stored = await app.inject({ method: 'POST', url: '/v1/evaluate', headers: bearer(DECISION), payload: { subject: 'u', namespace: 'global' } });
  t.equal(stored.statusCode, 200, 'a decision over stored policies answers');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

t.test('item 6: start-up warnings say what is open', async (t) => {
  t.match(accessWarnings({ adminToken: undefined, loopbackOnly: true }), [/no ADMIN_TOKEN: write routes.*need no token/]);
  t.match(accessWarnings({ adminToken: undefined, loopbackOnly: false }), [/beyond loopback without ADMIN_TOKEN/, /beyond loopback without DECISION_TOKEN/, /Host header is not checked/]);
  t.same(accessWarnings({ adminToken: ADMIN, loopbackOnly: true }), []);
  t.same(accessWarnings({ adminToken: ADMIN, decisionToken: DECISION, loopbackOnly: false, allowedHosts: ['policy-engine'] }), []);
  t.match(accessWarnings({ adminToken: ADMIN, loopbackOnly: true, allowedHosts: ['*'] }), [/ALLOWED_HOSTS=\*/]);
});

t.test('item 13: /docs and the playground send CSP and framing headers', async (t) => {
  const app = await tokenApp(t);
  for (const url of ['/docs', '/docs/', '/docs/static/index.html', '/docs/json', '/openapi.json']) {
    const r = await app.inject({ method: 'GET', url, headers: bearer(READ) });
    t.ok(r.statusCode < 400, `${url}: ${r.statusCode}`);
    t.match(r.headers['content-security-policy'], /frame-ancestors 'none'/, `${url}: CSP`);
    t.match(r.headers['content-security-policy'], /default-src 'none'/, url);
    t.notMatch(r.headers['content-security-policy'], /unsafe-eval|script-src[^;]*unsafe-inline/, `${url}: no inline or eval script`);
    t.equal(r.headers['x-frame-options'], 'DENY', url);
    t.equal(r.headers['x-content-type-options'], 'nosniff', url);
    t.equal(r.headers['referrer-policy'], 'no-referrer', url);
  }
  const refused = await app.inject({ method: 'GET', url: '/docs' });
  t.equal(refused.statusCode, 401);
  t.equal(refused.headers['x-frame-options'], 'DENY', 'refusals are not framable either');
});

t.test('every route has a class in the table (a new route is not silently a write)', async (t) => {
  for (const options of [{}, { store: 'none' as const }]) {
    const { app } = await testApp(t, options);
    const table = accessTable(app);
    t.ok(table.length >= 20, `${table.length} routes`);
    t.same(table.filter((e) => !e.listed).map((e) => `${e.method} ${e.url}`), [], 'no route falls back to the default');
  }
  t.equal(routeAccess('PATCH', '/v1/something-new').access, 'admin', 'an unknown route is a write');
});

t.test('hostnameOf', async (t) => {
  t.equal(hostnameOf('LocalHost:8080'), 'localhost');
  t.equal(hostnameOf('[::1]:1'), '[::1]');
  t.equal(hostnameOf('127.0.0.1'), '127.0.0.1');
  t.equal(hostnameOf('localhost.'), 'localhost');
  t.equal(hostnameOf('a b'), undefined);
  t.equal(hostnameOf('user@localhost'), undefined);
  t.equal(hostnameOf(undefined), undefined);
});

t.test('docs/security.md lists every route with the class the code gives it', async (t) => {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  // `*` stands for every method (forward-auth answers any).
  const rows = [...doc.matchAll(/^\| `(GET|POST|PUT|DELETE|\*) ([^`]+)` \| (\w+) \|$/gm)].map((m) => [m[1]!, m[2]!, m[3]!] as const);
  t.ok(rows.length >= 20, `${rows.length} rows`);
  for (const [method, url, access] of rows) {
    for (const m of method === '*' ? ['GET', 'POST', 'PATCH', 'OPTIONS'] : [method]) t.equal(routeAccess(m, url).access, access, `${m} ${url}`);
  }
  const documented = new Set(rows.map(([m, u]) => `${m} ${u}`));
  const anyMethod = new Set(rows.filter(([m]) => m === '*').map(([, u]) => u));
  const { app } = await testApp(t);
  for (const e of accessTable(app)) {
    if (e.method === 'HEAD' || e.url.startsWith('/docs/') || e.url === '/ui/') continue;
    t.ok(documented.has(`${e.method} ${e.url}`) || anyMethod.has(e.url), `${e.method} ${e.url} is in docs/security.md`);
  }
});
