// The suite runner's pure parts: parsing with positioned problems, includes (files,
// directories, globs), compile checks, expectations and their diffs, reports, JUnit.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileSuite } from '../../src/testing/compile-suite.js';
import { lineDiff, listDiff } from '../../src/testing/diff.js';
import { expandGlob } from '../../src/testing/glob.js';
import { toJUnit } from '../../src/testing/junit.js';
import { loadSuiteFile, runSuiteFiles } from '../../src/testing/load-suite.js';
import { parseSuite } from '../../src/testing/parse-suite.js';
import { formatProblem, formatRun } from '../../src/testing/report.js';
import { runSuite } from '../../src/testing/run-suite.js';
const none = (_p, at) => ({ documents: [], problems: [{ path: at, message: 'no includes here' }] });
function suite(text) {
    const p = parseSuite(text, 'yaml');
    if (!p.ok)
        throw new Error(JSON.stringify(p.problems));
    const c = compileSuite(p.suite, none);
    if (!c.ok)
        throw new Error(JSON.stringify(c.problems));
    return c.suite;
}
const DOCS = `
policies:
  - key: global-base
    rules:
      - { id: all, subjects: ["*"], grant: ["*"] }
      - { id: billing, subjects: ["*"], revoke: ["billing:*"], message: Billing is closed }
  - |
    key: org-team
    rules:
      - { id: team, subjects: ["group:team"], when: 'context.hour >= 9', deny: ["document:purge"], message: No purging }
`;
t.test('the schema: problems are positioned and named', async (t) => {
    const p = parseSuite('name: s\npolicies: []\nnow: yesterday\ncases:\n  - name: c\n    subject: { id: u, role: [a] }\n    expect: { alowed: [a], disallowed: ["a:*"], reasons: { "b:*": x } }\n', 'yaml');
    t.notOk(p.ok);
    if (p.ok)
        return;
    t.equal(p.stage, 'suite');
    t.same(p.problems.map(formatProblem), [
        'now: must be an ISO 8601 time with a zone, e.g. 2025-03-04T10:00:00Z',
        'cases[0].subject.role: unknown field',
        'cases[0].expect.alowed: unknown field',
        "cases[0].expect.disallowed[0]: must be a concrete permission (segments of [A-Za-z0-9_./-] joined by ':', no '*')",
        'cases[0].expect.reasons: "b:*" must be a concrete permission',
    ]);
    t.same(p.problems.map((x) => x.line), [3, 6, 7, 7, 7], 'with lines');
    const empty = parseSuite('name: s\npolicies: []\ncases:\n  - { name: c, subject: u, expect: {} }\n', 'yaml');
    t.match(!empty.ok && empty.problems.map(formatProblem), ['cases[0].expect: must NOT have fewer than 1 properties'], 'an expectation expects something');
    const malformed = parseSuite('name: [\n', 'yaml');
    t.equal(!malformed.ok && malformed.stage, 'parse');
});
t.test('compile: policies, namespaces, names, times', async (t) => {
    const p = parseSuite(`name: s\nnow: "2025-02-30T10:00:00Z"\npolicies:\n  - key: global-a\n    rules: [{ subjects: ["*"], grnt: [a] }]\n  - key: global-b\n    rules: [{ subjects: ["*"], grant: [b] }]\n  - key: global-b\n    rules: [{ subjects: ["*"], grant: [c] }]\n  - include: x.yaml\ncases:\n  - { name: c, subject: u, expect: { default: true } }\n  - { name: c, subject: u, namespace: "a..b", expect: { default: true } }\n`, 'yaml');
    if (!p.ok)
        throw new Error('parses');
    const c = compileSuite(p.suite, none, 'suite.test.yaml');
    t.notOk(c.ok);
    if (c.ok)
        return;
    t.equal(c.stage, 'suite');
    t.same(c.problems.map(formatProblem), [
        'suite.test.yaml:2:1: now: is not a valid time',
        'suite.test.yaml:5:13: global-a: policies[0].rules[0]: a rule needs at least one of grant, revoke or deny',
        'suite.test.yaml:5:38: global-a: policies[0].rules[0].grnt: unknown field',
        'suite.test.yaml:8:5: global-b: policies[2].key: duplicate key: policies[1] holds a document with this key too',
        'suite.test.yaml:10:5: policies[3].include: no includes here',
        'suite.test.yaml:12:5: cases[0].namespace: is required (or give the suite a namespace)',
        'suite.test.yaml:13:7: cases[1].name: two cases are named "c"',
        'suite.test.yaml:13:28: cases[1].namespace: namespace 2 of the path is empty',
    ], 'every problem, in file order');
});
t.test('run: every expectation, compared; failures carry a diff and the trace', async (t) => {
    const s = suite(`name: s\nnow: "2025-03-04T10:00:00Z"\nnamespace: global.org\n${DOCS}cases:
  - name: passes
    subject: { id: u, groups: [team] }
    context: { hour: 10 }
    expect:
      permissions: ["*"]
      denied: [document:purge, "billing:*"]
      allowed: [document:read]
      disallowed: [billing:pay]
      reasons: { billing:pay: Billing is closed, document:purge: No purging }
      default: false
      exact: true
      policies: [global-base, org-team]
  - name: fails
    subject: { id: u, groups: [team] }
    context: { hour: 10 }
    expect:
      permissions: ["document:*"]
      denied: ["billing:*"]
      allowed: [billing:pay]
      disallowed: [document:read]
      reasons: { document:purge: Wrong text, document:write: Never }
      default: true
      policies: [org-team]
  - name: the condition errors
    subject: { id: u, groups: [team] }
    namespace: org
    expect: { permissions: [document:purge] }
  - name: no document in the path
    subject: u
    namespace: team
    expect: { default: true, permissions: ["*"] }
`);
    const r = runSuite(s);
    t.same(r.cases.map((c) => c.passed), [true, false, false, true]);
    t.same(r.counts, { passed: 2, failed: 2 });
    const [ok, failed, errored] = r.cases;
    t.notOk(ok.diff || ok.trace || ok.actual, 'a passing case carries no diff or trace');
    t.same(failed.diff, [
        'permissions:', '  + *', '  - document:*',
        'denied:', '    billing:*', '  + document:purge',
        'default:', '  - true', '  + false',
        'policies (in run order):', '  - org-team', '  + global-base, org-team',
        'allowed:', '  - billing:pay: allowed', '  + billing:pay: refused: "Billing is closed" (rule billing of global-base)',
        'disallowed:', '  - document:read: refused', '  + document:read: allowed',
        'reasons:',
        '  - document:purge: refused: "Wrong text"', '  + document:purge: refused: "No purging" (rule team of org-team)',
        '  - document:write: refused: "Never"', '  + document:write: allowed',
    ]);
    t.equal(failed.trace.length, 2, 'the trace of both documents');
    t.same(failed.actual.policies, ['global-base', 'org-team']);
    t.match(errored.conditionErrors, [{ document: 'org-team', rule: 'team', error: /hour/ }], 'a condition error is reported');
    const report = formatRun({ passed: false, suites: [r], counts: { suites: 1, cases: 4, passed: 2, failed: 2, broken: 0 }, durationMs: 1 });
    t.match(report, /FAIL  s: 2 of 4 cases failed/);
    t.match(report, /✗ the condition errors\n\s+expected \(-\) \/ actual \(\+\):\n\s+permissions:\n\s+- document:purge\n\s+\+ \(nothing\)\n/);
    t.match(report, /condition errors \(those rules did not apply\):\n\s+org-team \/ team: .*hour/);
    t.match(report, /✗ team: when error: .*; not applied/);
    t.match(report, /\n1 suite, 4 cases: 2 passed, 2 failed \(1 ms\)\n$/);
});
t.test('the suite clock: now, per case, and the default', async (t) => {
    const doc = `policies:\n  - key: global-t\n    rules: [{ subjects: ["*"], when: 'inTimeWindow(now, "09:00", "17:00", "UTC")', grant: [a] }]\nnamespace: global\n`;
    const s = suite(`name: s\nnow: "2025-03-04T10:00:00Z"\n${doc}cases:\n  - { name: day, subject: u, expect: { allowed: [a] } }\n  - { name: night, subject: u, now: "2025-03-04T22:00:00+00:00", expect: { disallowed: [a] } }\n`);
    t.ok(runSuite(s).passed);
    const unpinned = suite(`name: s\n${doc}cases:\n  - { name: at 12, subject: u, expect: { allowed: [a] } }\n`);
    t.ok(runSuite(unpinned, { clock: () => new Date('2025-03-04T12:00:00Z') }).passed, 'the clock option');
    t.notOk(runSuite(unpinned, { clock: () => new Date('2025-03-04T20:00:00Z') }).passed);
});
t.test('includes: files, directories, globs, relative to the suite', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pe-suites-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'policies', 'org'), { recursive: true });
    mkdirSync(join(dir, 'tests'));
    writeFileSync(join(dir, 'policies', 'global.yaml'), 'key: global-base\nrules:\n  - { subjects: ["*"], grant: [document:read] }\n');
    writeFileSync(join(dir, 'policies', 'org', 'stream.yaml'), '---\nkey: org-a\nrules:\n  - { subjects: ["*"], grant: [a] }\n---\nkey: org-b\nrules:\n  - { subjects: ["*"], grant: [b] }\n');
    writeFileSync(join(dir, 'policies', 'org', 'c.json'), '[{"key": "org-c", "rules": [{"subjects": ["*"], "grant": ["c"]}]}]');
    writeFileSync(join(dir, 'policies', 'org', 'skip.test.yaml'), 'not: a policy');
    writeFileSync(join(dir, 'policies', 'notes.md'), '# not a policy');
    const cases = 'cases:\n  - { name: all, subject: u, namespace: global.org, expect: { permissions: [a, b, c, document:read] } }\n';
    const write = (name, includes) => {
        writeFileSync(join(dir, 'tests', name), `name: ${name}\npolicies:\n${includes}${cases}`);
        return join(dir, 'tests', name);
    };
    for (const [name, includes] of [
        ['dir.test.yaml', '  - include: ../policies\n'],
        ['glob.test.yaml', '  - include: ["../policies/*.yaml", "../policies/**/*.json", "../policies/org/*.json", "../policies/org/s*.yaml"]\n'],
        ['deep.test.yaml', '  - include: ../**/*.yaml\n  - include: ../policies/org/c.json\n'],
    ]) {
        const r = loadSuiteFile(write(name, includes));
        t.ok(r.ok && runSuite(r.suite).passed, `${name}: ${r.ok ? 'runs' : r.problems.map(formatProblem).join('; ')}`);
    }
    const missing = loadSuiteFile(write('missing.test.yaml', '  - include: ../nope/*.yaml\n  - include: ../policies/notes.md\n'));
    t.same(!missing.ok && missing.problems.map((p) => `${p.line}:${p.path}: ${p.message}`), [
        '3:policies[0].include: ../nope/*.yaml matches no policy file',
        '4:policies[1].include: ../policies/notes.md is not a policy file (.json, .yaml or .yml, not a suite)',
    ]);
    writeFileSync(join(dir, 'policies', 'org', 'dup.yaml'), 'key: org-a\nrules:\n  - { subjects: ["*"], grant: [z] }\n');
    const dup = loadSuiteFile(write('dup.test.yaml', '  - include: ../policies\n'));
    t.match(!dup.ok && dup.problems.map(formatProblem), [/^\/.*stream\.yaml:2:1: org-a: key: duplicate key: \/.*dup\.yaml holds a document with this key too$/]);
    rmSync(join(dir, 'policies', 'org', 'dup.yaml'));
    const run = runSuiteFiles([join(dir, 'tests'), join(dir, 'nowhere')]);
    t.same(run.counts, { suites: 6, cases: 4, passed: 4, failed: 0, broken: 2 }, 'a broken suite and a missing path');
    t.notOk(run.passed);
    t.same(expandGlob('policies/org/*.json', dir), [join(dir, 'policies', 'org', 'c.json')]);
    t.same(expandGlob('policies/**/c.json', dir), [join(dir, 'policies', 'org', 'c.json')]);
});
t.test('diffs', async (t) => {
    t.same(listDiff('denied', ['a', 'b'], ['b', 'c']), ['denied:', '  - a', '    b', '  + c']);
    t.same(listDiff('permissions', [], ['x']), ['permissions:', '  + x', '  - (nothing)']);
    t.same(lineDiff('a\nb\nc\nd\ne\nf\ng\n', 'a\nb\nc\nD\ne\nf\ng\n', 1), ['@@', '  c', '- d', '+ D', '  e']);
    t.same(lineDiff('x\n', 'x\ny\n'), ['  x', '+ y']);
    t.same(lineDiff('same\n', 'same\n'), []);
});
t.test('JUnit XML escapes what it must', async (t) => {
    const s = suite(`name: 'a & "b" <c>'\nnamespace: global\npolicies: []\ncases:\n  - { name: "x\\u0001<y>", subject: u, expect: { default: false } }\n`);
    const xml = toJUnit({ passed: false, suites: [runSuite(s)], counts: { suites: 1, cases: 1, passed: 0, failed: 1, broken: 0 }, durationMs: 2 });
    t.match(xml, /<testsuite name="a &amp; &quot;b&quot; &lt;c&gt;" tests="1" failures="1"/);
    t.match(xml, /<testcase name="x&lt;y&gt;" classname="a &amp; &quot;b&quot; &lt;c&gt;"/, 'a control character is dropped');
    t.match(xml, /<failure message="unmet: default">/);
});
t.test('an attribute registry types conditions and checks inputs, as the service does', async (t) => {
    const registry = `  - key: global-attributes\n    kind: registry\n    subject:\n      mfa: { type: bool }\n    context:\n      hour: { type: number }\n`;
    const s = suite(`name: typed\nnamespace: global\npolicies:\n${registry}  - key: global-base\n    rules:\n      - { subjects: ["*"], when: 'subject.attributes.mfa && context.hour >= 9', grant: [a] }\ncases:
  - { name: typed inputs, subject: { id: u, attributes: { mfa: true } }, context: { hour: 10 }, expect: { permissions: [a], policies: [global-base] } }
  - { name: a wrong type is refused, subject: { id: u, attributes: { mfa: "yes" } }, context: { hour: 10 }, expect: { permissions: [a] } }
`);
    t.ok(s.registry, 'the registry is the suite one');
    const r = runSuite(s);
    t.same(r.cases.map((c) => c.passed), [true, false]);
    t.match(r.cases[1].diff, ['inputs:', '  - accepted', /^ {2}\+ refused \(ATTRIBUTE_INVALID\): .*mfa/]);
    const p = parseSuite(`name: x\nnamespace: global\npolicies:\n${registry}  - key: global-base\n    rules:\n      - { subjects: ["*"], when: 'subject.attributes.level > 2', grant: [a] }\ncases:\n  - { name: c, subject: u, expect: { default: false } }\n`, 'yaml');
    const c = p.ok ? compileSuite(p.suite, none) : undefined;
    t.match(c && !c.ok && c.problems.map(formatProblem), [/global-base: policies\[1\]\.rules\[0\]\.when: .*level.*\(typed against global-attributes\)/], 'a condition the registry does not allow');
});
