// scripts/run-tests.mjs, the runner behind `npm test` and .ci/run: its summary line is
// what CI reads, so how it counts skips is part of the contract. Each case runs the
// real runner on a throw-away test file inside test/ (the runner refuses files
// outside the repository).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import t from 'tap';

const REPO = join(import.meta.dirname, '..', '..');

/**
 * The runner runs in a copy of the repository's frame (the runner, package.json,
 * tsconfig, the allow-list; node_modules linked), never in the repository itself: its
 * tap run would reset the repository's .tap/ directory, and with it the coverage this
 * very run is collecting; and the allow-list it edits is the copy's.
 */
const ROOT = mkdtempSync(join(tmpdir(), 'pe-runner-'));
t.teardown(() => rmSync(ROOT, { recursive: true, force: true }));
for (const d of ['scripts', 'test']) mkdirSync(join(ROOT, d));
for (const f of ['scripts/run-tests.mjs', 'package.json', 'tsconfig.json', 'test/allowed-skips.json']) copyFileSync(join(REPO, f), join(ROOT, f));
symlinkSync(join(REPO, 'node_modules'), join(ROOT, 'node_modules'), 'dir');
const ALLOW = join(ROOT, 'test', 'allowed-skips.json');

/**
 * The runner's environment: this run's CI setting removed (tools read CI's mere
 * presence), and what the enclosing tap run sets for its own children (TAP_*, the
 * coverage collector's NODE_V8_COVERAGE and loader options) and the runner switches
 * this run was given (COVERAGE, STORE_MATRIX, TEST_STORE): the runner under test
 * starts a tap run of its own, as it would from a shell. Then the case's settings.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, MONGO_URL: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:1/', ...env };
  if (!('CI' in env)) delete e.CI;
  for (const k of Object.keys(e)) if (/^(TAP|_TAPJS)|^(NODE_V8_COVERAGE|NODE_OPTIONS|COVERAGE|STORE_MATRIX|TEST_STORE)$/.test(k)) delete e[k];
  return e;
}

function run(file: string, env: Record<string, string>): { last: string; out: string; status: number | null } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'run-tests.mjs'), file], {
    cwd: ROOT,
    encoding: 'utf8',
    env: childEnv(env),
  });
  const lines = r.stdout.trim().split('\n');
  return { last: lines.at(-1) ?? '', out: r.stdout, status: r.status };
}

t.test('a skipped test: reported outside CI, a failure under CI=true unless allowed', async (t) => {
  const dir = mkdtempSync(join(ROOT, 'test', '.runner-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'skips.test.ts');
  writeFileSync(file, "import t from 'tap';\nt.test('needs a tool', { skip: 'tool missing' }, async (t) => { t.pass(); });\nt.test('real', async (t) => { t.pass(); });\n");
  const rel = relative(ROOT, file);

  const local = run(rel, {});
  t.equal(local.last, '1 passed, 0 failed', 'outside CI the skip is not a failure');
  t.match(local.out, /# skipped: 1, todo: 0/, 'and it is reported, not counted as passed');
  t.equal(local.status, 0);

  const ci = run(rel, { CI: 'true' });
  t.equal(ci.last, '1 passed, 1 failed', 'under CI=true an unlisted skip fails the run');
  t.match(ci.out, /needs a tool.*allowed-skips\.json does not list it/);
  t.equal(ci.status, 1);

  // The allow-list (the copy's): list the skip, run, restore.
  const saved = readFileSync(ALLOW, 'utf8');
  t.teardown(() => writeFileSync(ALLOW, saved));
  const list = JSON.parse(saved) as unknown[];
  writeFileSync(ALLOW, JSON.stringify([...list, { file: rel, test: 'needs a tool', reason: 'the runner test' }]));
  const allowed = run(rel, { CI: 'true' });
  t.equal(allowed.last, '1 passed, 0 failed', 'a listed skip with a reason is allowed');
  writeFileSync(ALLOW, saved);
});

t.test('the allow-list holds only entries with a reason', async (t) => {
  const list = JSON.parse(readFileSync(join(REPO, 'test', 'allowed-skips.json'), 'utf8')) as Array<Record<string, unknown>>;
  t.ok(Array.isArray(list));
  for (const e of list) t.ok(typeof e.reason === 'string' && e.reason.trim() !== '', `${String(e.file)}: ${String(e.test)} has a reason`);
});
