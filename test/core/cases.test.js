// The language cases (test/cases/evaluation/*.yaml), run in-process: documents
// compiled as the `policies` mode compiles them (or, with `namespace`, gathered by
// path as stored documents are), evaluated with the default `["*"]`, and every check
// answered by checkPermission.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDocument } from '../../src/core/compile/load-document.js';
import { comparePolicies } from '../../src/core/compile/types.js';
import { DEFAULT_PARSE_LIMITS } from '../../src/core/document/parse.js';
import { formatError } from '../../src/core/document/types.js';
import { checkPermission } from '../../src/core/evaluate/check.js';
import { evaluatePolicies } from '../../src/core/evaluate/evaluate.js';
import { parseNamespacePath } from '../../src/core/namespace.js';
import { matchSegments, mustParsePattern } from '../../src/core/pattern.js';
import { compileInlinePolicies } from '../../src/engine/inline-policies.js';
import { PolicyEngineError } from '../../src/errors.js';
import { CASES_DIR, decisionMismatches, loadCases, normalizeSubject } from '../cases/run-cases.js';
const DEFAULT_PERMISSIONS = ['*'];
class CaseError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.code = code;
    }
}
function compileStored(item) {
    const r = typeof item === 'string' ? loadDocument(item, 'yaml') : loadDocument(JSON.stringify(item), 'json');
    if (!r.ok)
        throw new CaseError('POLICY_INVALID', r.errors.map((e) => formatError(e)).join('; '));
    return r.loaded.policy;
}
/** `namespace` mode over a store holding the case's documents. */
function gather(c) {
    const path = parseNamespacePath(c.namespace);
    if (!path.ok)
        throw new CaseError('NAMESPACE_INVALID', path.reason);
    const stored = c.policies.map(compileStored);
    const policies = path.namespaces.flatMap((ns) => stored.filter((p) => p.namespace === ns).sort(comparePolicies));
    return { policies, namespaces: path.namespaces };
}
/** `policies` mode: what the server runs for documents sent in the request. */
function inline(c) {
    try {
        return { policies: compileInlinePolicies(c.policies, DEFAULT_PARSE_LIMITS), namespaces: [] };
    }
    catch (err) {
        if (err instanceof PolicyEngineError && err.code === 'POLICY_INVALID')
            throw new CaseError('POLICY_INVALID', err.message + ' ' + JSON.stringify(err.details));
        throw err;
    }
}
const cases = loadCases(join(CASES_DIR, 'evaluation'));
t.test('the corpus', async (t) => {
    t.ok(cases.length >= 50, `${cases.length} cases`);
    const files = new Set(cases.map((c) => c.file));
    for (const f of ['spec-table', 'ordering', 'disabled', 'subjects', 'revoke-deny', 'inexact', 'errors']) {
        t.ok(files.has(`evaluation/${f}.yaml`), `evaluation/${f}.yaml is part of it`);
    }
    t.equal(cases.filter((c) => c.file === 'evaluation/spec-table.yaml' && c.namespace === undefined).length, 8, 'SPEC table rows 1-8 in policies mode');
});
t.test('loadCases refuses malformed fixtures', async (t) => {
    const ok = `note: fine\n    policies: [{ key: global-a, rules: [{ subjects: ["*"], grant: ["*"] }] }]\n    subject: alice\n    want: { permissions: ["*"], denied: [] }`;
    const bad = [
        ['no $schema line', `cases:\n  - ${ok}\n`, /must start with/],
        ['unknown field', `$schema: ../case.schema.json\ncases:\n  - ${ok}\n    wnat: {}\n`, /does not match/],
        ['want and want_error_code', `$schema: ../case.schema.json\ncases:\n  - ${ok}\n    want_error_code: POLICY_INVALID\n`, /does not match/],
        ['neither want nor want_error_code', `$schema: ../case.schema.json\ncases:\n  - note: x\n    policies: [{}]\n    subject: alice\n`, /does not match/],
        ['a pattern as a check', `$schema: ../case.schema.json\ncases:\n  - ${ok}\n    checks: { "a:*": true }\n`, /does not match/],
        ['no policies outside namespace mode', `$schema: ../case.schema.json\ncases:\n  - note: x\n    policies: []\n    subject: alice\n    want: { permissions: [], denied: [] }\n`, /does not match/],
        ['an unknown error code', `$schema: ../case.schema.json\ncases:\n  - note: x\n    policies: [{}]\n    subject: alice\n    want_error_code: OOPS\n`, /does not match/],
        ['two cases with one note', `$schema: ../case.schema.json\ncases:\n  - ${ok}\n  - ${ok}\n`, /share the note/],
        ['not YAML', `$schema: ../case.schema.json\ncases: [\n`, /not valid YAML/],
    ];
    for (const [what, text, error] of bad) {
        const dir = mkdtempSync(join(tmpdir(), 'cases-'));
        try {
            writeFileSync(join(dir, 'bad.yaml'), text);
            t.throws(() => loadCases(dir), error, what);
        }
        finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }
    const dir = mkdtempSync(join(tmpdir(), 'cases-'));
    try {
        writeFileSync(join(dir, 'good.yaml'), `$schema: ../case.schema.json\ncases:\n  - ${ok}\n`);
        t.equal(loadCases(dir).length, 1, 'the same case, well formed, loads');
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
let checks = 0;
for (const c of cases) {
    t.test(c.name, async (t) => {
        let compiled;
        try {
            compiled = c.namespace !== undefined ? gather(c) : inline(c);
        }
        catch (err) {
            if (!(err instanceof CaseError))
                throw err;
            t.equal(err.code, c.want_error_code ?? 'no error', `refused: ${err.message}`);
            return;
        }
        if (c.want_error_code !== undefined) {
            t.fail(`want ${c.want_error_code}, but the documents compiled`);
            return;
        }
        const decision = evaluatePolicies(compiled.policies, { subject: normalizeSubject(c.subject), namespaces: compiled.namespaces }, { defaultPermissions: DEFAULT_PERMISSIONS });
        t.strictSame(decisionMismatches(c.want, decision), [], 'the decision is the one wanted');
        for (const [permission, want] of Object.entries(c.checks ?? {})) {
            checks++;
            t.equal(checkPermission(decision, permission).allowed, want, `check ${permission} → ${want}`);
            // Exact lists answer every check the same way.
            if (decision.exact) {
                const segs = permission.split(':');
                const byLists = decision.permissions.some((p) => matchSegments(mustParsePattern(p), segs)) &&
                    !decision.denied.some((p) => matchSegments(mustParsePattern(p), segs));
                t.equal(byLists, want, `the exact lists read ${permission} the same way`);
            }
        }
    });
}
t.test('totals', async (t) => {
    t.comment(`${cases.length} cases, ${checks} checks`);
    t.pass();
});
