// `policy-engine serve`: --help lists the settings; a real start on a free port, a
// request, and a graceful stop on SIGTERM.

import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import type { Test } from 'tap';
import { ROOT, runCli } from './run-cli.js';

/** `policy-engine serve <args>` on a free port: the child, its URL once it listens, and all it printed. */
async function serve(t: Test, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Server listening" within 30 s: ${out}`)), 30_000);
    const look = () => {
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', look);
      resolve(m[1]!);
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  return { child, url, out: () => out };
}

t.test('--help lists every setting', async (t) => {
  const r = await runCli(['serve', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /Usage: policy-engine serve/);
  for (const s of ['--port <n>', 'PORT', '--store <value>', 'STORE', '--admin-token', 'ADMIN_TOKEN', '--default-permissions']) t.match(r.stdout, s);
});

t.test('a bad flag: exit 2 with the problem', async (t) => {
  const r = await runCli(['serve', '--port', 'eighty']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--port="eighty": must be an integer/);
});

t.test('starts, answers, stops on SIGTERM', async (t) => {
  const { child, url, out: printed } = await serve(t, ['--store', 'none', '--log-level', 'info']);
  const health = await fetch(`${url}/healthz`);
  t.equal(health.status, 200, 'GET /healthz');
  const tested = await fetch(`${url}/v1/test`, {
    method: 'POST', headers: { 'content-type': 'application/yaml' },
    body: 'name: s\npolicies: []\ncases:\n  - { name: empty path, subject: u, namespace: global, expect: { default: true, permissions: ["*"] } }\n',
  });
  t.same({ status: tested.status, passed: ((await tested.json()) as { passed: boolean }).passed }, { status: 200, passed: true }, 'POST /v1/test on the real server');
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, 'exit 0 after SIGTERM');
  t.match(printed(), /shutting down/);
  t.match(printed(), /"msg":"stopped"/);
});

// Issue 16 item 3: a typo in POLICY_DIR must not start an empty service whose default opens everything.
t.test('an explicit POLICY_DIR that does not exist stops the start, naming it; nothing is created', async (t) => {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const base = await mkdtemp(join(tmpdir(), 'pe-serve-dir-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const missing = join(base, 'polcies');
  const byFlag = await runCli(['serve', '--port', '0', '--store', 'file', '--policy-dir', missing]);
  t.equal(byFlag.code, 2, 'exit 2 (--policy-dir)');
  t.match(byFlag.stderr, `--policy-dir=${JSON.stringify(missing)}: no such directory`);
  const byEnv = await runCli(['serve', '--port', '0'], { env: { STORE: 'file', POLICY_DIR: missing } });
  t.equal(byEnv.code, 2, 'exit 2 (POLICY_DIR)');
  t.match(byEnv.stderr, `POLICY_DIR=${JSON.stringify(missing)}: no such directory`);
  t.notOk(existsSync(missing), 'the directory was not created');
  const file = join(base, 'a-file');
  await writeFile(file, 'x');
  const notDir = await runCli(['serve', '--port', '0', '--store', 'file', '--policy-dir', file]);
  t.equal(notDir.code, 2);
  t.match(notDir.stderr, 'not a directory');
});

t.test('an empty store with the default ["*"]: a warning at start', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'pe-serve-empty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { child, out: printed } = await serve(t, ['--store', 'file', '--policy-dir', dir, '--log-level', 'info']);
  const out = printed();
  const warning = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => typeof l.msg === 'string' && l.msg.includes('holds no documents'));
  t.match(warning, { level: 40, dir, defaultPermissions: ['*'] }, 'a warn line names the directory and the default');
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
});

/** A POST /v1/evaluate whose body is sent in two parts: the request is in flight in between. */
function halfSentRequest(url: string) {
  const { port } = new URL(url);
  const body = JSON.stringify({ subject: { id: 'user:a', roles: ['r'] }, namespace: 'global' });
  const socket = connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => {
    answer += String(d);
  });
  const closed = once(socket, 'close').then(() => answer);
  socket.write(`POST /v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`);
  return { finish: () => socket.write(body.slice(10)), closed, destroy: () => socket.destroy() };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!cond()) throw new Error(`not within 30 s: ${what}`);
}

t.test('SIGTERM: a request in flight is answered before the process exits 0', async (t) => {
  const dir = t.testdir({ 'global-base.yaml': 'key: global-base\nrules:\n  - subjects: ["role:r"]\n    grant: ["doc:read"]\n' });
  const { child, url, out } = await serve(t, ['--store', 'file', '--policy-dir', dir, '--log-level', 'info']);
  const req = halfSentRequest(url);
  await new Promise((r) => setTimeout(r, 200)); // the server has read the headers
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await until(() => /shutting down/.test(out()), 'the shutdown log line');
  t.equal(child.exitCode, null, 'still running while the request is unfinished');
  req.finish();
  const answer = await req.closed;
  t.match(answer, /^HTTP\/1\.1 200 /, 'the request in flight got its answer');
  t.match(answer, /"permissions":\["doc:read"\]/, 'decided by the stored policy');
  const [code] = await exited;
  t.equal(code, 0);
  t.match(out(), /"msg":"stopped"/);
});

t.test('SHUTDOWN_TIMEOUT_MS: a request that never finishes cannot hold the process; exit 1 after the bound', async (t) => {
  const { child, url, out } = await serve(t, ['--store', 'none', '--log-level', 'info'], { SHUTDOWN_TIMEOUT_MS: '300' });
  const req = halfSentRequest(url);
  t.teardown(() => req.destroy());
  await new Promise((r) => setTimeout(r, 200));
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited; // a hang here is caught by tap's timeout: the bound did not act
  t.equal(code, 1, 'exit 1: the shutdown did not complete');
  t.match(out(), /shutdown took too long; exiting/);
  t.notMatch(out(), /"msg":"stopped"/);
});
