// What a guard's 403 tells the caller, and which request id reaches the engine, in real
// fastify and Express apps asking a real engine. By default a denial carries only the
// policy's own message (or a generic one): never a failing script's runtime error, never
// the rule or document key (which may hold a tenant id), never the engine's error code.
// `exposeInternals` adds the rule and document, still without a script error. The caller's
// x-request-id is what the engine's decision log names.

import t, { type Test } from 'tap';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import express from 'express';
import { PolicyEngineClient, createExpressGuard, fastifyPolicyGuard, type FastifyGuardOptions } from '../../src/client/index.js';
import { ADMIN_TOKEN, runningEngine } from './engine.js';
import { captureLog } from '../observability/log-capture.js';

const TENANT = 'org:7d1c2e90-0000-4000-8000-00000000beef';
// A script document that fails at run time with a message naming internals.
const FAILING_SCRIPT = `key: ${TENANT}-audit
namespace: ${TENANT}
kind: lua
ordinal: 1
reads: [subject.roles]
script: |
  function can_execute(subject, resource, context)
    error("db password hunter2 for ${TENANT}")
  end
`;
const DOCS = `key: global-docs
rules:
  - id: readers
    subjects: ["*"]
    grant: ["document:read"]
  - id: no-purge
    subjects: ["*"]
    deny: ["document:purge"]
    message: Purging needs an admin
`;

type Guarded = { url: string };

async function fastifyApp(t: Test, engineUrl: string, options: FastifyGuardOptions = {}): Promise<Guarded> {
  const app = Fastify();
  await app.register(fastifyPolicyGuard, {
    client: new PolicyEngineClient({ baseUrl: engineUrl, timeoutMs: 3000 }),
    subject: () => 'user:alice',
    namespace: (req) => (req.query as { ns: string }).ns,
    ...options,
  });
  app.get('/read', { preHandler: app.requirePermission('document:read') }, async () => ({ ok: true }));
  app.get('/purge', { preHandler: app.requirePermission('document:purge') }, async () => ({ ok: true }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  return { url };
}

async function expressApp(t: Test, engineUrl: string, exposeInternals = false): Promise<Guarded> {
  const app = express();
  const { requirePermission } = createExpressGuard({
    client: new PolicyEngineClient({ baseUrl: engineUrl, timeoutMs: 3000 }),
    subject: () => 'user:alice',
    namespace: (req) => String(req.query.ns),
    exposeInternals,
  });
  app.get('/read', requirePermission('document:read'), (_req, res) => { res.json({ ok: true }); });
  app.get('/purge', requirePermission('document:purge'), (_req, res) => { res.json({ ok: true }); });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function engineWithPolicies(t: Test) {
  const log = captureLog('info');
  const engine = await runningEngine(t, { logger: log.logger });
  const headers = { 'content-type': 'application/yaml', authorization: `Bearer ${ADMIN_TOKEN}` };
  for (const [key, body] of [['global-docs', DOCS], [`${TENANT}-audit`, FAILING_SCRIPT]] as const) {
    const r = await engine.app.inject({ method: 'PUT', url: `/v1/policies/${key}`, headers, payload: body });
    t.equal(r.statusCode, 201, r.body);
  }
  return { engine, log };
}

const get = async (app: Guarded, path: string, ns: string, headers: Record<string, string> = {}) => {
  const r = await fetch(`${app.url}${path}?ns=${encodeURIComponent(ns)}`, { headers });
  return { status: r.status, text: await r.text() };
};

for (const framework of ['fastify', 'express'] as const) {
  t.test(`${framework}: a failing script's error never reaches the caller`, async (t) => {
    const { engine } = await engineWithPolicies(t);
    // The engine itself explains the failure to whoever asks it directly (the operator):
    const direct = await engine.app.inject({ method: 'POST', url: '/v1/check', payload: { subject: 'user:alice', namespace: `global.${TENANT}`, permission: 'document:read' } });
    t.match(direct.json(), { allowed: false, reason: { text: /hunter2/ } }, 'the engine reports the script error');

    const plain = framework === 'fastify' ? await fastifyApp(t, engine.url) : await expressApp(t, engine.url);
    const exposed = framework === 'fastify' ? await fastifyApp(t, engine.url, { exposeInternals: true }) : await expressApp(t, engine.url, true);

    const denied = await get(plain, '/read', `global.${TENANT}`);
    t.equal(denied.status, 403);
    t.same(JSON.parse(denied.text), { statusCode: 403, code: 'PERMISSION_DENIED', error: 'Forbidden', message: 'permission document:read is denied', permission: 'document:read' }, 'a generic message only');
    t.notMatch(denied.text, /hunter2|lua|7d1c2e90|audit/, 'no script error, no document key, no tenant id');

    const detailed = await get(exposed, '/read', `global.${TENANT}`);
    t.equal(detailed.status, 403);
    t.match(JSON.parse(detailed.text), { message: 'permission document:read is denied', reason: { document: `${TENANT}-audit` } }, 'exposeInternals: the document that denied');
    t.notMatch(detailed.text, /hunter2|lua:/, 'and still never the script error');

    // A policy's own message is the caller's to read; its rule and document are not.
    const purge = await get(plain, '/purge', 'global');
    t.same(JSON.parse(purge.text), { statusCode: 403, code: 'PERMISSION_DENIED', error: 'Forbidden', message: 'Purging needs an admin', permission: 'document:purge' });
    t.match(JSON.parse((await get(exposed, '/purge', 'global')).text), { message: 'Purging needs an admin', reason: { rule: 'no-purge', document: 'global-docs' } });

    // The engine refusing the question: its error code only when exposed.
    const bad = await get(plain, '/read', 'not a path!');
    t.same([bad.status, JSON.parse(bad.text).message], [403, 'the authorization check failed']);
    t.match(JSON.parse((await get(exposed, '/read', 'not a path!')).text), { message: /NAMESPACE_INVALID/ });
  });

  t.test(`${framework}: the caller's x-request-id reaches the engine's decision log`, async (t) => {
    const { engine, log } = await engineWithPolicies(t);
    const app = framework === 'fastify' ? await fastifyApp(t, engine.url) : await expressApp(t, engine.url);
    t.equal((await get(app, '/read', 'global', { 'x-request-id': 'caller-req-4711' })).status, 200);
    t.ok(log.decisions().some((d) => d.reqId === 'caller-req-4711'), `the decision log names the caller's id (${log.decisions().map((d) => d.reqId).join(', ')})`);
    // A header that cannot be forwarded as is is not forwarded.
    t.equal((await get(app, '/read', 'global', { 'x-request-id': 'x'.repeat(300) })).status, 200, 'an oversized id is dropped, the request still answered');
  });
}
