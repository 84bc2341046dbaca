// Forward-auth through real gateways: nginx (auth_request) and Caddy (forward_auth),
// each on a free loopback port in front of a tiny upstream, the service listening on
// another. Allowed → the upstream is reached with the subject; denied → 403 from the
// gateway with our reason; no subject → 401; traversal → 403; the service down → the
// gateway fails closed (the upstream is never reached).

import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { putYaml, testApp } from '../helpers/app.js';
import { GATEWAY_POLICY, ROUTES_YAML, startCaddy, startNginx, startUpstream } from '../helpers/gateways.js';

// Real signed JWTs, with keys made here: the service verifies them against a JWKS file.
const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const forger = await generateKeyPair('ES256', { extractable: true });
const jwt = (sub: string, key = privateKey) => new SignJWT({ roles: [] })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject(sub).setIssuer('https://idp.test').setAudience('pe')
  .setIssuedAt().setExpirationTime('10m').sign(key);

async function service(t: Test, extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pe-gw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'routes.yaml'), ROUTES_YAML);
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  const { app, services } = await testApp(t, {
    env: { FORWARD_AUTH_ROUTES: join(dir, 'routes.yaml'), JWT_JWKS_FILE: join(dir, 'jwks.json'), JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'pe', JWT_ALGORITHMS: 'ES256', ...extraEnv },
  });
  await putYaml(t, app, 'global-gateway', GATEWAY_POLICY);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, services, port: (app.server.address() as AddressInfo).port };
}

type Start = (t: Test, policyPort: number, upstreamPort: number, decisionToken?: string) => Promise<{ port: number }>;

const DECISION = 'gateway-decision-token-0123456789';

for (const [name, start, downStatus] of [['nginx', startNginx, 500], ['caddy', startCaddy, 502]] as Array<[string, Start, number]>) {
  t.test(`${name} in front of the service`, async (t) => {
    const upstream = await startUpstream(t);
    const pe = await service(t);
    const gw = await start(t, pe.port, upstream.port);
    const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
      const r = await fetch(`http://127.0.0.1:${gw.port}${path}`, { method, headers, redirect: 'manual' });
      return { status: r.status, reason: r.headers.get('x-auth-reason'), body: await r.text() };
    };
    const tokens = { alice: await jwt('alice'), bob: await jwt('bob'), forged: await jwt('alice', forger.privateKey) };
    const as = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who]}` });

    const before = upstream.seen.length;
    const ok = await get('/orgs/acme/documents/d1?download=1', as('alice'));
    t.equal(ok.status, 200, 'allowed');
    t.equal(ok.body, 'upstream GET /orgs/acme/documents/d1?download=1', 'the upstream answered');
    t.equal(upstream.seen.length, before + 1);
    t.equal(upstream.seen.at(-1)!.headers['x-auth-subject'], 'user:alice', 'the upstream learns the subject from X-Auth-Subject');

    const denied = await get('/orgs/acme/documents/d1', as('alice'), 'PUT');
    t.equal(denied.status, 403, 'denied by a rule');
    t.equal(denied.reason, 'Documents are read-only here', 'the gateway passes our reason on');
    const notGranted = await get('/orgs/acme/documents/d1', as('bob'));
    t.equal(notGranted.status, 403);
    t.match(notGranted.reason, /document:read is not allowed/);
    const noRoute = await get('/admin', as('alice'));
    t.equal(noRoute.status, 403, 'no route: denied');
    t.match(noRoute.reason, /no route matches/);
    const anonymous = await get('/orgs/acme/documents/d1');
    t.equal(anonymous.status, 401, 'no token: 401');
    const forged = await get('/orgs/acme/documents/d1', as('forged'));
    t.equal(forged.status, 401, 'a token signed by another key: 401');
    const garbage = await get('/orgs/acme/documents/d1', { authorization: 'Bearer a.b.c' });
    t.equal(garbage.status, 401, 'a malformed token: 401');
    const traversal = await get('/orgs/acme/documents/%2e%2e', as('alice'));
    t.equal(traversal.status, 403, 'an encoded dot segment is refused');
    const encodedSlash = await get('/orgs/acme%2fother/documents/d1', as('alice'));
    t.equal(encodedSlash.status, 403, 'an encoded slash is refused');
    const injected = await get('/orgs/acme/documents/d1', { ...as('bob'), 'X-Original-URI': '/orgs/acme/documents/d1', 'X-Forwarded-Uri': '/orgs/acme/documents/d1' });
    t.equal(injected.status, 403, 'headers a client sends cannot make bob a reader');
    t.equal(upstream.seen.length, before + 1, 'no denied request reached the upstream');

    // A route stored as a document (kind: routes) through the policy API: no restart.
    t.equal((await get('/projects/acme/files/f1', as('alice'))).status, 403, 'not routed yet');
    const stored = await pe.app.inject({ method: 'PUT', url: '/v1/policies/global-routes-projects', headers: { 'content-type': 'application/yaml' }, payload: 'key: global-routes-projects\nkind: routes\nroutes:\n  - {method: GET, path: "/projects/{org}/files/{doc}", namespace: "global.org.org:{org}", permission: document:read, resource: "document:{doc}"}\n' });
    t.equal(stored.statusCode, 201, stored.body);
    t.equal((await get('/projects/acme/files/f1', as('alice'))).status, 200, 'the stored route lets alice through');
    t.equal(upstream.seen.at(-1)!.url, '/projects/acme/files/f1');
    t.equal((await get('/projects/acme/files/f1', as('bob'))).status, 403, 'and asks the policies for bob');
    // A stored route document that does not compile (written past the API): closed.
    const document = { key: 'global-routes-zz-broken', kind: 'routes', routes: [{ method: 'GET', path: '/a/../b', namespace: 'global', permission: 'x:read' }] } as never;
    await pe.services.store!.put({ key: 'global-routes-zz-broken', namespace: 'global', ordinal: null, disabled: false, format: 'json', text: JSON.stringify(document), document });
    await pe.services.manager!.sync();
    t.equal((await get('/projects/acme/files/f1', as('alice'))).status, 200, 'a route ahead of the broken document still answers');
    const seen = upstream.seen.length;
    const behind = await get('/zzz', as('alice'));
    t.not(behind.status, 200, `no route ahead of the broken document: ${name} answers ${behind.status}`);
    t.equal(upstream.seen.length, seen, 'fails closed: the upstream is not reached');
    await pe.app.inject({ method: 'DELETE', url: '/v1/policies/global-routes-zz-broken' });
    const reached = upstream.seen.length;

    await pe.app.close();
    const down = await get('/orgs/acme/documents/d1', as('alice'));
    t.equal(down.status, downStatus, `the service down: ${name} answers ${downStatus}`);
    t.equal(upstream.seen.length, reached, 'fails closed: the upstream is not reached');
  });

  t.test(`${name} sends DECISION_TOKEN as docs/gateways.md says`, async (t) => {
    const upstream = await startUpstream(t);
    const pe = await service(t, { DECISION_TOKEN: DECISION });
    const alice = { authorization: `Bearer ${await jwt('alice')}` };
    const get = async (port: number, headers: Record<string, string> = {}) => {
      const r = await fetch(`http://127.0.0.1:${port}/orgs/acme/documents/d1`, { headers, redirect: 'manual' });
      return { status: r.status, body: await r.text() };
    };
    const configured = await start(t, pe.port, upstream.port, DECISION);
    const ok = await get(configured.port, alice);
    t.equal(ok.status, 200, 'the gateway sends the token: alice is let through');
    t.equal(upstream.seen.at(-1)!.headers['x-auth-subject'], 'user:alice');
    t.equal(upstream.seen.at(-1)!.headers['x-decision-token'], undefined, 'the token goes to the sidecar only, never upstream');
    t.equal((await get(configured.port, { ...alice, 'x-decision-token': 'forged-by-the-client-0123' })).status, 200, 'a client\'s own X-Decision-Token is overwritten');
    const bob = await get(configured.port, { authorization: `Bearer ${await jwt('bob')}` });
    t.equal(bob.status, 403, 'and the policies still decide');
    const seen = upstream.seen.length;
    const unconfigured = await start(t, pe.port, upstream.port);
    const refused = await get(unconfigured.port, alice);
    t.equal(refused.status, 401, 'a gateway without the token is refused');
    const guessed = await get(unconfigured.port, { ...alice, 'x-decision-token': `${DECISION}x` });
    t.equal(guessed.status, 401, 'so is a client guessing it through that gateway');
    t.equal(upstream.seen.length, seen, 'the upstream is not reached');
  });
}
