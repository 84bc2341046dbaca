// `node --import tsx bench/authzen.ts [--seconds 5] [--rounds 3]` — what the standard
// interfaces cost (issue 19):
//   1. AuthZEN POST /access/v1/evaluation on a cache hit against our own POST /v1/check
//      with the same decision (target: ≥ 0.9× its throughput);
//   2. forward-auth through nginx (auth_request) against nginx proxying straight to the
//      upstream.
// The service and the upstream run as child processes, nginx as its own; autocannon
// runs here. The two sides of each comparison alternate in every round (same machine
// load on both); the ratio reported is the median of the per-round ratios.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startChild, startNodeServer, waitForPort, type Child } from './lib/child.js';
import { runLoad, type LoadResult } from './lib/load.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 5);
const ROUNDS = arg('rounds', 5);
const CONNECTIONS = 10;

const POLICY = `key: global-bench
rules:
  - id: readers
    subjects: ["role:reader"]
    grant: ["document:read"]
  - id: owners
    subjects: ["*"]
    when: 'resource.attributes.owner == subject.id'
    grant: ["document:*"]
  - id: gateway-user
    subjects: ["user:gw"]
    grant: ["document:read"]
`;
const ROUTES = `kind: routes
routes:
  - method: GET
    path: /orgs/{org}/documents/{doc}
    namespace: global.org:{org}
    permission: document:read
    resource: document:{doc}
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (r: LoadResult) => `${Math.round(r.rps)} rps, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms${r.serverCores !== undefined ? `, server ${r.serverCores.toFixed(2)} cores = ${Math.round((r.serverCores / r.rps) * 1e6)} µs CPU/request` : ''}${r.errors > 0 ? `, ${r.errors} socket errors` : ''}`;

async function load(port: number, request: Parameters<typeof runLoad>[0]['requests'][number], pids: number[] = []): Promise<LoadResult> {
  const r = await runLoad({ port, requests: [request], connections: CONNECTIONS, durationSec: SECONDS, maxRequests: 2_000_000, pids });
  // A few socket errors under a loaded machine are reported, not fatal; a wrong answer is.
  if (r.non2xx > 0 || r.errors > r.ok / 1000) throw new Error(`${request.path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r;
}

async function compare(title: string, a: { name: string; run: () => Promise<LoadResult> }, b: { name: string; run: () => Promise<LoadResult> }): Promise<number> {
  console.log(`\n## ${title}`);
  // Warm-up: JIT, connection pools, the cache entry.
  await a.run();
  await b.run();
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    const got: Record<string, LoadResult> = {};
    for (const side of order) got[side.name] = await side.run();
    const ratio = got[a.name]!.rps / got[b.name]!.rps;
    ratios.push(ratio);
    console.log(`round ${round + 1}: ${a.name}: ${fmt(got[a.name]!)} | ${b.name}: ${fmt(got[b.name]!)} | ratio ${ratio.toFixed(3)}`);
  }
  const m = median(ratios);
  console.log(`median ${a.name} / ${b.name}: ${m.toFixed(3)}`);
  return m;
}

const dir = mkdtempSync(join(tmpdir(), 'pe-bench-authzen-'));
const children: Child[] = [];
let nginx: ReturnType<typeof spawn> | undefined;
try {
  writeFileSync(join(dir, 'routes.yaml'), ROUTES);
  const service = await startNodeServer({
    mode: 'app',
    env: { FORWARD_AUTH_ROUTES: join(dir, 'routes.yaml'), FORWARD_AUTH_SUBJECT_HEADER: 'X-User', DECISION_LOG: 'false', SAMPLES_ENABLED: 'false', UI_ENABLED: 'false' },
  }, 'authzen');
  children.push(service);
  const put = await fetch(`http://127.0.0.1:${service.port}/v1/policies/global-bench`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: POLICY });
  if (put.status !== 201 && put.status !== 200) throw new Error(`PUT policy: ${put.status} ${await put.text()}`);
  const pid = (service.info as { pid?: number }).pid;
  const pids = pid ? [pid] : [];

  // 1. AuthZEN evaluation vs /v1/check, the same decision, cache hits.
  const check = JSON.stringify({ subject: { id: 'user:alice', roles: ['reader'] }, namespace: 'global', permission: 'document:read', resource: { type: 'document', id: 'd1', attributes: { owner: 'user:bob' } } });
  const authzen = JSON.stringify({ subject: { type: 'user', id: 'alice', properties: { roles: ['reader'] } }, action: { name: 'document:read' }, resource: { type: 'document', id: 'd1', properties: { owner: 'user:bob' } } });
  for (const [path, body] of [['/v1/check', check], ['/access/v1/evaluation', authzen]] as const) {
    const r = await fetch(`http://127.0.0.1:${service.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await r.text();
    if (r.status !== 200 || !/"(allowed|decision)":true/.test(text)) throw new Error(`${path}: ${r.status} ${text}`);
  }
  const json = { 'content-type': 'application/json' };
  const azRatio = await compare('AuthZEN evaluation vs /v1/check (cache hit)',
    { name: 'authzen', run: () => load(service.port, { path: '/access/v1/evaluation', headers: json, body: authzen }, pids) },
    { name: 'check', run: () => load(service.port, { path: '/v1/check', headers: json, body: check }, pids) });

  // 2. nginx with auth_request against nginx straight to the upstream.
  const upstream = await startChild(process.execPath, ['-e', `
    const http = require('node:http');
    const s = http.createServer((q, r) => { q.resume(); r.writeHead(200, { 'content-type': 'text/plain' }).end('upstream'); });
    s.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ ready: true, port: s.address().port, pid: process.pid }) + '\\n'));
    process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`], { label: 'upstream' });
  children.push(upstream);
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${upstream.port}; keepalive 32; }
  upstream pe { server 127.0.0.1:${service.port}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location /direct/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://app; }
    location / {
      auth_request /_policy_engine;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_pass http://app;
    }
    location = /_policy_engine {
      internal;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host localhost;
      proxy_pass http://pe/v1/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
    }
  }
}
`);
  nginx = spawn('/usr/sbin/nginx', ['-p', dir, '-e', `${dir}/error.log`, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  const noRoute = await fetch(`http://127.0.0.1:${port}/admin`, { headers: { 'x-user': 'user:gw' } });
  if (noRoute.status !== 403) throw new Error(`no route must be refused through nginx: ${noRoute.status}`);
  const fwdRatio = await compare('forward-auth through nginx vs nginx straight to the upstream',
    { name: 'auth_request', run: () => load(port, { method: 'GET', path: '/orgs/acme/documents/d1', headers: { 'x-user': 'user:gw' } }) },
    { name: 'direct', run: () => load(port, { method: 'GET', path: '/direct/orgs/acme/documents/d1' }) });
  console.log(`\nsummary: authzen/check ${azRatio.toFixed(3)} (target ≥ 0.9); nginx auth_request/direct ${fwdRatio.toFixed(3)}`);
} finally {
  nginx?.kill('SIGTERM');
  for (const c of children.reverse()) await c.stop();
  rmSync(dir, { recursive: true, force: true });
}
