// The language cases (test/cases/evaluation/*.yaml) through the CLI's test runner:
// each case becomes a suite case (its checks become allowed / disallowed), written to
// a temporary directory and run by `policy-engine test`. Suites gather documents by
// namespace path, so a `policies`-mode case is taken when that gives the same run order
// (one namespace, and ordinal-then-key order equal to ordinal-then-sent order); error
// cases are left to the in-process and HTTP runs.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { loadDocument } from '../../src/core/compile/load-document.js';
import { comparePolicies } from '../../src/core/compile/types.js';
import { runCli } from '../cli/run-cli.js';
import { CASES_DIR, loadCases } from './run-cases.js';
function compiled(c) {
    const out = [];
    for (const doc of c.policies) {
        const r = typeof doc === 'string' ? loadDocument(doc, 'yaml') : loadDocument(JSON.stringify(doc), 'json');
        if (!r.ok)
            return undefined;
        out.push(r.loaded.policy);
    }
    return out;
}
/** The namespace path under which gathering runs the case's documents in its own order, if any. */
function pathFor(c) {
    if (c.namespace !== undefined)
        return c.namespace;
    const policies = compiled(c);
    if (!policies || new Set(policies.map((p) => p.namespace)).size !== 1)
        return undefined;
    const sent = policies.map((p, i) => ({ p, i })).sort((a, b) => (a.p.ordinal ?? Infinity) - (b.p.ordinal ?? Infinity) || a.i - b.i).map((x) => x.p.key);
    const gathered = [...policies].sort(comparePolicies).map((p) => p.key);
    return JSON.stringify(sent) === JSON.stringify(gathered) ? policies[0].namespace : undefined;
}
const all = loadCases(join(CASES_DIR, 'evaluation'));
const byFile = new Map();
let taken = 0;
for (const c of all) {
    const namespace = c.want_error_code === undefined ? pathFor(c) : undefined;
    if (namespace === undefined)
        continue;
    const checks = Object.entries(c.checks ?? {});
    const expect = {
        permissions: c.want.permissions,
        denied: c.want.denied,
        exact: c.want.exact ?? true,
        default: c.want.default ?? false,
        ...(c.want.policies ? { policies: c.want.policies } : {}),
        ...(checks.some(([, v]) => v) ? { allowed: checks.filter(([, v]) => v).map(([p]) => p) } : {}),
        ...(checks.some(([, v]) => !v) ? { disallowed: checks.filter(([, v]) => !v).map(([p]) => p) } : {}),
    };
    const list = byFile.get(c.file) ?? [];
    // A suite's policies are shared by its cases: one suite per case keeps each case's own documents.
    list.push({ name: c.note, namespace, subject: c.subject, policies: c.policies, expect });
    byFile.set(c.file, list);
    taken++;
}
const dir = mkdtempSync(join(tmpdir(), 'pe-corpus-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
for (const [file, cases] of byFile) {
    for (const k of cases) {
        const { policies, ...rest } = k;
        const suite = { name: `${file}: ${k.name}`, policies, cases: [rest] };
        writeFileSync(join(dir, `case-${String(n++).padStart(3, '0')}.test.yaml`), yaml.dump(suite, { noRefs: true, lineWidth: -1 }));
    }
}
t.test('the corpus through `policy-engine test`', async (t) => {
    t.ok(taken >= 40, `${taken} of ${all.length} cases run through the CLI`);
    const r = await runCli(['test', dir, '--json']);
    const run = JSON.parse(r.stdout);
    for (const s of run.suites)
        t.ok(s.passed, s.name, s.passed ? {} : { problems: s.problems, unmet: s.cases[0]?.diff });
    t.same(run.counts, { suites: taken, cases: taken, passed: taken, failed: 0, broken: 0 });
    t.equal(r.code, 0, r.stderr);
});
