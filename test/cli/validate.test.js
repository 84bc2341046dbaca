// `policy-engine validate`: every problem with file:line:column, exit 1 on any.
import t from 'tap';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';
const dir = mkdtempSync(join(tmpdir(), 'pe-validate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'nested'));
writeFileSync(join(dir, 'global-a.yaml'), [
    '# a typo and a bad pattern',
    'key: global-a',
    'rules:',
    '  - subjects: ["*"]',
    '    grant: ["document::read"]',
    '    dney: [x]',
    '',
].join('\n'));
writeFileSync(join(dir, 'nested', 'broken.yml'), 'key: [\n');
writeFileSync(join(dir, 'nested', 'twice.json'), '[{ "key": "global-b", "rules": [{ "subjects": ["*"], "grant": ["a"] }] }]');
writeFileSync(join(dir, 'global-b.yaml'), 'key: global-b\nrules:\n  - { subjects: ["*"], grant: [b] }\n');
writeFileSync(join(dir, 'bad.test.yaml'), 'name: s\npolicies: []\ncases:\n  - name: c\n    subject: u\n    namespace: global\n    expect: { alowed: [a] }\n');
writeFileSync(join(dir, 'notes.txt'), 'not a policy');
const [bad, good, missing, help, usage] = await Promise.all([
    runCli(['validate', dir]),
    runCli(['validate', 'examples/policies', 'examples/tests']),
    runCli(['validate', join(dir, 'nope')]),
    runCli(['validate', '--help']),
    runCli(['validate']),
]);
t.test('problems: every one, positioned, exit 1', async (t) => {
    t.equal(bad.code, 1, 'exit 1');
    const lines = bad.stdout.trim().split('\n');
    t.ok(lines.includes(`${join(dir, 'global-a.yaml')}:5:14: global-a: rules[0].grant[0]: must be a permission pattern (segments of [A-Za-z0-9_./-] or *, joined by :)`), 'a bad pattern, at its line and column');
    t.ok(lines.includes(`${join(dir, 'global-a.yaml')}:6:11: global-a: rules[0].dney: unknown field`), 'an unknown field');
    t.match(bad.stdout, new RegExp(`${join(dir, 'nested', 'broken.yml')}:2:1: malformed YAML`), 'malformed YAML');
    t.match(bad.stdout, /global-b\.yaml:1:1: global-b: key: duplicate key: .*twice\.json holds a document with this key too|twice\.json: global-b: key: duplicate key: .*global-b\.yaml holds/, 'a key in two files');
    t.match(bad.stdout, new RegExp(`${join(dir, 'bad.test.yaml')}:7:23: cases\\[0\\]\\.expect\\.alowed: unknown field`), 'a suite is checked too');
    t.notMatch(bad.stdout, /notes\.txt/, 'other files are left alone');
    t.match(lines.at(-1), /^✗ 5 problems in 4 policy files \(2 documents\), 1 suite$/);
});
t.test('valid files: exit 0', async (t) => {
    t.equal(good.code, 0, good.stdout + good.stderr);
    t.match(good.stdout, /^✓ \d+ policy files \(\d+ documents\), \d+ suites: valid$/m);
});
t.test('a path that does not exist', async (t) => {
    t.equal(missing.code, 1);
    t.match(missing.stdout, /nope: no such file or directory/);
});
t.test('--help, and a command used wrongly', async (t) => {
    t.equal(help.code, 0);
    t.match(help.stdout, /Usage: policy-engine validate \[options\] <paths\.\.\.>/);
    t.equal(usage.code, 2, 'usage errors exit 2');
    t.match(usage.stderr, /missing required argument 'paths'/);
});
