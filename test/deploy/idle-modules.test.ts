// What a freshly started server holds in memory: the modules most deployments never use are
// imported on first use (docs/deploy.md, Memory), so the idle server does not load them.
// Starts src/main.ts (file store, empty directory) with a resolve hook that logs every module.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ROOT } from './fixtures/util.js';

// each: what loads it when used
const LAZY = {
  nats: 'DECISION_SHIP_NATS_URL',
  diff: 'the first history request',
  wasmoon: 'the first document that may hold Lua',
  mongodb: 'STORE=mongo',
  '@fastify/swagger-ui': 'the first /docs request',
  'js-yaml': 'the first YAML text parsed or written',
  re2js: 'the first `matches` pattern compiled',
  luaparse: 'the first Lua chunk checked',
  jose: 'the first JWKS or token',
  '@marcbachmann/cel-js': 'the first condition compiled',
};

t.test('an idle file-store server loads none of the on-demand modules', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'pe-idle-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const log = join(tmp, 'resolved.log');
  writeFileSync(log, '');
  mkdirSync(join(tmp, 'policies'));
  // A resolve hook, registered from a data: URL, appends every module's URL to the log;
  // a preload does the same for `require` (src/core/lazy-package.ts loads packages that way).
  const hook = "import { appendFileSync } from 'node:fs'; export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(process.env.RESOLVED_LOG, r.url + '\\n'); return r; }";
  writeFileSync(join(tmp, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});\n`);
  writeFileSync(join(tmp, 'require-log.cjs'), "const M = require('node:module'); const fs = require('node:fs'); const resolve = M._resolveFilename; M._resolveFilename = function (...a) { const r = resolve.apply(this, a); fs.appendFileSync(process.env.RESOLVED_LOG, r + '\\n'); return r; };\n");
  const port = 21000 + Math.floor(Math.random() * 2000);
  const child = spawn(process.execPath, ['--require', join(tmp, 'require-log.cjs'), '--import', 'tsx', '--import', join(tmp, 'register.mjs'), 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', RESOLVED_LOG: log, PORT: String(port), STORE: 'file', POLICY_DIR: join(tmp, 'policies'), LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let ready = false;
  for (let i = 0; i < 600 && !ready && child.exitCode === null; i++) {
    ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(ready, 'the server became ready');
  // One decision, so the request path's imports are counted too.
  const r = await fetch(`http://127.0.0.1:${port}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: 'user:a', namespace: 'global', permission: 'doc:read' }) });
  t.ok(r.status < 500, `a decision answers (${r.status})`);
  const resolved = readFileSync(log, 'utf8').split('\n');
  t.ok(resolved.some((u) => u.includes('/node_modules/fastify/')), 'the log sees node_modules');
  for (const [name, when] of Object.entries(LAZY)) {
    t.notOk(resolved.some((u) => u.includes(`/node_modules/${name}/`)), `${name} is not loaded (loaded by ${when})`);
  }
});
