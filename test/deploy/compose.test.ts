// docker/compose.yaml without a Docker engine: it validates against the Compose
// Specification's schema and agrees with the code; then the pieces it runs are run for
// real, minus the containers: a policy-engine in-process on loopback, the example
// policies loaded by docker/load-policies.sh (curl), and docker/example-api/server.mjs as
// a child process asking it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { isLoopback, loadConfig } from '../../src/config/config.js';
import { testApp } from '../helpers/app.js';
import { ROOT, SETTING_ENVS, exists, loadYamlAll, read, settingDefault, walk, type Obj } from './fixtures/util.js';

const compose = loadYamlAll('docker/compose.yaml')[0]!;
const services = compose.services as Record<string, Obj>;
const ORG = '57af7f6d-f6f7-4af1-b182-3a30440fa781';

/** As compose interpolates: `${NAME:-default}` → NAME or default; `${NAME:?message}` → NAME, or an error. */
const interpolate = (v: unknown, env: Record<string, string> = {}): string => String(v)
  .replace(/\$\{([A-Z_]+):-([^}]*)\}/g, (_m, name: string, dflt: string) => env[name] ?? dflt)
  .replace(/\$\{([A-Z_]+):\?([^}]*)\}/g, (_m, name: string, message: string) => {
    if (env[name] === undefined) throw new Error(`required variable ${name} is missing a value: ${message}`);
    return env[name];
  });

t.test('compose.yaml matches the Compose Specification', async (t) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(read('test/deploy/schemas/compose-spec.json')) as Obj);
  t.ok(validate(compose), JSON.stringify(validate.errors ?? []));
  t.notOk(validate({ services: { a: { image: 'x', enviroment: {} } } }), 'a misspelt key is refused');
  t.same(Object.keys(services).sort(), ['example-api', 'mongo', 'policy-engine']);
});

t.test('MongoDB runs as a replica set, initiated by its health check', async (t) => {
  const mongo = services.mongo!;
  t.match(mongo.image, /^mongo:7(\.\d+)*$/, 'MongoDB 7');
  const command = (mongo.command as string[]).join(' ');
  const rs = /--replSet (\w+)/.exec(command)?.[1];
  t.equal(rs, 'rs0', '--replSet rs0');
  const hc = (mongo.healthcheck.test as string[]).join(' ');
  t.match(hc, /rs\.initiate\(/, 'the health check initiates the set');
  t.match(hc, new RegExp(`_id: '${rs}'`), 'with the same set name');
  t.match(hc, /host: 'mongo:27017'/, 'with a member address the other services resolve');
  t.match(hc, /catch/, 'only when rs.status() says it is not initiated yet');
  t.match(hc, /isWritablePrimary/, 'healthy once it is primary');
});

t.test('policy-engine: settings, store URL, token', async (t) => {
  const pe = services['policy-engine']!;
  t.equal(pe.build, '..', 'built from the repository root');
  t.ok(exists('Dockerfile'));
  t.throws(() => Object.values(pe.environment as Obj).map((v) => interpolate(v)), /ADMIN_TOKEN/, 'compose refuses to start without an ADMIN_TOKEN');
  t.throws(() => Object.values(pe.environment as Obj).map((v) => interpolate(v, { ADMIN_TOKEN: 'operator-chosen-token-0123456789' })), /DECISION_TOKEN/, 'or without a DECISION_TOKEN');
  const operator = { ADMIN_TOKEN: 'operator-chosen-token-0123456789', DECISION_TOKEN: 'operator-decision-token-0123456789' };
  const env = Object.fromEntries(Object.entries(pe.environment as Obj).map(([k, v]) => [k, interpolate(v, operator)]));
  for (const k of Object.keys(env)) t.ok(SETTING_ENVS.has(k), `${k} is a setting`);
  // the image's ENV (Dockerfile) under the compose environment
  const config = loadConfig({ HOST: '0.0.0.0', PORT: '8080', POLICY_DIR: '/policies', ...env });
  t.equal(config.store, 'mongo');
  const url = new URL(config.mongoUrl!);
  t.equal(url.hostname, 'mongo', 'MONGO_URL names the mongo service');
  t.equal(url.port, '27017');
  t.equal(url.searchParams.get('replicaSet'), 'rs0', 'and its replica set');
  t.equal(url.pathname, '/policy', 'and a database');
  t.notOk(isLoopback(config.host), 'listens beyond loopback in the container…');
  t.ok(config.adminToken && config.adminToken.length >= 16, '…so an ADMIN_TOKEN is set (writes are refused without one)');
  t.match(String((pe.environment as Obj).ADMIN_TOKEN), /^\$\{ADMIN_TOKEN:\?.+\}$/, 'the token comes from the environment, with no default');
  t.equal(config.adminToken, operator.ADMIN_TOKEN);
  t.equal(config.decisionToken, operator.DECISION_TOKEN, '…and a DECISION_TOKEN (decisions are refused without one)');
  t.match(String((pe.environment as Obj).DECISION_TOKEN), /^\$\{DECISION_TOKEN:\?.+\}$/, 'from the environment, with no default');
  t.notMatch(read('docker/compose.yaml') + read('docs/deploy.md'), /dev-admin-token/, 'no known token shipped or documented');
  t.same(pe.ports, [`127.0.0.1:${config.port}:${config.port}`], 'published on the host loopback only');
  t.equal(pe.read_only, true, 'read-only root filesystem');
  t.same(pe.tmpfs, ['/tmp']);
  t.equal(pe.depends_on.mongo.condition, 'service_healthy');
  t.match((pe.healthcheck.test as string[]).join(' '), new RegExp(`127\\.0\\.0\\.1:${config.port}/readyz`), 'healthy = ready');
});

t.test('example-api asks the policy-engine service on its port', async (t) => {
  const api = services['example-api']!;
  t.ok(exists(join('docker', api.build, 'Dockerfile')), 'its Dockerfile exists');
  t.ok(exists(join('docker', api.build, 'server.mjs')), 'its server exists');
  const url = new URL(String(api.environment.POLICY_ENGINE_URL));
  t.ok(services[url.hostname], `${url.hostname} is a service`);
  t.equal(url.hostname, 'policy-engine');
  const pePort = (services['policy-engine']!.environment as Obj).PORT ?? settingDefault('PORT');
  t.equal(url.port, String(pePort), 'on the port policy-engine listens on');
  t.equal(api.depends_on['policy-engine'].condition, 'service_healthy');
  const allowed = loadConfig({ ALLOWED_HOSTS: String((services['policy-engine']!.environment as Obj).ALLOWED_HOSTS ?? '') }).allowedHosts;
  t.ok(allowed.includes(url.hostname), 'the Host it sends is one the engine accepts (ALLOWED_HOSTS)');
  t.notOk('ADMIN_TOKEN' in (api.environment as Obj), 'the API is not given the admin token');
  t.equal(String((api.environment as Obj).POLICY_ENGINE_DECISION_TOKEN), String((services['policy-engine']!.environment as Obj).DECISION_TOKEN), 'but the decision token the engine is given');
});

// ---- the real thing, on loopback ----

async function startExampleApi(t: Test, sidecarUrl: string, decisionToken?: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(ROOT, 'docker/example-api/server.mjs')], {
    env: { PATH: process.env.PATH, POLICY_ENGINE_URL: sidecarUrl, PORT: '0', HOST: '127.0.0.1', ...(decisionToken ? { POLICY_ENGINE_DECISION_TOKEN: decisionToken } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stderr!.on('data', (d) => { out += String(d); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example-api did not start: ${out}`)), 5000);
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /listening on port (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => reject(new Error(`example-api exited ${code}: ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Obj }> {
  const r = await fetch(url, { headers });
  return { status: r.status, body: (await r.json()) as Obj };
}

const who = (user: string, roles = '', groups = '') => ({ 'x-user-id': user, 'x-user-roles': roles, 'x-user-groups': groups, 'x-org-id': ORG });

t.test('load-policies.sh and the example API against a running policy-engine', async (t) => {
  const token = 'test-admin-token-0123456789';
  const decisionToken = 'test-decision-token-0123456789';
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: token, DECISION_TOKEN: decisionToken } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const sidecar = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const curl = spawnSync('curl', ['--version']).status === 0;
  // Asynchronously: the server answering the script runs in this very process.
  const load = async (env: Record<string, string>) => {
    const child = spawn('bash', [join(ROOT, 'docker/load-policies.sh')], {
      env: { PATH: process.env.PATH, POLICY_ENGINE_URL: sidecar, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    const [status] = await once(child, 'close');
    return { status: status as number | null, stdout, stderr };
  };
  // Awaited: the example API below must start only once the script has loaded (and
  // replaced) every document, not race it.
  await t.test('load-policies.sh', { skip: curl ? false : 'curl is not installed' }, async (t) => {
    t.not((await load({})).status, 0, 'refuses to run without ADMIN_TOKEN');
    const wrong = await load({ ADMIN_TOKEN: 'not-the-token-at-all' });
    t.not(wrong.status, 0, 'stops on a 401');
    t.match(wrong.stderr + wrong.stdout, /401|UNAUTHORIZED/i, 'and shows the server error');
    const ok = await load({ ADMIN_TOKEN: token });
    t.equal(ok.status, 0, `loads the examples: ${ok.stderr}`);
    const files = walk('examples/policies', (n) => n.endsWith('.yaml'));
    t.match(ok.stderr, `loaded ${files.length} policies`);
    const list = await (await fetch(`${sidecar}/v1/policies`, { headers: { authorization: `Bearer ${token}` } })).json() as { items: Obj[] };
    t.same(list.items.map((i) => i.key).sort(), ['global-base', 'org-editors', `org:${ORG}-acme`].sort(), 'every example is stored under its own key');
    t.equal((await load({ ADMIN_TOKEN: token })).status, 0, 'running it again replaces them');
  });
  if (!curl) {
    // Same requests without curl, so the example API below still has policies.
    for (const f of walk('examples/policies', (n) => n.endsWith('.yaml'))) {
      const text = read(f);
      const key = /^key:\s*(\S+)/m.exec(text)![1]!;
      const r = await fetch(`${sidecar}/v1/policies/${key}`, { method: 'PUT', headers: { 'content-type': 'application/yaml', authorization: `Bearer ${token}` }, body: text });
      t.ok(r.ok, `PUT ${key}`);
    }
  }

  t.equal((await fetch(`${sidecar}/readyz`)).status, 200, 'the engine is ready');
  const tokenless = await startExampleApi(t, sidecar);
  t.same(await get(`${tokenless.url}/documents/doc1`, who('alice', 'editor')), { status: 503, body: { error: 'authorization unavailable' } }, 'without the decision token the API gets a 401 and fails closed');
  const { url, child } = await startExampleApi(t, sidecar, decisionToken);
  t.same(await get(`${url}/healthz`), { status: 200, body: { status: 'ok' } }, 'healthz');
  t.same(await get(`${url}/documents/doc1`, who('alice', 'editor')), { status: 200, body: { id: 'doc1', title: 'Document doc1' } }, 'an editor reads');
  t.same(await get(`${url}/documents/doc1`, who('vic', 'viewer', 'contractors')), { status: 200, body: { id: 'doc1', title: 'Document doc1' } }, 'a contractor viewer reads');
  t.same(await get(`${url}/documents/doc1`, who('bob')), { status: 403, body: { error: 'forbidden', reason: 'no policy grants document:read' } }, 'no role: 403');
  t.same(await get(`${url}/documents/doc1`, who('mallory', 'editor', 'suspended')),
    { status: 403, body: { error: 'forbidden', reason: 'Your account is suspended; contact support' } }, 'suspended: 403 with the policy message');
  t.same(await get(`${url}/documents/doc1`, who('root', 'admin')), { status: 200, body: { id: 'doc1', title: 'Document doc1' } }, 'a platform admin reads');
  t.equal((await get(`${url}/nope`)).status, 404, 'unknown route');

  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  t.equal(code, 0, 'stops on SIGTERM');
});

t.test('the example API fails closed when the sidecar is down', async (t) => {
  // a port that was just free: nothing listens there
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const { url } = await startExampleApi(t, `http://127.0.0.1:${port}`);
  t.same(await get(`${url}/documents/doc1`, who('alice', 'editor')), { status: 503, body: { error: 'authorization unavailable' } });
});
