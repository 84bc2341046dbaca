// The fastify guard, in a real fastify app on loopback asking a real engine: allowed
// requests reach the handler; denied ones get 403 with the reason; no subject 401;
// an unreachable engine 503. A refused request never runs its handler.

import t, { type Test } from 'tap';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { PolicyEngineClient, fastifyPolicyGuard, fastifyRequirePermission } from '../../src/client/index.js';
import { DOCS_POLICY, assertTimeoutRefused, hangingUrl, refusedUrl, runningEngine } from './engine.js';

function subjectOf(req: FastifyRequest) {
  const user = req.headers['x-user'];
  if (typeof user !== 'string') return undefined;
  const role = req.headers['x-role'];
  return { id: user, roles: typeof role === 'string' ? [role] : [] };
}

/** A small document service guarded by the engine at `engineUrl`. */
async function documentService(t: Test, engineUrl: string): Promise<{ url: string; handled: string[] }> {
  const handled: string[] = [];
  const app: FastifyInstance = Fastify();
  await app.register(fastifyPolicyGuard, {
    client: new PolicyEngineClient({ baseUrl: engineUrl, timeoutMs: 2000 }),
    subject: subjectOf,
    namespace: (req) => `global.org.org:${(req.params as { org: string }).org}`,
  });
  app.delete('/orgs/:org/documents/:id', { preHandler: app.requirePermission('document:delete') }, async (req) => {
    handled.push(`delete ${(req.params as { id: string }).id}`);
    return { deleted: true };
  });
  app.post('/orgs/:org/documents/:id/purge', { preHandler: app.requirePermission('document:purge') }, async () => {
    handled.push('purge');
    return { purged: true };
  });
  // A resolver the engine refuses: a refusal, not an outage.
  app.get('/broken', { preHandler: app.requirePermission('document:read', { namespace: () => 'not a path!' }) }, async () => {
    handled.push('broken');
    return {};
  });
  // The plain preHandler, without the plugin's defaults.
  const standalone = fastifyRequirePermission(new PolicyEngineClient({ baseUrl: engineUrl }), 'document:read', {
    subject: () => 'user:anyone', namespace: () => 'global',
  });
  app.get('/public', { preHandler: standalone }, async () => {
    handled.push('public');
    return { ok: true };
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  return { url, handled };
}

const ORG = '57af7f6d-f6f7-4af1-b182-3a30440fa781';

t.test('allowed, denied with the reason, unauthenticated, refused by the engine', async (t) => {
  const engine = await runningEngine(t);
  const put = await engine.app.inject({ method: 'PUT', url: '/v1/policies/global-docs', headers: { 'content-type': 'application/yaml', authorization: 'Bearer client-test-admin-token-0123' }, payload: DOCS_POLICY });
  t.equal(put.statusCode, 201);
  const { url, handled } = await documentService(t, engine.url);
  const call = (method: string, path: string, headers: Record<string, string> = {}) => fetch(url + path, { method, headers });

  const ok = await call('DELETE', `/orgs/${ORG}/documents/d1`, { 'x-user': 'user:alice', 'x-role': 'editor' });
  t.equal(ok.status, 200);
  t.same(await ok.json(), { deleted: true });

  const reader = await call('DELETE', `/orgs/${ORG}/documents/d2`, { 'x-user': 'user:bob' });
  t.equal(reader.status, 403);
  t.match(await reader.json(), { statusCode: 403, code: 'PERMISSION_DENIED', permission: 'document:delete', message: /document:delete/ });

  const purge = await call('POST', `/orgs/${ORG}/documents/d1/purge`, { 'x-user': 'user:alice', 'x-role': 'editor' });
  t.equal(purge.status, 403);
  const purgeBody = await purge.json() as Record<string, unknown>;
  t.match(purgeBody, { code: 'PERMISSION_DENIED', message: 'Purging documents needs an admin' });
  t.equal(purgeBody.reason, undefined, 'no rule or document key by default');

  const anonymous = await call('DELETE', `/orgs/${ORG}/documents/d3`);
  t.equal(anonymous.status, 401);
  t.match(await anonymous.json(), { code: 'UNAUTHENTICATED' });

  const broken = await call('GET', '/broken', { 'x-user': 'user:alice' });
  t.equal(broken.status, 403);
  t.match(await broken.json(), { code: 'AUTHORIZATION_FAILED', message: 'the authorization check failed' });

  t.equal((await call('GET', '/public')).status, 200);
  t.same(handled, ['delete d1', 'public'], 'only allowed requests reached a handler');
});

t.test('an unreachable engine answers 503 and never lets the request through', async (t) => {
  const { url, handled } = await documentService(t, await refusedUrl());
  const r = await fetch(`${url}/orgs/${ORG}/documents/d1`, { method: 'DELETE', headers: { 'x-user': 'user:alice', 'x-role': 'editor' } });
  t.equal(r.status, 503);
  t.equal(r.headers.get('retry-after'), '1');
  t.match(await r.json(), { statusCode: 503, code: 'AUTHORIZATION_UNAVAILABLE' });
  t.same(handled, []);
});

t.test('an engine that accepts and never answers: 503 once the client times out, the handler never runs', async (t) => {
  const { url, handled } = await documentService(t, await hangingUrl(t));
  await assertTimeoutRefused(t, url, `/orgs/${ORG}/documents/d1`);
  t.same(handled, []);
});

t.test('a guard without a subject or target resolver is a programming error', async (t) => {
  const client = new PolicyEngineClient({ baseUrl: 'http://127.0.0.1:1' });
  t.throws(() => fastifyRequirePermission(client, 'a:b', { namespace: () => 'global' }), TypeError);
  t.throws(() => fastifyRequirePermission(client, 'a:b', { subject: () => 'u' }), TypeError);
});

t.test('the caller\'s Accept-Language reaches the engine: the reason is in their language', async (t) => {
  const engine = await runningEngine(t);
  const auth = { 'content-type': 'application/yaml', authorization: 'Bearer client-test-admin-token-0123' };
  const policy = 'key: global-docs\nrules:\n  - id: editors\n    subjects: ["role:editor"]\n    grant: ["document:*"]\n  - id: no-purge\n    subjects: ["*"]\n    revoke: ["document:purge"]\n    message: { key: docs.no_purge, fallback: "Purging needs an admin" }\n';
  t.equal((await engine.app.inject({ method: 'PUT', url: '/v1/policies/global-docs', headers: auth, payload: policy })).statusCode, 201);
  const de = 'key: global-messages.de\nkind: messages\nlanguage: de\nmessages:\n  docs.no_purge: "Löschen braucht einen Admin"\n';
  t.equal((await engine.app.inject({ method: 'PUT', url: '/v1/policies/global-messages.de', headers: auth, payload: de })).statusCode, 201);
  const { url } = await documentService(t, engine.url);
  const purge = (headers: Record<string, string>) => fetch(`${url}/orgs/${ORG}/documents/d1/purge`, { method: 'POST', headers: { 'x-user': 'user:eve', 'x-role': 'editor', ...headers } });
  const german = await purge({ 'accept-language': 'de-CH, de;q=0.9, en;q=0.5' });
  t.equal(german.status, 403);
  t.match(await german.json(), { message: 'Löschen braucht einen Admin' });
  const plain = await purge({});
  t.match(await plain.json(), { message: 'Purging needs an admin' });
});
