// The Express guard, in a real Express app on loopback asking a real engine: allowed
// requests reach the handler; denied ones get 403 with the reason; no subject 401;
// an unreachable engine 503; `next` is never called for a refused request.

import t, { type Test } from 'tap';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import { PolicyEngineClient, createExpressGuard, expressRequirePermission } from '../../src/client/index.js';
import { ADMIN_TOKEN, DOCS_POLICY, assertTimeoutRefused, hangingUrl, refusedUrl, runningEngine } from './engine.js';

function subjectOf(req: Request) {
  const user = req.get('x-user');
  if (user === undefined) return undefined;
  const role = req.get('x-role');
  return { id: user, roles: role ? [role] : [] };
}

async function documentService(t: Test, engineUrl: string): Promise<{ url: string; handled: string[]; errors: unknown[] }> {
  const handled: string[] = [];
  const errors: unknown[] = [];
  const { requirePermission } = createExpressGuard({
    client: new PolicyEngineClient({ baseUrl: engineUrl, timeoutMs: 2000 }),
    subject: subjectOf,
    namespace: (req) => `global.org.org:${req.params.org}`,
  });
  const app = express();
  app.delete('/orgs/:org/documents/:id', requirePermission('document:delete'), (req, res) => {
    handled.push(`delete ${req.params.id}`);
    res.json({ deleted: true });
  });
  app.post('/orgs/:org/documents/:id/purge', requirePermission('document:purge'), (_req, res) => {
    handled.push('purge');
    res.json({ purged: true });
  });
  app.get('/public', expressRequirePermission(new PolicyEngineClient({ baseUrl: engineUrl }), 'document:read', {
    subject: () => 'user:anyone', namespace: () => 'global',
  }), (_req, res) => {
    handled.push('public');
    res.json({ ok: true });
  });
  app.get('/throws', requirePermission('document:read', { subject: () => { throw new Error('session store down'); } }), (_req, res) => {
    handled.push('throws');
    res.json({});
  });
  // Reached only if a guard called next(err): it must not.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err);
    res.status(500).json({ reachedErrorHandler: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, handled, errors };
}

const ORG = '57af7f6d-f6f7-4af1-b182-3a30440fa781';

t.test('allowed, denied with the reason, unauthenticated, resolver failure', async (t) => {
  const engine = await runningEngine(t);
  const put = await engine.app.inject({ method: 'PUT', url: '/v1/policies/global-docs', headers: { 'content-type': 'application/yaml', authorization: `Bearer ${ADMIN_TOKEN}` }, payload: DOCS_POLICY });
  t.equal(put.statusCode, 201);
  const { url, handled, errors } = await documentService(t, engine.url);
  const call = (method: string, path: string, headers: Record<string, string> = {}) => fetch(url + path, { method, headers });

  const ok = await call('DELETE', `/orgs/${ORG}/documents/d1`, { 'x-user': 'user:alice', 'x-role': 'editor' });
  t.equal(ok.status, 200);
  t.same(await ok.json(), { deleted: true });

  const reader = await call('DELETE', `/orgs/${ORG}/documents/d2`, { 'x-user': 'user:bob' });
  t.equal(reader.status, 403);
  t.match(await reader.json(), { statusCode: 403, code: 'PERMISSION_DENIED', permission: 'document:delete' });

  const purge = await call('POST', `/orgs/${ORG}/documents/d1/purge`, { 'x-user': 'user:alice', 'x-role': 'editor' });
  t.equal(purge.status, 403);
  t.equal(purge.headers.get('cache-control'), 'no-store');
  const purgeBody = await purge.json() as Record<string, unknown>;
  t.match(purgeBody, { message: 'Purging documents needs an admin' });
  t.equal(purgeBody.reason, undefined, 'no rule or document key by default');

  const anonymous = await call('DELETE', `/orgs/${ORG}/documents/d3`);
  t.equal(anonymous.status, 401);
  t.match(await anonymous.json(), { code: 'UNAUTHENTICATED' });

  const throws = await call('GET', '/throws', { 'x-user': 'user:alice' });
  t.equal(throws.status, 403);
  t.match(await throws.json(), { code: 'AUTHORIZATION_FAILED' });

  t.equal((await call('GET', '/public')).status, 200);
  t.same(handled, ['delete d1', 'public'], 'only allowed requests reached a handler');
  t.same(errors, [], 'no guard passed an error on with next(err)');
});

t.test('an unreachable engine answers 503 and never calls next', async (t) => {
  const { url, handled, errors } = await documentService(t, await refusedUrl());
  const r = await fetch(`${url}/orgs/${ORG}/documents/d1`, { method: 'DELETE', headers: { 'x-user': 'user:alice', 'x-role': 'editor' } });
  t.equal(r.status, 503);
  t.match(await r.json(), { statusCode: 503, code: 'AUTHORIZATION_UNAVAILABLE', error: 'Service Unavailable' });
  t.same(handled, []);
  t.same(errors, []);
});

t.test('an engine that accepts and never answers: 503 once the client times out, the handler never runs', async (t) => {
  const { url, handled, errors } = await documentService(t, await hangingUrl(t));
  await assertTimeoutRefused(t, url, `/orgs/${ORG}/documents/d1`);
  t.same(handled, []);
  t.same(errors, [], 'next(err) was not called');
});
