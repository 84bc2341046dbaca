// `policy-engine test`: exit codes, the failure report (diff and trace), JUnit XML, a
// suite that cannot be loaded, and --url (the same suites run by a running service).

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pe-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'global-docs.yaml'), [
  'key: global-docs',
  'rules:',
  '  - id: readers',
  '    subjects: ["*"]',
  '    grant: ["document:read"]',
  '  - id: no-purge',
  '    subjects: ["*"]',
  '    deny: ["document:purge"]',
  '    message: Nobody purges',
  '',
].join('\n'));
writeFileSync(join(dir, 'docs.test.yaml'), [
  'name: docs',
  'policies:',
  '  - include: global-*.yaml',
  'namespace: global',
  'cases:',
  '  - name: anyone reads',
  '    subject: user:a',
  '    expect: { permissions: ["document:read"], allowed: [document:read] }',
  '  - name: a wrong expectation <fails>',
  '    subject: user:a',
  '    expect:',
  '      permissions: ["document:*"]',
  '      allowed: [document:write]',
  '      reasons: { document:purge: "Only admins purge" }',
  '',
].join('\n'));
writeFileSync(join(dir, 'broken.test.yaml'), 'name: broken\npolicies:\n  - include: missing/*.yaml\ncases:\n  - name: c\n    subject: u\n    namespace: global\n    expect: { default: true }\n');
const junit = join(dir, 'reports', 'junit.xml');

const { app } = await testApp(t, { store: 'none' });
const url = await app.listen({ port: 0, host: '127.0.0.1' });

const [local, remote, passing] = await Promise.all([
  runCli(['test', dir, '--junit', junit]),
  runCli(['test', join(dir, 'docs.test.yaml'), '--url', url, '--json']),
  runCli(['test', join(dir, 'docs.test.yaml'), '--url', url, '--json', '--verbose']).then(() => runCli(['test', 'examples/tests', '--url', url])),
]);

t.test('a failing case: exit 1, a diff and the trace', async (t) => {
  t.equal(local.code, 1);
  const out = local.stdout;
  t.match(out, /FAIL  docs \(.*docs\.test\.yaml\): 1 of 2 cases failed/);
  t.match(out, /✗ a wrong expectation <fails>/);
  t.match(out, /permissions:\n\s+- document:\*\n\s+\+ document:read/, 'the lists, - expected + actual');
  t.match(out, /allowed:\n\s+- document:write: allowed\n\s+\+ document:write: refused/);
  t.match(out, /reasons:\n\s+- document:purge: refused: "Only admins purge"\n\s+\+ document:purge: refused: "Nobody purges" \(rule no-purge of global-docs\)/);
  t.match(out, /trace:\n\s+global-docs \[global\]\n\s+✓ readers: applied grant document:read\n\s+✓ no-purge: applied deny document:purge/);
  t.notMatch(out, /✗ anyone reads/, 'passing cases are not listed');
  t.match(out, /BROKEN broken \(.*broken\.test\.yaml\): could not be loaded\n\s+.*broken\.test\.yaml:3:5: policies\[0\]\.include: missing\/\*\.yaml matches no policy file/);
  t.match(out, /2 suites, 2 cases: 1 passed, 1 failed, 1 suite broken/);
});

t.test('JUnit XML', async (t) => {
  const xml = readFileSync(junit, 'utf8');
  t.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="policy-engine" tests="3" failures="1" errors="1"/);
  t.match(xml, /<testsuite name="docs" tests="2" failures="1" errors="0"/);
  t.match(xml, /<testcase name="anyone reads" classname="docs" time="[\d.]+"\/>/);
  t.match(xml, /<testcase name="a wrong expectation &lt;fails&gt;" classname="docs"[^>]*>\n\s+<failure message="unmet: permissions">[^<]*- document:\*/);
  t.match(xml, /<testsuite name="broken" tests="1" failures="0" errors="1"[^>]*>\n\s+<testcase name="\(load suite\)"[^>]*>\n\s+<error message="the suite could not be loaded">/);
});

t.test('--url: the service runs the suite, with the same results', async (t) => {
  t.equal(remote.code, 1, remote.stderr);
  const run = JSON.parse(remote.stdout) as { counts: object; suites: Array<{ name: string; cases: Array<{ name: string; passed: boolean; diff?: string[] }> }> };
  t.same(run.counts, { suites: 1, cases: 2, passed: 1, failed: 1, broken: 0 });
  const failed = run.suites[0]!.cases.find((c) => !c.passed)!;
  t.equal(failed.name, 'a wrong expectation <fails>');
  t.match(failed.diff, ['permissions:']);
  t.equal(passing.code, 0, `the examples pass on the service too: ${passing.stdout}${passing.stderr}`);
  t.match(passing.stdout, /\d+ suites, \d+ cases: \d+ passed, 0 failed/);
});

t.test('--url with a token: the service runs caller-supplied policies only for its admin token', async (t) => {
  const token = 'test-command-token-0123456789';
  const guarded = await testApp(t, { store: 'none', env: { ADMIN_TOKEN: token } });
  const guardedUrl = await guarded.app.listen({ port: 0, host: '127.0.0.1' });
  const suite = join(dir, 'docs.test.yaml');
  const [without, withToken] = await Promise.all([
    runCli(['test', suite, '--url', guardedUrl, '--json']),
    runCli(['test', suite, '--url', guardedUrl, '--json'], { env: { POLICY_ENGINE_TOKEN: token } }),
  ]);
  t.equal(without.code, 1);
  t.match(without.stdout, /401 UNAUTHORIZED/, 'refused, and the report says why');
  t.equal(withToken.code, 1, 'one case fails, as without a token');
  t.same((JSON.parse(withToken.stdout) as { counts: object }).counts, { suites: 1, cases: 2, passed: 1, failed: 1, broken: 0 });
});
