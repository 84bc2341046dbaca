// Real gateways for the forward-auth tests: Debian's nginx (auth_request) and Caddy
// (forward_auth), installed by scripts/install-gateways.sh, each started on a free
// loopback port with its own config in a temp dir, in front of a tiny upstream that
// records what reached it. The configs are the snippets docs/gateways.md shows.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

/** The route table the forward-auth tests use (docs/gateways.md shows it). */
export const ROUTES_YAML = `
kind: routes
routes:
  - method: GET
    path: /orgs/{org}/documents/{doc}
    namespace: global.org.org:{org}
    permission: document:read
    resource: document:{doc}
  - method: [PUT, DELETE]
    path: /orgs/{org}/documents/{doc}
    namespace: global.org.org:{org}
    permission: document:write
    resource: document:{doc}
`;

export const GATEWAY_POLICY = `
key: global-gateway
rules:
  - subjects: ["user:alice"]
    grant: ["document:read"]
  - subjects: ["*"]
    deny: ["document:write"]
    message: Documents are read-only here
`;

export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
export const CADDY = '/usr/bin/caddy';

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface Upstream {
  port: number;
  /** every request that reached the upstream: method, URL, headers */
  seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
}

/** A tiny upstream: answers 200 `upstream <method> <url>` and records each request. */
export async function startUpstream(t: Test): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`upstream ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, seen };
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}): ${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the gateway did not listen on ${port}: ${log()}`);
}

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function run(t: Test, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out.slice(-2000) };
}

/** The nginx server block of docs/gateways.md, for a service on `policyPort` (with DECISION_TOKEN: the line that sends it). */
export function nginxServerBlock(port: number, policyPort: number, upstreamPort: number, decisionToken?: string): string {
  return `
  server {
    listen 127.0.0.1:${port};

    location / {
      auth_request /_policy_engine;
      # The subject and the reason, from the forward-auth answer.
      auth_request_set $auth_subject $upstream_http_x_auth_subject;
      auth_request_set $auth_reason $upstream_http_x_auth_reason;
      add_header X-Auth-Reason $auth_reason always;
      proxy_set_header X-Auth-Subject $auth_subject;
      proxy_pass http://127.0.0.1:${upstreamPort};
    }

    location = /_policy_engine {
      internal;
      proxy_pass http://127.0.0.1:${policyPort}/v1/forward-auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Forwarded-Uri "";
      proxy_set_header X-Forwarded-Method "";
      proxy_set_header X-Original-Url "";${decisionToken === undefined ? '' : `
      proxy_set_header X-Decision-Token "${decisionToken}";`}
    }
  }`;
}

/** nginx in the foreground with its own prefix, pid, logs and temp paths; answers on the returned port. */
export async function startNginx(t: Test, policyPort: number, upstreamPort: number, decisionToken?: string): Promise<{ port: number }> {
  const dir = tempDir(t, 'pe-nginx-');
  const port = await freePort();
  const conf = `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${nginxServerBlock(port, policyPort, upstreamPort, decisionToken)}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const { child, output } = run(t, NGINX, ['-p', dir, '-e', `${dir}/error.log`, '-c', join(dir, 'nginx.conf')]);
  const log = () => `${output()}\n${existsSync(`${dir}/error.log`) ? readFileSync(`${dir}/error.log`, 'utf8').slice(-2000) : ''}`;
  await waitForPort(port, child, log);
  return { port };
}

/** The Caddy site block of docs/gateways.md (with a DECISION_TOKEN: the line that sends it, from Caddy's environment). */
export function caddySiteBlock(port: number, policyPort: number, upstreamPort: number, withDecisionToken = false): string {
  return `
http://127.0.0.1:${port} {
	bind 127.0.0.1
	forward_auth 127.0.0.1:${policyPort} {
		uri /v1/forward-auth
		# Caddy passes the original Host on; the sidecar answers loopback names (or ALLOWED_HOSTS).
		header_up Host {upstream_hostport}
		copy_headers X-Auth-Subject${withDecisionToken ? `
		header_up X-Decision-Token {env.DECISION_TOKEN}` : ''}
	}
	reverse_proxy 127.0.0.1:${upstreamPort}
}`;
}

/** Caddy in the foreground, admin endpoint off, its state in a temp dir. */
export async function startCaddy(t: Test, policyPort: number, upstreamPort: number, decisionToken?: string): Promise<{ port: number }> {
  const dir = tempDir(t, 'pe-caddy-');
  const port = await freePort();
  const caddyfile = `{
	admin off
	auto_https off
	storage file_system ${dir}/data
}
${caddySiteBlock(port, policyPort, upstreamPort, decisionToken !== undefined)}
`;
  writeFileSync(join(dir, 'Caddyfile'), caddyfile);
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config'), ...(decisionToken === undefined ? {} : { DECISION_TOKEN: decisionToken }) };
  const { child, output } = run(t, CADDY, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], env);
  await waitForPort(port, child, output);
  return { port };
}
