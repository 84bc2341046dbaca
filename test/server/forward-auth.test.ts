// /v1/forward-auth over inject: the subject, the route table, 200 / 401 / 403 with
// their headers, Envoy's path_prefix form, headers that disagree, and a route table
// that does not compile stopping the start. The real gateways: test/gateways/.

import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type AddressInfo } from 'node:net';
import { putYaml, testApp } from '../helpers/app.js';
import { GATEWAY_POLICY, ROUTES_YAML } from '../helpers/gateways.js';

function routesFile(t: Test, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pe-routes-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, text);
  return file;
}

async function setup(t: Test) {
  const { app, services } = await testApp(t, { env: { FORWARD_AUTH_ROUTES: routesFile(t, ROUTES_YAML), FORWARD_AUTH_SUBJECT_HEADER: 'X-Auth-Request-User' } });
  await putYaml(t, app, 'global-gateway', GATEWAY_POLICY);
  return { app, services };
}

const original = (method: string, uri: string, user?: string) => ({
  'x-forwarded-method': method, 'x-forwarded-uri': uri, ...(user ? { 'x-auth-request-user': user } : {}),
});

t.test('allow, deny, no route, no subject', async (t) => {
  const { app } = await setup(t);
  const ask = (headers: Record<string, string>, method: 'GET' | 'POST' = 'GET', url = '/v1/forward-auth') => app.inject({ method, url, headers });

  const ok = await ask(original('GET', '/orgs/acme/documents/d1?download=1', 'user:alice'));
  t.equal(ok.statusCode, 200);
  t.equal(ok.headers['x-auth-subject'], 'user:alice');
  t.equal(ok.body, '');

  const denied = await ask(original('PUT', '/orgs/acme/documents/d1', 'user:alice'));
  t.equal(denied.statusCode, 403);
  t.equal(denied.headers['x-auth-reason'], 'Documents are read-only here', 'the reason of the denying rule');
  t.equal(denied.json().code, 'FORWARD_AUTH_DENIED');

  const other = await ask(original('GET', '/orgs/acme/documents/d1', 'user:bob'));
  t.equal(other.statusCode, 403);
  t.match(other.headers['x-auth-reason'], /document:read is not allowed in global\.org\.org:acme/);

  const noRoute = await ask(original('GET', '/admin', 'user:alice'));
  t.equal(noRoute.statusCode, 403, 'no route matched: denied, never allowed');
  t.equal(noRoute.json().code, 'FORWARD_AUTH_NO_ROUTE');
  t.match(noRoute.headers['x-auth-reason'], /no route matches GET \/admin/);

  const anonymous = await ask(original('GET', '/orgs/acme/documents/d1'));
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.json().code, 'FORWARD_AUTH_UNAUTHENTICATED');
  t.match(anonymous.headers['www-authenticate'], /^Bearer/);

  const post = await app.inject({ method: 'POST', url: '/v1/forward-auth', headers: { ...original('GET', '/orgs/acme/documents/d1', 'user:alice'), 'content-type': 'application/json' }, payload: '{not json' });
  t.equal(post.statusCode, 200, 'the body (even a malformed one) is never read');

  const nginxStyle = await ask({ 'x-original-method': 'GET', 'x-original-uri': '/orgs/acme/documents/d1', 'x-auth-request-user': 'user:alice' });
  t.equal(nginxStyle.statusCode, 200, 'X-Original-Method / X-Original-URI');
});

t.test('Envoy: the original path after /v1/forward-auth, the method of the request', async (t) => {
  const { app } = await setup(t);
  const r = await app.inject({ method: 'GET', url: '/v1/forward-auth/orgs/acme/documents/d1?x=1', headers: { 'x-auth-request-user': 'user:alice' } });
  t.equal(r.statusCode, 200);
  const put = await app.inject({ method: 'PUT', url: '/v1/forward-auth/orgs/acme/documents/d1', headers: { 'x-auth-request-user': 'user:alice' } });
  t.equal(put.statusCode, 403);
  const traversal = await app.inject({ method: 'GET', url: '/v1/forward-auth/orgs/acme/documents/%2e%2e', headers: { 'x-auth-request-user': 'user:alice' } });
  t.equal(traversal.statusCode, 403);
  t.equal(traversal.json().code, 'FORWARD_AUTH_URI_REFUSED');
});

t.test('ambiguity is refused: headers that disagree, a header against the path', async (t) => {
  const { app } = await setup(t);
  const both = await app.inject({ method: 'GET', url: '/v1/forward-auth', headers: { ...original('GET', '/orgs/acme/documents/d1', 'user:alice'), 'x-original-uri': '/orgs/other/documents/d1' } });
  t.equal(both.statusCode, 403, 'a client-sent X-Original-URI beside the gateway X-Forwarded-Uri');
  t.equal(both.json().code, 'FORWARD_AUTH_URI_REFUSED');
  const methods = await app.inject({ method: 'GET', url: '/v1/forward-auth', headers: { ...original('GET', '/orgs/acme/documents/d1', 'user:alice'), 'x-original-method': 'PUT' } });
  t.equal(methods.statusCode, 403);
  const prefix = await app.inject({ method: 'GET', url: '/v1/forward-auth/orgs/acme/documents/d1', headers: { 'x-forwarded-uri': '/orgs/x/documents/d1', 'x-auth-request-user': 'user:alice' } });
  t.equal(prefix.statusCode, 403);
  const none = await app.inject({ method: 'GET', url: '/v1/forward-auth', headers: { 'x-auth-request-user': 'user:alice' } });
  t.equal(none.statusCode, 400, 'no original URI at all: a misconfigured gateway');
  t.equal(none.json().code, 'REQUEST_INVALID');
  const hostile = await app.inject({ method: 'GET', url: '/v1/forward-auth', headers: original('GET', `/orgs/${'%C3%A9'.repeat(2000)}/documents/d`, `user:${'é'.repeat(100)}`) });
  t.equal(hostile.statusCode, 403);
  t.ok(/^[\x20-\x7e]+$/.test(String(hostile.headers['x-auth-reason'])), 'reason headers are printable ASCII whatever the input');
  t.ok(String(hostile.headers['x-auth-reason']).length <= 260);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still up');
});

/** Raw HTTP/1.1 on a socket: the only way to send one header twice, as a forging client would. */
function rawRequest(port: number, lines: string[]): Promise<{ status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.on('data', (d) => { text += String(d); });
    s.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), head: text.split('\r\n\r\n')[0]! }));
    s.on('error', reject);
    s.end(`${['GET /v1/forward-auth HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...lines].join('\r\n')}\r\n\r\n`);
  });
}

t.test('a header sent twice is refused, not joined into one value', async (t) => {
  const { app } = await setup(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const uri = 'X-Forwarded-Uri: /orgs/acme/documents/d1';
  const one = await rawRequest(port, ['X-Forwarded-Method: GET', uri, 'X-Auth-Request-User: user:alice']);
  t.equal(one.status, 200, 'one subject header: allowed');
  t.match(one.head, /x-auth-subject: user:alice/i);
  const two = await rawRequest(port, ['X-Forwarded-Method: GET', uri, 'X-Auth-Request-User: user:alice', 'X-Auth-Request-User: user:evil']);
  t.equal(two.status, 401, 'two subject headers: no subject (Node would read "user:alice, user:evil")');
  t.notMatch(two.head, /x-auth-subject: user:alice, user:evil/i, 'the joined value is never the subject');
  const sameTwice = await rawRequest(port, ['X-Forwarded-Method: GET', uri, 'X-Auth-Request-User: user:alice', 'X-Auth-Request-User: user:alice']);
  t.equal(sameTwice.status, 401, 'even the same value twice');
  const uris = await rawRequest(port, ['X-Forwarded-Method: GET', uri, 'X-Forwarded-Uri: /orgs/other/documents/d1', 'X-Auth-Request-User: user:alice']);
  t.equal(uris.status, 403, 'two original-URI headers: refused');
  t.match(uris.head, /x-auth-reason: the original-URI headers disagree/i);
  const methods = await rawRequest(port, ['X-Forwarded-Method: GET', 'X-Forwarded-Method: DELETE', uri, 'X-Auth-Request-User: user:alice']);
  t.equal(methods.status, 403, 'two original-method headers: refused');
});

t.test('no route table: every request is denied; a broken table stops the start', async (t) => {
  const { app } = await testApp(t, { env: { FORWARD_AUTH_SUBJECT_HEADER: 'X-User' } });
  const r = await app.inject({ method: 'GET', url: '/v1/forward-auth', headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/', 'x-user': 'user:a' } });
  t.equal(r.statusCode, 403);
  const { app: noSubject } = await testApp(t);
  t.equal((await noSubject.inject({ method: 'GET', url: '/v1/forward-auth', headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/' } })).statusCode, 401, 'no subject source: unauthenticated');
  const broken = routesFile(t, 'kind: routes\nroutes:\n  - {method: GET, path: /a/../b, namespace: global, permission: x:read}\n  - {method: GET, path: /c, namespace: "global.{x}", permission: x:read}\n');
  await t.rejects(testApp(t, { env: { FORWARD_AUTH_ROUTES: broken } }), { code: 'ROUTES_INVALID', details: [/traversal/, /not bound/] });
});
