// DECISION_TOKEN (SPEC §11, §12; docs/security.md): when set, every decision route
// (evaluate, check, relation checks, plans, AuthZEN) needs it (or the root ADMIN_TOKEN) as
// a bearer, and /v1/forward-auth needs it in X-Decision-Token (the Authorization header
// is the original request's); beyond loopback without it every decision route is refused
// (403 DECISIONS_DISABLED) while health stays open. The table of routes comes from the
// app itself, so a decision route added later is covered without editing this file.

import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { testApp } from '../helpers/app.js';
import { httpSender, type Req, type Send } from '../helpers/http.js';
import { GATEWAY_POLICY, ROUTES_YAML } from '../helpers/gateways.js';
import { exampleSchema } from '../helpers/relations-example.js';
import { accessTable } from '../../src/server/route-access.js';
import { accessWarnings } from '../../src/server/admin-auth.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';

const ADMIN = 'admin-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const DECISION = 'decision-token-0123456789abcdef';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A valid request for every decision route (a route missing here fails the table test). */
const DECISION_REQUESTS: Record<string, Req> = {
  'POST /v1/evaluate': { method: 'POST', url: '/v1/evaluate', payload: { subject: 'user:alice', namespace: 'global' } },
  'POST /evaluate': { method: 'POST', url: '/evaluate', payload: { subject: 'user:alice', namespace: 'global' } },
  'POST /v1/check': { method: 'POST', url: '/v1/check', payload: { subject: 'user:alice', namespace: 'global', permission: 'document:read' } },
  'POST /v1/relations/check': { method: 'POST', url: '/v1/relations/check', payload: { resource: 'document:d1', permission: 'read', subject: 'user:alice' } },
  'POST /v1/plan': { method: 'POST', url: '/v1/plan', payload: { subject: 'user:alice', namespace: 'global', permission: 'document:read', resource: { type: 'document' } } },
  'POST /v1/relations/lookup-resources': { method: 'POST', url: '/v1/relations/lookup-resources', payload: { resourceType: 'document', permission: 'read', subject: 'user:alice' } },
  'POST /v1/relations/lookup-subjects': { method: 'POST', url: '/v1/relations/lookup-subjects', payload: { resource: 'document:d1', permission: 'read', subjectType: 'user' } },
  'POST /v1/relations/plan': { method: 'POST', url: '/v1/relations/plan', payload: { subject: 'user:alice', permission: 'read', resourceType: 'document' } },
  'POST /access/v1/evaluation': { method: 'POST', url: '/access/v1/evaluation', payload: { subject: { type: 'user', id: 'alice' }, action: { name: 'document:read' }, resource: { type: 'document', id: 'd1' } } },
  'POST /access/v1/evaluations': { method: 'POST', url: '/access/v1/evaluations', payload: { subject: { type: 'user', id: 'alice' }, evaluations: [{ action: { name: 'document:read' }, resource: { type: 'document', id: 'd1' } }] } },
  'POST /access/v1/search/subject': { method: 'POST', url: '/access/v1/search/subject', payload: { subject: { type: 'user' }, action: { name: 'document:read' }, resource: { type: 'document', id: 'd1' } } },
  'POST /access/v1/search/resource': { method: 'POST', url: '/access/v1/search/resource', payload: { subject: { type: 'user', id: 'alice' }, action: { name: 'document:read' }, resource: { type: 'document' } } },
  'POST /access/v1/search/action': { method: 'POST', url: '/access/v1/search/action', payload: { subject: { type: 'user', id: 'alice' }, resource: { type: 'document', id: 'd1' } } },
  'GET /.well-known/authzen-configuration': { method: 'GET', url: '/.well-known/authzen-configuration' },
};


function routesFile(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'pe-dt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'routes.yaml');
  writeFileSync(file, ROUTES_YAML);
  return file;
}

/** A service with a policy, a schema and a tuple, so each decision route has something to answer. */
async function service(t: Test, env: Record<string, string>, loopbackOnly = true): Promise<{ send: Send; decisionRoutes: string[] }> {
  const { app } = await testApp(t, {
    loopbackOnly,
    env: { FORWARD_AUTH_ROUTES: routesFile(t), FORWARD_AUTH_SUBJECT_HEADER: 'X-Auth-Request-User', ...env },
  });
  const send = await httpSender(app);
  const admin = env.ADMIN_TOKEN ? bearer(env.ADMIN_TOKEN) : {};
  const put = await send({ method: 'PUT', url: '/v1/policies/global-gateway', headers: { 'content-type': 'application/yaml', ...admin }, payload: GATEWAY_POLICY });
  if (loopbackOnly || env.ADMIN_TOKEN) t.equal(put.status, 201, put.body);
  if (put.status === 201) {
    t.equal((await send({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml', ...admin }, payload: exampleSchema })).status, 200);
    t.equal((await send({ method: 'POST', url: '/v1/relations/write', headers: admin, payload: { writes: ['document:d1#owner@user:alice'] } })).status, 200);
  }
  const decisionRoutes = accessTable(app).filter((r) => r.access === 'decision' && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
  return { send, decisionRoutes };
}

const forward = (headers: Record<string, string> = {}): Req => ({
  method: 'GET', url: '/v1/forward-auth',
  headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/orgs/o1/documents/d1', 'x-auth-request-user': 'user:alice', ...headers },
});

t.test('every decision route of the app has a request in this table', async (t) => {
  const { send, decisionRoutes } = await service(t, { DECISION_TOKEN: DECISION });
  t.ok(decisionRoutes.length >= 12, `${decisionRoutes.length} decision routes`);
  t.same(decisionRoutes.filter((r) => !(r in DECISION_REQUESTS)), [], 'no decision route without a request here');
  // The OpenAPI document says the same: the decision scheme on each, X-Decision-Token on forward-auth.
  const doc = (await send({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { security?: unknown }>> };
  for (const route of decisionRoutes) {
    const [method, url] = route.split(' ') as [string, string];
    t.same(doc.paths[url]?.[method.toLowerCase()]?.security, [{ decisionToken: [] }, { adminToken: [] }], `${route} in /openapi.json`);
  }
  t.same(doc.paths['/v1/forward-auth']?.get?.security, [{ gatewayToken: [] }], 'forward-auth in /openapi.json');
});

t.test('with DECISION_TOKEN set, every decision route needs it (or the admin token)', async (t) => {
  const { send } = await service(t, { DECISION_TOKEN: DECISION, ADMIN_TOKEN: ADMIN, READ_TOKEN: READ });
  for (const [name, req] of Object.entries(DECISION_REQUESTS)) {
    const anon = await send(req);
    t.equal(anon.status, 401, `${name}: no token → 401`);
    t.equal(anon.json().code, 'UNAUTHORIZED', name);
    t.match(anon.json().message, /DECISION_TOKEN/, `${name}: the refusal names what to send`);
    t.notMatch(anon.body, /document:read|alice|allowed|decision"/, `${name}: nothing of the answer in the refusal`);
    const refusedTokens: Array<[string, Record<string, string>]> = [
      ['a longer token', bearer(`${DECISION}x`)],
      ['a prefix of it', bearer(DECISION.slice(0, -1))],
      ['another case', bearer(DECISION.toUpperCase())],
      ['the read token', bearer(READ)],
      ['the token without Bearer', { authorization: DECISION }],
      ['Basic', { authorization: `Basic ${Buffer.from(`x:${DECISION}`).toString('base64')}` }],
      ['X-Decision-Token wrong, Authorization right', { 'x-decision-token': `${DECISION}x`, authorization: `Bearer ${DECISION}` }],
      ['two tokens', { authorization: `Bearer ${DECISION} ${DECISION}` }],
    ];
    for (const [what, headers] of refusedTokens) {
      const r = await send({ ...req, headers: { ...req.headers, ...headers } });
      t.equal(r.status, 401, `${name}: ${what} → 401`);
    }
    for (const [who, token] of [['the decision token', DECISION], ['the admin token', ADMIN]] as const) {
      const r = await send({ ...req, headers: { ...req.headers, ...bearer(token) } });
      t.equal(r.status, 200, `${name} with ${who}: ${r.body.slice(0, 160)}`);
    }
    const header = await send({ ...req, headers: { 'x-decision-token': DECISION, authorization: 'Bearer some.jwt.of-the-user' } });
    t.equal(header.status, 200, `${name}: in X-Decision-Token, beside a caller's Authorization`);
    const lower = await send({ ...req, headers: { authorization: `bearer  ${DECISION}` } });
    t.equal(lower.status, 200, `${name}: the scheme is case-insensitive, as RFC 7235 says`);
  }
});

t.test('the token is checked before the body is read: an invalid body without it is 401, not 400', async (t) => {
  const { send } = await service(t, { DECISION_TOKEN: DECISION });
  for (const url of ['/v1/evaluate', '/v1/check', '/v1/plan', '/access/v1/evaluation']) {
    const r = await send({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{"subject":' });
    t.equal(r.status, 401, `${url}: ${r.body.slice(0, 120)}`);
    t.same(Object.keys(r.json()).sort(), ['code', 'error', 'message', 'statusCode'], `${url}: no details`);
    const withToken = await send({ method: 'POST', url, headers: { 'content-type': 'application/json', ...bearer(DECISION) }, payload: '{"subject":' });
    t.equal(withToken.status, 400, `${url}: with the token, the validation answer`);
  }
});

t.test('answers with the token are the answers without one', async (t) => {
  const open = await service(t, {});
  const guarded = await service(t, { DECISION_TOKEN: DECISION });
  for (const name of ['POST /v1/evaluate', 'POST /v1/check', 'POST /v1/relations/check', 'POST /v1/plan', 'POST /access/v1/evaluation']) {
    const req = DECISION_REQUESTS[name]!;
    const a = await open.send(req);
    const b = await guarded.send({ ...req, headers: bearer(DECISION) });
    const strip = (body: string) => JSON.stringify(JSON.parse(body), (k, v) => (k === 'decisionId' || k === 'revision' ? undefined : v));
    t.equal(strip(b.body), strip(a.body), name);
  }
  t.equal((await open.send(DECISION_REQUESTS['POST /v1/check']!)).json().allowed, true, 'alice may read: the answers compared are real grants');
});

t.test('inline policies with both tokens set need the admin token, not the decision token', async (t) => {
  const { send } = await service(t, { DECISION_TOKEN: DECISION, ADMIN_TOKEN: ADMIN });
  const inline = { method: 'POST' as const, url: '/v1/evaluate', payload: { subject: 'u', policies: [{ key: 'global-x', rules: [{ subjects: ['*'], grant: ['a:b'] }] }] } };
  const withDecision = await send({ ...inline, headers: bearer(DECISION) });
  t.equal(withDecision.status, 401, 'the decision token opens decisions, not caller-supplied code');
  const withAdmin = await send({ ...inline, headers: bearer(ADMIN) });
  t.equal(withAdmin.status, 200, withAdmin.body);
  t.same(withAdmin.json().permissions, ['a:b']);
});

t.test('forward-auth takes DECISION_TOKEN in X-Decision-Token; Authorization stays the caller\'s', async (t) => {
  const { send } = await service(t, { DECISION_TOKEN: DECISION, ADMIN_TOKEN: ADMIN });
  const none = await send(forward());
  t.equal(none.status, 401, 'no gateway token');
  t.match(none.json().message, /x-decision-token/i);
  t.equal((await send(forward({ 'x-decision-token': `${DECISION}x` }))).status, 401, 'a wrong one');
  t.equal((await send(forward({ 'x-decision-token': `Bearer ${DECISION}` }))).status, 401, 'the header holds the bare token');
  t.equal((await send(forward({ authorization: `Bearer ${DECISION}` }))).status, 401, 'in Authorization it is the caller\'s credential, not the gateway\'s');
  const ok = await send(forward({ 'x-decision-token': DECISION }));
  t.equal(ok.status, 200, ok.body);
  t.equal(ok.headers['x-auth-subject'], 'user:alice');
  const denied = await send({ ...forward({ 'x-decision-token': DECISION }), headers: { ...forward().headers, 'x-forwarded-method': 'DELETE', 'x-decision-token': DECISION } });
  t.equal(denied.status, 403, 'a denial is still a denial');
  t.equal(denied.json().code, 'FORWARD_AUTH_DENIED');
  t.equal((await send(forward({ 'x-decision-token': ADMIN }))).status, 200, 'the admin token passes too');
  // Envoy asks on the path below ours, with the original method.
  const envoy = await send({ method: 'GET', url: '/v1/forward-auth/orgs/o1/documents/d1', headers: { 'x-auth-request-user': 'user:alice' } });
  t.equal(envoy.status, 401, 'the prefix form is guarded too');
  const envoyOk = await send({ method: 'GET', url: '/v1/forward-auth/orgs/o1/documents/d1', headers: { 'x-auth-request-user': 'user:alice', 'x-decision-token': DECISION } });
  t.equal(envoyOk.status, 200, envoyOk.body);
});

t.test('beyond loopback without DECISION_TOKEN, every decision route is refused; health stays open', async (t) => {
  const { send } = await service(t, { ADMIN_TOKEN: ADMIN }, false);
  for (const [name, req] of Object.entries(DECISION_REQUESTS)) {
    for (const headers of [{}, bearer(ADMIN), bearer(DECISION)]) {
      const r = await send({ ...req, headers });
      t.equal(r.status, 403, `${name}: ${r.body.slice(0, 120)}`);
      t.equal(r.json().code, 'DECISIONS_DISABLED', name);
    }
  }
  const gw = await send(forward({ 'x-decision-token': DECISION }));
  t.equal(gw.status, 403);
  t.equal(gw.json().code, 'DECISIONS_DISABLED');
  t.equal((await send({ method: 'GET', url: '/healthz' })).status, 200);
  t.equal((await send({ method: 'GET', url: '/readyz' })).status, 200);
  t.equal((await send({ method: 'GET', url: '/v1/policies/global-gateway', headers: bearer(ADMIN) })).status, 200, 'the admin API works as before');
});

t.test('beyond loopback with DECISION_TOKEN, decisions answer to it', async (t) => {
  const { send } = await service(t, { DECISION_TOKEN: DECISION, ADMIN_TOKEN: ADMIN }, false);
  const req = DECISION_REQUESTS['POST /v1/check']!;
  t.equal((await send(req)).status, 401);
  const r = await send({ ...req, headers: bearer(DECISION) });
  t.equal(r.status, 200, r.body);
  t.equal(r.json().allowed, true);
  t.equal((await send(forward({ 'x-decision-token': DECISION }))).status, 200);
});

t.test('configuration: DECISION_TOKEN is long and differs from the other tokens', async (t) => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };
  t.match(problems({ DECISION_TOKEN: 'short' }), [/DECISION_TOKEN must be at least 16 characters/]);
  t.match(problems({ DECISION_TOKEN: ADMIN, ADMIN_TOKEN: ADMIN }), [/DECISION_TOKEN must differ from ADMIN_TOKEN/]);
  t.match(problems({ DECISION_TOKEN: READ, ADMIN_TOKEN: ADMIN, READ_TOKEN: READ }), [/DECISION_TOKEN must differ from READ_TOKEN/]);
  t.same(problems({ DECISION_TOKEN: DECISION }), [], 'alone, without ADMIN_TOKEN, it is valid');
  t.equal(loadConfig({}, ['--decision-token', DECISION]).decisionToken, DECISION, 'the flag');
});

t.test('start-up warnings and logs', async (t) => {
  t.match(accessWarnings({ adminToken: ADMIN, loopbackOnly: false, allowedHosts: ['pe'] }), [/without DECISION_TOKEN: decision routes .* are refused/]);
  t.same(accessWarnings({ adminToken: ADMIN, decisionToken: DECISION, loopbackOnly: false, allowedHosts: ['pe'] }), []);
  t.same(accessWarnings({ adminToken: ADMIN, loopbackOnly: true }), [], 'on loopback decisions need no token');
  let out = '';
  const logger = createLogger('info', new Writable({ write(chunk, _e, cb) { out += String(chunk); cb(); } }) as unknown as pino.DestinationStream);
  logger.info({ decisionToken: DECISION, req: { headers: { 'x-decision-token': DECISION, authorization: `Bearer ${DECISION}` } } }, 'hello');
  t.notMatch(out, DECISION, 'the token never reaches the log');
  t.match(out, /hello/);
});
