// Loading the language cases (test/cases/<area>/*.yaml) and comparing a decision with
// what a case wants. Knows nothing of how a decision is produced: the in-process,
// HTTP and CLI runners each produce one their own way and share these helpers.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import * as yaml from 'js-yaml';
export const CASES_DIR = fileURLToPath(new URL('.', import.meta.url));
const SCHEMA_PATH = fileURLToPath(new URL('./case.schema.json', import.meta.url));
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const validateFile = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
function yamlFiles(dir) {
    const out = [];
    for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        if (statSync(path).isDirectory())
            out.push(...yamlFiles(path));
        else if (name.endsWith('.yaml') || name.endsWith('.yml'))
            out.push(path);
    }
    return out;
}
/**
 * Every case under `dir` (recursively, files in name order), each file validated
 * against case.schema.json. Throws, naming the file, when one is malformed.
 */
export function loadCases(dir) {
    const cases = [];
    const files = yamlFiles(dir);
    if (files.length === 0)
        throw new Error(`no case files under ${dir}`);
    for (const path of files) {
        const file = relative(CASES_DIR, path);
        const text = readFileSync(path, 'utf8');
        if (!/^\$schema: (\.\.\/)+case\.schema\.json\n/.test(text)) {
            throw new Error(`${file}: must start with a "$schema: ../case.schema.json" line`);
        }
        let value;
        try {
            value = yaml.load(text, { schema: yaml.CORE_SCHEMA });
        }
        catch (err) {
            throw new Error(`${file}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (!validateFile(value)) {
            const errors = (validateFile.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
            throw new Error(`${file}: does not match case.schema.json: ${errors}`);
        }
        const notes = new Set();
        value.cases.forEach((c, index) => {
            if (notes.has(c.note))
                throw new Error(`${file}: two cases share the note ${JSON.stringify(c.note)}`);
            notes.add(c.note);
            cases.push({ ...c, name: `${file}#${index}: ${c.note}`, file, index });
        });
    }
    return cases;
}
/** A case's subject in the full object form. */
export function normalizeSubject(s) {
    if (typeof s === 'string')
        return { id: s, roles: [], groups: [], attributes: {} };
    return { id: s.id, roles: s.roles ?? [], groups: s.groups ?? [], attributes: s.attributes ?? {} };
}
/** What differs between a wanted and an observed decision; empty when they agree. */
export function decisionMismatches(want, got) {
    const out = [];
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(want.permissions, got.permissions))
        out.push(`permissions: want ${JSON.stringify(want.permissions)}, got ${JSON.stringify(got.permissions)}`);
    if (!same(want.denied, got.denied))
        out.push(`denied: want ${JSON.stringify(want.denied)}, got ${JSON.stringify(got.denied)}`);
    const exact = want.exact ?? true;
    if (got.exact !== exact)
        out.push(`exact: want ${exact}, got ${got.exact}`);
    const dflt = want.default ?? false;
    if (got.default !== dflt)
        out.push(`default: want ${dflt}, got ${got.default}`);
    if (want.policies !== undefined && !same(want.policies, got.policies)) {
        out.push(`policies: want ${JSON.stringify(want.policies)}, got ${JSON.stringify(got.policies)}`);
    }
    return out;
}
