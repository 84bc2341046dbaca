// The README's "Your first policy, in five minutes", run as a new user would, from the
// README's own text: a server on a fresh policies directory, the policy file written into
// it while the server runs (the file store watches the directory), the test suite run with
// `policy-engine test`, and the curl's request sent to the server; the answer must be the
// one the README prints.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../cli/run-cli.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Your first policy'), readme.indexOf('## Endpoints'));
t.ok(section.length > 0, 'the README has the walkthrough');

// The files the walkthrough writes: `cat > <path> <<'YAML' … YAML`.
const files = [...section.matchAll(/cat > (\S+) <<'YAML'\n([\s\S]*?)\nYAML\n/g)].map((m) => ({ path: m[1]!, text: `${m[2]!}\n` }));
t.same(files.map((f) => f.path), ['policies/global-base.yaml', 'policy-tests/global-base.test.yaml'], 'a policy and a suite');
const testCommand = /^policy-engine (test \S+)/m.exec(section);
t.ok(testCommand, 'the walkthrough runs policy-engine test');
const curl = /curl -s localhost:8080(\/v1\/\w+) -H 'content-type: application\/json' \\\n\s+-d '([^']+)'\n# (.+)\n/.exec(section);
t.ok(curl, 'the walkthrough ends with one curl and its answer');

const dir = mkdtempSync(join(tmpdir(), 'pe-walkthrough-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'policies'));

t.test('the walkthrough works', async (t) => {
  // The server from "Run it": the file store on ./policies (here a fresh directory).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--policy-dir', join(dir, 'policies'), '--log-level', 'info'], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Server listening" within 60 s: ${out}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr.on('data', (d) => { out += String(d); });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });

  for (const f of files) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    writeFileSync(join(dir, f.path), f.text);
  }

  const [cmd, suiteDir] = testCommand![1]!.split(' ');
  const tested = await runCli([cmd!, join(dir, suiteDir!)]);
  t.equal(tested.code, 0, `policy-engine test exits 0: ${tested.stdout}${tested.stderr}`);
  t.match(tested.stdout, /2 passed/, 'both cases pass');

  // The server picks the file up on its own; the README's answer is what it says.
  const expected = JSON.parse(curl![3]!) as Record<string, unknown>;
  let answer: Record<string, unknown> = {};
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}${curl![1]!}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl![2]! });
    answer = (await res.json()) as Record<string, unknown>;
    if (res.status === 200 && answer.allowed === false) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Every decision has its own id (docs/audit.md): the README shows where it stands.
  t.match(answer.decisionId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a decisionId');
  t.equal(expected.decisionId, '<uuid>');
  answer = { ...answer, decisionId: '<uuid>' };
  t.same(answer, expected, `the answer the README prints (got ${JSON.stringify(answer)})`);
  child.kill('SIGTERM');
});
