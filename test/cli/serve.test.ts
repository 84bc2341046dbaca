// `policy-engine serve`: --help lists the settings; a real start on a free port, a
// request, and a graceful stop on SIGTERM.

import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT, runCli } from './run-cli.js';

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
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--store', 'none', '--log-level', 'info'], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Server listening" within 30 s: ${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  const url = await listening;
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
  t.match(out, /shutting down/);
  t.match(out, /"msg":"stopped"/);
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
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--store', 'file', '--policy-dir', dir, '--log-level', 'info'], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Server listening" within 30 s: ${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      if (/Server listening/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  const warning = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => typeof l.msg === 'string' && l.msg.includes('holds no documents'));
  t.match(warning, { level: 40, dir, defaultPermissions: ['*'] }, 'a warn line names the directory and the default');
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
});
