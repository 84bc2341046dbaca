// Forward-auth routes stored as policy documents (`kind: routes`, docs/gateways.md) over
// real HTTP, in every store (memory, file, MongoDB on FerretDB): a write changes the
// answers at once, an update or delete too; an invalid document is refused with its
// lines and nothing is stored; a route that the file or another stored document already
// has is refused (409 ROUTES_CONFLICT); the file's routes come first, then stored
// documents in key order; a stored document is never run as a policy; one that does not
// compile fails forward-auth closed (503) without touching decisions. Replicas: stored
// route documents propagate between two services on one FerretDB database.

import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { httpSender, type Send } from '../helpers/http.js';
import { testMongo } from '../helpers/mongo.js';
import { GATEWAY_POLICY, ROUTES_YAML } from '../helpers/gateways.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import type { PolicyStore } from '../../src/store/store.js';

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function routesFile(t: Test): string {
  const file = join(tempDir(t, 'pe-routes-'), 'routes.yaml');
  writeFileSync(file, ROUTES_YAML);
  return file;
}

const yaml = { 'content-type': 'application/yaml' };
const put = (send: Send, key: string, text: string) => send({ method: 'PUT', url: `/v1/policies/${key}`, headers: yaml, payload: text });
const ask = (send: Send, method: string, uri: string, user = 'user:alice') =>
  send({ method: 'GET', url: '/v1/forward-auth', headers: { 'x-forwarded-method': method, 'x-forwarded-uri': uri, 'x-auth-request-user': user } });

const PROJECTS = (permission: string) => `key: global-routes-projects
kind: routes
description: the projects API
routes:
  - method: GET
    path: /projects/{org}/files/{doc}
    namespace: global.org.org:{org}
    permission: ${permission}
    resource: document:{doc}
`;

async function service(t: Test, store: PolicyStore, extra: Record<string, string> = {}) {
  const { app, services } = await testApp(t, { store, env: { FORWARD_AUTH_ROUTES: routesFile(t), FORWARD_AUTH_SUBJECT_HEADER: 'X-Auth-Request-User', ...extra } });
  const send = await httpSender(app);
  t.equal((await put(send, 'global-gateway', GATEWAY_POLICY)).status, 201);
  return { app, services, send };
}

async function storeSuite(t: Test, store: () => Promise<PolicyStore>) {
  t.test('write → answers by it; update and delete take effect at once', async (t) => {
    const { send } = await service(t, await store());
    const before = await ask(send, 'GET', '/projects/acme/files/d1');
    t.equal(before.status, 403);
    t.equal(before.json().code, 'FORWARD_AUTH_NO_ROUTE', 'no stored route yet');

    t.equal((await put(send, 'global-routes-projects', PROJECTS('document:read'))).status, 201);
    const allowed = await ask(send, 'GET', '/projects/acme/files/d1');
    t.equal(allowed.status, 200, allowed.body);
    t.equal(allowed.headers['x-auth-subject'], 'user:alice');
    t.equal((await ask(send, 'GET', '/projects/acme/files/d1', 'user:bob')).status, 403, 'the stored route asks the policies');
    t.equal((await ask(send, 'GET', '/orgs/acme/documents/d1')).status, 200, 'the file routes still answer');

    t.equal((await put(send, 'global-routes-projects', PROJECTS('document:write'))).status, 200);
    const denied = await ask(send, 'GET', '/projects/acme/files/d1');
    t.equal(denied.status, 403, 'the update routes to another permission');
    t.equal(denied.json().code, 'FORWARD_AUTH_DENIED');
    t.equal(denied.headers['x-auth-reason'], 'Documents are read-only here');

    const stored = await send({ method: 'GET', url: '/v1/policies/global-routes-projects', headers: { accept: 'application/yaml' } });
    t.equal(stored.status, 200);
    t.match(stored.body, /description: the projects API/, 'the text as written');

    t.equal((await send({ method: 'DELETE', url: '/v1/policies/global-routes-projects' })).status, 204);
    const gone = await ask(send, 'GET', '/projects/acme/files/d1');
    t.equal(gone.status, 403);
    t.equal(gone.json().code, 'FORWARD_AUTH_NO_ROUTE', 'deleted: no route again');
  });

  t.test('invalid → 422 with every problem at its line, nothing stored', async (t) => {
    const { send } = await service(t, await store());
    const bad = `key: global-routes-bad
kind: routes
routes:
  - method: GET
    path: /a/../b
    namespace: global
    permission: x:read
  - method: get
    path: /c/{c}
    namespace: global.{other}
    permission: "x:*"
  - method: [GET]
    path: /d
    namespace: global
    permission: x:read
    extra: 1
`;
    const r = await put(send, 'global-routes-bad', bad);
    t.equal(r.status, 422, r.body);
    t.equal(r.json().code, 'POLICY_INVALID');
    t.match(r.json().details, [{ path: 'routes[2].extra', message: 'unknown field', line: 16 }], 'the schema first, with the line');
    t.equal((await send({ method: 'GET', url: '/v1/policies/global-routes-bad' })).status, 404, 'nothing stored');

    const compiled = await put(send, 'global-routes-bad', bad.replace('    extra: 1\n', ''));
    t.equal(compiled.status, 422);
    const details = compiled.json().details as Array<{ path: string; message: string; line?: number }>;
    t.match(details.find((d) => d.path === 'routes[0].path'), { line: 5, message: /traversal/ });
    t.match(details.find((d) => d.path === 'routes[1].method'), { line: 8, message: /not an HTTP method/ });
    t.match(details.find((d) => d.path === 'routes[1].namespace'), { line: 10, message: /\{other\} is not bound/ });
    t.match(details.find((d) => d.path === 'routes[1].permission'), { line: 11, message: /concrete permission/ });
    t.equal((await send({ method: 'GET', url: '/v1/policies/global-routes-bad' })).status, 404, 'nothing stored');

    const placed = await put(send, 'team-routes', 'key: team-routes\nkind: routes\nroutes:\n  - {method: GET, path: /t, namespace: global.team, permission: x:read}\n');
    t.equal(placed.status, 422, 'a route table belongs to global');
    t.match(placed.json().details, [{ path: 'key', message: /global namespace/ }]);
    t.equal((await ask(send, 'GET', '/a/b')).json().code, 'FORWARD_AUTH_NO_ROUTE', 'no route was opened');
  });

  t.test('a route the file or another stored document has: 409 ROUTES_CONFLICT, nothing stored', async (t) => {
    const { send } = await service(t, await store());
    // The file's GET /orgs/{org}/documents/{doc}, with other placeholder names.
    const dup = 'key: global-routes-dup\nkind: routes\nroutes:\n  - method: POST\n    path: /orgs/{o}/documents/{d}\n    namespace: global\n    permission: x:read\n  - method: [HEAD, GET]\n    path: /orgs/{o}/documents/{d}\n    namespace: global\n    permission: x:read\n';
    const r = await put(send, 'global-routes-dup', dup);
    t.equal(r.status, 409, r.body);
    t.equal(r.json().code, 'ROUTES_CONFLICT');
    t.match(r.json().details, [{ document: 'global-routes-dup', path: 'routes[1]', line: 8, message: /duplicates route 1 of the route file/ }]);
    t.equal(r.json().details.length, 1, 'POST on the same template is another route');
    t.equal((await send({ method: 'GET', url: '/v1/policies/global-routes-dup' })).status, 404, 'nothing stored');

    t.equal((await put(send, 'global-routes-projects', PROJECTS('document:read'))).status, 201);
    const other = await put(send, 'global-routes-other', 'key: global-routes-other\nkind: routes\nroutes:\n  - method: "*"\n    path: /projects/{a}/files/{b}\n    namespace: global\n    permission: x:read\n');
    t.equal(other.status, 409, 'any method (*) shares GET with the stored document');
    t.match(other.json().details, [{ message: /duplicates route 1 of stored document global-routes-projects/ }]);
    t.equal((await put(send, 'global-routes-projects', PROJECTS('document:write'))).status, 200, 'a document never conflicts with its own earlier version');

    const imported = await send({ method: 'POST', url: '/v1/policies', headers: yaml, payload: `key: global-routes-x\nkind: routes\nroutes:\n  - {method: GET, path: /x, namespace: global, permission: x:read}\n---\nkey: global-routes-y\nkind: routes\nroutes:\n  - {method: GET, path: /x, namespace: global, permission: x:write}\n` });
    t.equal(imported.status, 409, 'two documents of one import');
    t.match(imported.json().details, [{ document: 'global-routes-y', path: '[1].routes[0]', line: 9 }]);
    t.equal((await send({ method: 'GET', url: '/v1/policies/global-routes-x' })).status, 404, 'the import is refused whole');
  });

  t.test('order: the file first, then stored documents in key order; never run as a policy', async (t) => {
    const { send } = await service(t, await store());
    const evaluated = async () => (await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'user:carol', namespace: 'global.team' } })).json();
    const was = await evaluated();
    // Written in reverse key order: key order decides, not write order.
    t.equal((await put(send, 'global-routes-b', 'key: global-routes-b\nkind: routes\nroutes:\n  - {method: GET, path: "/docs/{id}", namespace: global, permission: document:read, resource: "document:{id}"}\n')).status, 201);
    t.equal((await put(send, 'global-routes-a', 'key: global-routes-a\nkind: routes\nroutes:\n  - {method: GET, path: /docs/special, namespace: global, permission: document:write}\n  - {method: GET, path: "/orgs/acme/documents/{d}", namespace: global, permission: document:write}\n')).status, 201);
    t.equal((await ask(send, 'GET', '/docs/other')).status, 200, 'global-routes-b decides');
    const special = await ask(send, 'GET', '/docs/special');
    t.equal(special.status, 403, 'global-routes-a comes before global-routes-b');
    t.match(special.headers['x-auth-reason'], 'Documents are read-only here');
    t.equal((await ask(send, 'GET', '/orgs/acme/documents/d1')).status, 200, "the file's route comes before any stored one");

    const now = await evaluated();
    t.same([now.permissions, now.default, now.policies], [was.permissions, was.default, was.policies], 'route documents are never run, never make a namespace present');
  });

  t.test('a stored route document that does not compile fails forward-auth closed, not decisions', async (t) => {
    const { send, services } = await service(t, await store());
    t.equal((await put(send, 'global-routes-a', 'key: global-routes-a\nkind: routes\nroutes:\n  - {method: GET, path: /early, namespace: global, permission: document:read}\n')).status, 201);
    t.equal((await put(send, 'global-routes-c', 'key: global-routes-c\nkind: routes\nroutes:\n  - {method: GET, path: "/late/{x}", namespace: global, permission: document:read}\n')).status, 201);
    // Written past the API (a newer version's document, a hand-edited database record).
    const document = { key: 'global-routes-b', kind: 'routes', routes: [{ method: 'GET', path: '/late/../admin', namespace: 'global', permission: 'admin:all' }] } as never;
    await services.store!.put({ key: 'global-routes-b', namespace: 'global', ordinal: null, disabled: false, format: 'json', text: JSON.stringify(document), document });
    await services.manager!.sync();
    await services.manager!.syncAfterWrite();

    t.equal((await ask(send, 'GET', '/orgs/acme/documents/d1')).status, 200, "the file's routes answer");
    t.equal((await ask(send, 'GET', '/early')).status, 200, 'a document ahead of the broken one answers');
    const late = await ask(send, 'GET', '/late/x');
    t.equal(late.status, 503, 'a route behind the broken document is not trusted');
    t.equal(late.json().code, 'FORWARD_AUTH_ROUTES_BROKEN');
    t.match(late.json().message, /global-routes-b/);
    t.equal((await ask(send, 'GET', '/nowhere')).status, 503, 'nor is "no route" (the broken one might have routed it)');
    const check = await send({ method: 'POST', url: '/v1/check', payload: { subject: 'user:alice', namespace: 'global.org', permission: 'document:read' } });
    t.equal(check.status, 200, 'decisions are not broken by a route document');

    t.equal((await send({ method: 'DELETE', url: '/v1/policies/global-routes-b' })).status, 204);
    t.equal((await ask(send, 'GET', '/late/x')).status, 200, 'fixed: the later document answers again');
  });
}

t.test('memory store', (t) => storeSuite(t, async () => new MemoryStore()));
t.test('file store', (t) => storeSuite(t, async () => new FileStore({ dir: tempDir(t, 'pe-routes-store-') })));
t.test('MongoDB store (FerretDB)', (t) => storeSuite(t, async () => new MongoStore({ url: (await testMongo(t)).url })));

t.test('replicas on one FerretDB database see stored route changes within 2 s, no restart', async (t) => {
  const mongo = await testMongo(t);
  const a = await service(t, new MongoStore({ url: mongo.url }), { POLL_INTERVAL_MS: '1000' });
  const b = await testApp(t, { store: new MongoStore({ url: mongo.url }), env: { POLL_INTERVAL_MS: '1000', FORWARD_AUTH_ROUTES: routesFile(t), FORWARD_AUTH_SUBJECT_HEADER: 'X-Auth-Request-User' } });
  const sendB = await httpSender(b.app);
  async function waitFor(send: Send, uri: string, status: number, code?: string): Promise<number> {
    const start = Date.now();
    for (;;) {
      const r = await ask(send, 'GET', uri);
      if (r.status === status && (code === undefined || r.json().code === code)) return Date.now() - start;
      if (Date.now() - start > 2000) throw new Error(`${uri}: still ${r.status} ${r.body} after 2 s (want ${status} ${code ?? ''})`);
      await new Promise((res) => setTimeout(res, 25));
    }
  }
  await waitFor(sendB, '/orgs/acme/documents/d1', 200); // B has the policy
  t.equal((await ask(sendB, 'GET', '/projects/acme/files/d1')).status, 403);
  const times: number[] = [];
  t.equal((await put(a.send, 'global-routes-projects', PROJECTS('document:read'))).status, 201);
  times.push(await waitFor(sendB, '/projects/acme/files/d1', 200));
  t.equal((await put(sendB, 'global-routes-projects', PROJECTS('document:write'))).status, 200, 'written on B');
  times.push(await waitFor(a.send, '/projects/acme/files/d1', 403, 'FORWARD_AUTH_DENIED'));
  t.equal((await a.send({ method: 'DELETE', url: '/v1/policies/global-routes-projects' })).status, 204);
  times.push(await waitFor(sendB, '/projects/acme/files/d1', 403, 'FORWARD_AUTH_NO_ROUTE'));
  t.comment(`stored routes A ↔ B: ${times.join(', ')} ms`);
});

t.test('a scoped credential cannot store routes: they belong to global', async (t) => {
  const dir = tempDir(t, 'pe-routes-creds-');
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const file = join(dir, 'credentials.json');
  writeFileSync(file, JSON.stringify({ credentials: [
    { name: 'team-57af', sha256: sha('team-57af-token-aaaaaaaaaaaa'), verbs: ['read', 'write'], namespaces: ['org:57af'] },
    { name: 'ops', sha256: sha('ops-global-token-bbbbbbbbbbbb'), verbs: ['read', 'write'], namespaces: ['global'] },
  ] }));
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: 'root-token-0123456789abcdef', ADMIN_TOKENS_FILE: file, FORWARD_AUTH_SUBJECT_HEADER: 'X-Auth-Request-User' } });
  const putAs = (token: string) => app.inject({ method: 'PUT', url: '/v1/policies/global-routes-projects', headers: { ...yaml, authorization: `Bearer ${token}` }, payload: PROJECTS('document:read') });
  const team = await putAs('team-57af-token-aaaaaaaaaaaa');
  t.equal(team.statusCode, 403, team.body);
  t.equal(team.json().code, 'SCOPE_FORBIDDEN');
  const headers = { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/projects/org:57af/files/d1', 'x-auth-request-user': 'user:alice' };
  t.equal((await app.inject({ method: 'GET', url: '/v1/forward-auth', headers })).json().code, 'FORWARD_AUTH_NO_ROUTE', 'nothing was routed');
  t.equal((await putAs('ops-global-token-bbbbbbbbbbbb')).statusCode, 201, 'a credential that writes global may');
});
