// The example policy set (examples/policies) and its suites (examples/tests) run three
// ways, with the same results: in-process, through the CLI's test runner, and over
// HTTP with POST /v1/test. The example files must also validate.
import t from 'tap';
import { basename, join } from 'node:path';
import * as yaml from 'js-yaml';
import { bundleSuiteFile, findSuiteFiles, runSuiteFiles } from '../../src/testing/load-suite.js';
import { readPolicyPaths } from '../../src/testing/policy-files.js';
import { formatCaseFailure, formatProblem } from '../../src/testing/report.js';
import { testApp } from '../helpers/app.js';
import { initLua } from '../../src/core/lua/sandbox.js';
import { ROOT, runCli } from '../cli/run-cli.js';
const TESTS = join(ROOT, 'examples/tests');
const POLICIES = join(ROOT, 'examples/policies');
// Start the CLI first: it runs while the in-process checks do.
const cli = runCli(['test', 'examples/tests', '--json']);
t.test('the example policies are valid', async (t) => {
    const { files, problems } = readPolicyPaths([POLICIES]);
    t.same(problems.map(formatProblem), [], 'no problem');
    const keys = files.flatMap((f) => f.documents.map((d) => d.policy.key));
    t.ok(keys.includes('global-base') && keys.includes('org-editors'), 'global and org documents');
    t.ok(keys.some((k) => k.startsWith('org:57af7f6d-f6f7-4af1-b182-3a30440fa781-')), 'an org document with an explicit namespace');
});
// The suites include Lua documents: load the Lua runtime as the service and the CLI do.
await initLua();
const inProcess = runSuiteFiles([TESTS]);
const byName = new Map(inProcess.suites.map((s) => [s.name, s]));
t.test('in-process', async (t) => {
    t.ok(inProcess.suites.length >= 3, `${inProcess.suites.length} suites`);
    t.ok(inProcess.counts.cases >= 25, `${inProcess.counts.cases} cases`);
    for (const s of inProcess.suites) {
        t.same(s.problems?.map(formatProblem) ?? [], [], `${s.name}: loads`);
        for (const c of s.cases)
            t.ok(c.passed, `${s.name} / ${c.name}`, c.passed ? {} : { diagnostic: true, failure: formatCaseFailure(c).join('\n') });
    }
    t.ok(inProcess.passed, 'every suite passes');
});
t.test('through the CLI (policy-engine test)', async (t) => {
    const r = await cli;
    t.equal(r.code, 0, `exit 0 ${r.stderr}`);
    const run = JSON.parse(r.stdout);
    t.same(run.counts, inProcess.counts, 'the same counts as in-process');
    t.same(run.suites.map((s) => [s.name, s.cases.map((c) => [c.name, c.passed])]), inProcess.suites.map((s) => [s.name, s.cases.map((c) => [c.name, c.passed])]));
});
t.test('over HTTP (POST /v1/test)', async (t) => {
    const { app } = await testApp(t, { store: 'none' });
    const files = findSuiteFiles([TESTS]).files;
    t.equal(files.length, inProcess.suites.length);
    for (const file of files) {
        const bundled = bundleSuiteFile(file);
        if (!bundled.ok) {
            t.fail(`${file}: ${bundled.problems.map(formatProblem).join('; ')}`);
            continue;
        }
        const r = await app.inject({ method: 'POST', url: '/v1/test', payload: bundled.suite });
        t.equal(r.statusCode, 200, `${basename(file)}: 200`, r.statusCode === 200 ? {} : { body: r.body.slice(0, 1000) });
        const result = r.json();
        const local = byName.get(result.name);
        t.ok(local, `${result.name} ran in-process too`);
        t.ok(result.passed, `${result.name} passes over HTTP`);
        t.same(result.cases.map((c) => [c.name, c.passed]), local?.cases.map((c) => [c.name, c.passed]), `${result.name}: the same cases, the same outcomes`);
    }
    // The same suite as YAML text (YAML content type).
    const first = bundleSuiteFile(files[0]);
    if (first.ok) {
        const r = await app.inject({ method: 'POST', url: '/v1/test', headers: { 'content-type': 'application/yaml' }, payload: yaml.dump(first.suite) });
        t.equal(r.statusCode, 200, 'YAML text: 200', r.statusCode === 200 ? {} : { body: r.body.slice(0, 1000) });
        t.ok(r.json().passed, 'passes when sent as YAML');
    }
});
