// Policy documents (SPEC §2): schema errors, YAML and JSON parsing, and the whole
// text → compiled policy pipeline (loadDocument / loadDocuments).
import t from 'tap';
import { performance } from 'node:perf_hooks';
import { DEFAULT_PARSE_LIMITS, parseText } from '../../src/core/document/parse.js';
import { validatePolicyDocument } from '../../src/core/document/schema.js';
import { MAX_REPORTED_ERRORS, formatError, sortErrors } from '../../src/core/document/types.js';
import { loadDocument, loadDocuments } from '../../src/core/compile/load-document.js';
const UUID = '57af7f6d-f6f7-4af1-b182-3a30440fa781';
const rule = (extra = {}) => ({ subjects: ['*'], grant: ['document:read'], ...extra });
const doc = (extra = {}) => ({ key: 'global-base', rules: [rule()], ...extra });
function errorsOf(value) {
    const r = validatePolicyDocument(value);
    return r.ok ? [] : r.errors;
}
function loadErrors(text, format) {
    const r = loadDocument(text, format);
    return r.ok ? [] : r.errors;
}
const brief = (es) => es.map((e) => `${e.path}: ${e.message}`);
// ------------------------------------------------------------------ schema
t.test('schema: a valid document', async (t) => {
    t.ok(validatePolicyDocument(doc()).ok);
    t.ok(validatePolicyDocument(doc({ namespace: 'global', ordinal: 20, description: 'd', disabled: false, kind: 'policy', $schema: 'x' })).ok);
    t.ok(validatePolicyDocument(doc({ rules: [] })).ok, 'a document with no rules is valid');
    t.ok(validatePolicyDocument(doc({ rules: [{ subjects: ['role:editor', 'user:alice'], id: 'r', revoke: [], deny: ['document:purge'], message: 'm' }] })).ok);
});
t.test('schema: unknown fields are refused, at the top and inside a rule', async (t) => {
    t.strictSame(brief(errorsOf(doc({ rulez: [] }))), ['rulez: unknown field']);
    t.strictSame(brief(errorsOf(doc({ rules: [rule(), rule({ grnat: ['x'] })] }))), ['rules[1].grnat: unknown field']);
});
t.test('schema: required fields', async (t) => {
    t.strictSame(brief(errorsOf({ rules: [] })), ['key: is required']);
    t.strictSame(brief(errorsOf({ key: 'global-a' })), ['rules: is required']);
    t.strictSame(brief(errorsOf(doc({ rules: [{ grant: ['a'] }] }))), ['rules[0].subjects: is required']);
    t.strictSame(brief(errorsOf(doc({ rules: [{ subjects: [], grant: ['a'] }] }))), ['rules[0].subjects: must NOT have fewer than 1 items']);
});
t.test('schema: a rule with no grant, revoke or deny gets exactly one error', async (t) => {
    t.strictSame(brief(errorsOf(doc({ rules: [{ subjects: ['*'] }] }))), ['rules[0]: a rule needs at least one of grant, revoke or deny']);
    t.ok(validatePolicyDocument(doc({ rules: [{ subjects: ['*'], revoke: [] }] })).ok, 'an empty list still names the effect');
});
t.test('schema: a bad pattern names its path', async (t) => {
    const es = errorsOf(doc({ rules: [rule(), rule(), rule({ grant: ['a::b', 'ok', 'x*'] })] }));
    t.strictSame(es.map((e) => e.path), ['rules[2].grant[0]', 'rules[2].grant[2]']);
    t.match(formatError(es[0]), /^rules\[2\]\.grant\[0\]: must be a permission pattern/);
    t.strictSame(brief(errorsOf(doc({ rules: [rule({ revoke: [''], deny: ['a b'] })] }))).length, 2);
});
t.test('schema: wrong types, every error collected', async (t) => {
    const es = errorsOf({ key: 5, ordinal: '1', disabled: 'yes', description: 7, kind: 'lua', namespace: 'bad ns', rules: [{ subjects: 'user:alice', grant: 'a', id: '' }] });
    t.strictSame(brief(es).sort(), [
        'description: must be string',
        'disabled: must be boolean',
        'key: must be string',
        'kind: must be "policy"',
        "namespace: must be a namespace: [A-Za-z0-9_:] and, after a ':', '-'",
        'ordinal: must be number',
        'rules[0].grant: must be array',
        'rules[0].id: must NOT have fewer than 1 characters',
        'rules[0].subjects: must be array',
    ]);
    t.strictSame(brief(errorsOf(doc({ rules: {} }))), ['rules: must be array']);
    t.strictSame(brief(errorsOf([])), ['must be object'].map((m) => `: ${m}`));
    t.strictSame(brief(errorsOf(null)), [': must be object']);
    t.strictSame(brief(errorsOf(doc({ key: 'global admins' }))).length, 1);
    t.strictSame(brief(errorsOf(doc({ ordinal: 1e10 }))), ['ordinal: must be <= 1000000000']);
});
t.test('load: errors are sorted (line, then path) and capped', async (t) => {
    const yaml = [
        'key: global-a', //                   1
        'rules:', //                          2
        '  - subjects: ["*"]', //             3
        '    grant: ["a::b"]', //             4
        '  - subjects: ["*"]', //             5
        '    bogus: 1', //                    6
        '    grant: [ok]', //                 7
        'extra: true', //                     8
    ].join('\n');
    const es = loadErrors(yaml, 'yaml');
    t.strictSame(es.map((e) => [e.path, e.line]), [['rules[0].grant[0]', 4], ['rules[1].bogus', 6], ['extra', 8]]);
    t.ok(es.every((e) => e.document === 'global-a'), 'every error names its document');
    t.strictSame(es, sortErrors([...es]), 'already in sorted order');
    const many = JSON.stringify({ key: 'global-a', rules: Array.from({ length: 100 }, () => ({ subjects: ['*'], grant: ['a b'], zz: 1 })) });
    const capped = loadErrors(many, 'json');
    t.equal(capped.length, MAX_REPORTED_ERRORS, `200 errors capped at ${MAX_REPORTED_ERRORS}`);
    t.strictSame(capped, sortErrors([...capped]));
    t.strictSame(loadErrors(many, 'json'), capped, 'deterministic');
});
t.test('compile: namespace resolution and rule checks', async (t) => {
    const ok = loadDocument(JSON.stringify(doc({ key: `org:${UUID}-editors`, namespace: `org:${UUID}` })), 'json');
    t.ok(ok.ok);
    if (ok.ok)
        t.equal(ok.loaded.policy.namespace, `org:${UUID}`, 'explicit namespace holding a -');
    const derived = loadDocument(JSON.stringify(doc({ key: `org:${UUID}-editors` })), 'json');
    t.ok(derived.ok);
    if (derived.ok)
        t.equal(derived.loaded.policy.namespace, 'org:57af7f6d', 'without the field, the part before the first - is the namespace');
    t.strictSame(brief(loadErrors(JSON.stringify(doc({ key: 'global-x', namespace: 'org' })), 'json')), [
        `namespace: key "global-x" must start with its namespace followed by '-' ("org-")`,
    ]);
    t.strictSame(brief(loadErrors(JSON.stringify(doc({ key: 'globaladmins' })), 'json')), [`key: key "globaladmins" must be '<namespace>-<name>'`]);
    t.match(brief(loadErrors(JSON.stringify(doc({ key: 'global.x-admins' })), 'json'))[0], /not a valid namespace/);
    t.strictSame(brief(loadErrors(JSON.stringify(doc({ rules: [rule({ id: 'r' }), rule({ id: 'r' })] })), 'json')), ['rules[1].id: duplicate rule id "r"']);
    t.strictSame(brief(loadErrors(JSON.stringify(doc({ rules: [rule({ subjects: ['role:', 'group:', 'id:', 'role:x'] })] })), 'json')), ["rules[0].subjects[0]: 'role:' needs a name after the ':'", "rules[0].subjects[1]: 'group:' needs a name after the ':'", "rules[0].subjects[2]: 'id:' needs a name after the ':'"]);
    // Conditions are checked when written: a syntax or type error is refused with its position.
    t.strictSame(brief(loadErrors(JSON.stringify(doc({ rules: [rule({ when: 'context.hour >= 9' })] })), 'json')), []);
    t.match(brief(loadErrors(JSON.stringify(doc({ rules: [rule({ when: 'context.hour >=' })] })), 'json'))[0], /^rules\[0\]\.when: .*\(expression line 1, column \d+\)$/);
    t.match(brief(loadErrors(JSON.stringify(doc({ rules: [rule({ when: 'nobody.knows' })] })), 'json'))[0], /^rules\[0\]\.when: Unknown variable: nobody \(expression line 1, column 1\)$/);
});
// ------------------------------------------------------------------ YAML
const YAML_DOC = `# Editors manage documents
key: org-editors   # namespace derived
ordinal: 20
rules:
  - id: editors-docs
    subjects: ["role:editor", "user:alice"]
    grant: ["document:*"]
    # no purge
    deny: ["document:purge"]
    message: "Purging documents needs an admin"
`;
t.test('yaml: the text is kept as written, comments included', async (t) => {
    const r = loadDocument(YAML_DOC, 'yaml');
    t.ok(r.ok);
    if (!r.ok)
        return;
    t.equal(r.loaded.text, YAML_DOC);
    t.equal(r.loaded.format, 'yaml');
    t.equal(r.loaded.policy.namespace, 'org');
    t.equal(r.loaded.policy.ordinal, 20);
    t.strictSame(r.loaded.document.rules[0].deny, ['document:purge']);
});
t.test('yaml: schema errors carry line and column', async (t) => {
    const text = YAML_DOC.replace('    message:', '    mesage:').replace('"document:*"', '"document:**"');
    const es = loadErrors(text, 'yaml');
    t.strictSame(es.map((e) => [e.path, e.message.slice(0, 12), e.line, e.column]), [
        ['rules[0].grant[0]', 'must be a pe', 7, 14], // inside the quotes
        ['rules[0].mesage', 'unknown fiel', 10, 5],
    ]);
    t.match(formatError(es[1]), 'rules[0].mesage: unknown field (line 10, column 5)');
});
t.test('yaml: aliases are refused, whatever they point at', async (t) => {
    const es = loadErrors('key: &k global-a\nrules:\n  - subjects: ["*"]\n    grant: [*k]\n', 'yaml');
    t.equal(es.length, 1);
    t.match(es[0].message, /malformed YAML: .*alias/i);
    t.equal(es[0].line, 4);
});
t.test('yaml: a billion-laughs document is rejected in well under 100 ms', async (t) => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
        const name = String.fromCharCode(97 + i);
        const prev = String.fromCharCode(96 + i);
        levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${prev}`).join(',')}]`);
    }
    const bomb = `key: global-a\nrules: []\n${levels.join('\n')}\n`;
    const start = performance.now();
    const r = loadDocument(bomb, 'yaml');
    const ms = performance.now() - start;
    t.equal(r.ok, false);
    if (!r.ok)
        t.match(r.errors[0].message, /alias/i);
    t.ok(ms < 100, `rejected in ${ms.toFixed(1)} ms`);
    // The same through the multi-document path.
    const s2 = performance.now();
    t.equal(loadDocuments(`${bomb}---\n${bomb}`, 'yaml').ok, false);
    t.ok(performance.now() - s2 < 100);
});
t.test('yaml: custom and js tags are refused', async (t) => {
    for (const text of [
        "key: !!js/function 'function () { return 1 }'\nrules: []\n",
        'key: !!js/undefined ""\nrules: []\n',
        'key: !!js/regexp /x/\nrules: []\n',
        'key: !!python/object:os.system ["ls"]\nrules: []\n',
        'key: !custom global-a\nrules: []\n',
        'key: global-a\nrules: !!set {a}\n',
        'key: global-a\nrules: !!omap [a: 1]\n',
    ]) {
        const es = loadErrors(text, 'yaml');
        t.equal(es.length, 1, text);
        t.match(es[0].message, /malformed YAML: unknown .*tag/, text);
    }
});
t.test('yaml: merge keys `<<` are refused or harmless', async (t) => {
    // Without an alias, `<<` is a plain (unknown) key: nothing is merged in.
    t.strictSame(brief(loadErrors('<<: {key: global-a}\nrules: []\n', 'yaml')), ['key: is required', '<<: unknown field']);
    t.strictSame(brief(loadErrors('key: global-a\nrules:\n  - <<: {subjects: ["*"]}\n    grant: [a]\n', 'yaml')), [
        'rules[0].subjects: is required',
        'rules[0].<<: unknown field',
    ]);
    // With an alias it is refused outright.
    t.match(loadErrors('base: &b {subjects: ["*"]}\nkey: global-a\nrules:\n  - <<: *b\n    grant: [a]\n', 'yaml')[0]?.message ?? '', /alias/i);
});
t.test('yaml: CORE schema, so yes/no/on/off are strings, not booleans', async (t) => {
    t.strictSame(brief(loadErrors('key: global-a\ndisabled: yes\nrules: []\n', 'yaml')), ['disabled: must be boolean']);
    const r = loadDocument('key: global-a\nrules:\n  - subjects: [on, no]\n    grant: [y]\n', 'yaml');
    t.ok(r.ok);
    if (r.ok)
        t.strictSame(r.loaded.document.rules[0].subjects, ['on', 'no']);
});
t.test('yaml: duplicate mapping keys are refused', async (t) => {
    const es = loadErrors('key: global-a\nrules: []\nkey: global-b\n', 'yaml');
    t.equal(es.length, 1);
    t.match(es[0].message, /duplicate/i);
    t.equal(es[0].line, 3);
});
t.test('yaml: deep nesting is rejected', async (t) => {
    const flow = `key: global-a\nrules: []\nx: ${'['.repeat(1000)}${']'.repeat(1000)}\n`;
    t.match(loadErrors(flow, 'yaml')[0]?.message ?? '', /depth/i);
    let block = 'key: global-a\nrules: []\nx:\n';
    for (let i = 1; i <= 80; i++)
        block += `${'  '.repeat(i)}k${i}:\n`;
    block += `${'  '.repeat(81)}v\n`;
    t.match(loadErrors(block, 'yaml')[0]?.message ?? '', /depth/i);
    const json = `{"key":"global-a","rules":[],"x":${'['.repeat(1000)}${']'.repeat(1000)}}`;
    t.match(loadErrors(json, 'json')[0]?.message ?? '', /nesting deeper than 64/);
    t.match(loadErrors('['.repeat(200_000) + ']'.repeat(200_000), 'json')[0]?.message ?? '', /nesting deeper/, 'no stack overflow');
});
t.test('the depth limit means the same for YAML and JSON', async (t) => {
    // `maxDepth: 3` accepts 3 levels of nesting. JSON does; YAML stops one level short,
    // because js-yaml's parser counts one more level than the collections.
    const limits = { ...DEFAULT_PARSE_LIMITS, maxDepth: 3 };
    t.ok(parseText('{"a": {"b": [1]}}', 'json', limits).ok, 'JSON: 3 levels accepted');
    t.equal(parseText('{"a": {"b": [[1]]}}', 'json', limits).ok, false, 'JSON: 4 levels refused');
    t.equal(parseText('a: {b: [[1]]}', 'yaml', limits).ok, false, 'YAML: 4 levels refused');
    t.ok(parseText('a: {b: [1]}', 'yaml', limits).ok, 'YAML: 3 levels accepted, as in JSON (src/core/document/parse.ts passes maxDepth to js-yaml unadjusted)');
    const deep = (n) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const max = DEFAULT_PARSE_LIMITS.maxDepth;
    t.equal(parseText(deep(max), 'yaml').ok, parseText(deep(max), 'json').ok, `a ${max}-deep value: same answer in both formats`);
});
t.test('oversize text is rejected (bytes, not characters)', async (t) => {
    const max = DEFAULT_PARSE_LIMITS.maxBytes;
    const big = `key: global-a\nrules: []\ndescription: ${'x'.repeat(max)}\n`;
    t.match(loadErrors(big, 'yaml')[0]?.message ?? '', /larger than/);
    t.match(loadErrors(JSON.stringify({ d: 'x'.repeat(max) }), 'json')[0]?.message ?? '', /larger than/);
    const wide = 'é'.repeat(max / 2 + 1); // fewer characters than the limit, more bytes
    t.ok(wide.length < max);
    t.match(parseText(wide, 'yaml').ok ? '' : 'refused', 'refused');
    t.equal(parseText('x'.repeat(10), 'yaml', { ...DEFAULT_PARSE_LIMITS, maxBytes: 9 }).ok, false);
});
t.test('yaml: a single-document load refuses streams and empty text', async (t) => {
    t.strictSame(brief(loadErrors('key: global-a\nrules: []\n---\nkey: global-b\nrules: []\n', 'yaml')), [': expected one YAML document, got several']);
    t.strictSame(brief(loadErrors('', 'yaml')), [': the document is empty']);
    t.strictSame(brief(loadErrors('# only a comment\n', 'yaml')), [': the document is empty']);
    t.match(loadErrors('key: [unclosed\n', 'yaml')[0]?.message ?? '', /^malformed YAML/);
});
const STREAM = `# first: the base policy
key: global-base
ordinal: 1
rules:
  - subjects: ["*"]
    grant: ["document:read"]   # everyone reads
---
---
# third: editors
key: global-editors
rules:
  - subjects: ['role:editor']
    grant: [document:write, "document:*"]
...
`;
t.test('yaml stream: loadDocuments skips empty documents and keeps order', async (t) => {
    const r = loadDocuments(STREAM, 'yaml');
    t.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
    if (!r.ok)
        return;
    t.strictSame(r.loaded.map((l) => l.policy.key), ['global-base', 'global-editors']);
    t.strictSame(r.loaded[1].document.rules[0].grant, ['document:write', 'document:*']);
});
// The stored text of a document imported from a stream is what GET returns as YAML,
// so it must be that document, whole. parse.ts slices from the line of the first node
// to the end offset of the last scalar: a closing `]`, `}` or quote, a trailing
// comment, and the comments heading the document are cut off.
t.test('yaml stream: each document keeps its own text, which re-parses to the same document', async (t) => {
    const r = loadDocuments(STREAM, 'yaml');
    if (!r.ok)
        return t.fail(JSON.stringify(r.errors));
    for (const l of r.loaded) {
        const again = loadDocument(l.text, 'yaml');
        t.ok(again.ok, `the stored text of ${l.policy.key} is a valid document on its own: ${JSON.stringify(l.text)}`);
        if (again.ok)
            t.strictSame(again.loaded.document, l.document, `${l.policy.key}: same document`);
        t.notMatch(l.text, /^---/m, 'no document marker of a neighbour');
    }
    t.match(r.loaded[0].text, '# everyone reads', 'a comment inside the document is kept');
    t.match(r.loaded[0].text, '# first: the base policy', 'the comment heading a document is part of its text');
    t.match(r.loaded[1].text, '# third: editors', 'the comment heading a document is part of its text');
});
t.test('yaml stream: errors name the document index; positions are lines of the stream', async (t) => {
    const bad = STREAM.replace("grant: [document:write", 'grnt: [document:write');
    const r = loadDocuments(bad, 'yaml');
    t.equal(r.ok, false);
    if (r.ok)
        return;
    t.strictSame(r.errors.map((e) => [e.document, e.path, e.message, e.line]), [
        ['global-editors', '[1].rules[0]', 'a rule needs at least one of grant, revoke or deny', 12],
        ['global-editors', '[1].rules[0].grnt', 'unknown field', 13],
    ]);
});
t.test('import: duplicate keys are flagged; nothing loads when one document is bad', async (t) => {
    const dup = `${STREAM}---\nkey: global-base\nrules: []\n`;
    const r = loadDocuments(dup, 'yaml');
    t.equal(r.ok, false);
    if (!r.ok)
        t.strictSame(brief(r.errors), ['[2].key: duplicate key in this import']);
    const json = JSON.stringify([doc(), doc({ key: 'global-x' }), doc()]);
    const j = loadDocuments(json, 'json');
    t.equal(j.ok, false);
    if (!j.ok)
        t.strictSame(j.errors.map((e) => [e.document, e.path]), [['global-base', '[2].key']]);
    t.strictSame(brief(loadDocuments('---\n---\n', 'yaml').errors), [': no documents to import']);
    t.strictSame(brief(loadDocuments('[]', 'json').errors), [': no documents to import']);
    t.strictSame(brief(loadDocuments('{}', 'json').errors), [': expected a JSON array of documents']);
    const limited = parseText('a: 1\n---\nb: 1\n---\nc: 1\n', 'yaml', { ...DEFAULT_PARSE_LIMITS, maxDocuments: 2 }, true);
    t.equal(limited.ok, false, 'the number of documents is bounded');
});
// ------------------------------------------------------------------ JSON
t.test('json: malformed JSON', async (t) => {
    for (const text of ['{"key":', '{"key": }', '{\n"a": 1,\n}', "{'key': 1}", '']) {
        const es = loadErrors(text, 'json');
        t.equal(es.length, 1, JSON.stringify(text));
        t.match(es[0].message, /^malformed JSON/);
    }
    const positioned = loadErrors('{\n"a": 1,\n}', 'json')[0];
    t.equal(positioned.line, 3, 'line taken from the parser position when it gives one');
    t.strictSame(brief(loadErrors('[1]', 'json')), [': must be object']);
});
t.test('json: the text is kept as sent', async (t) => {
    const text = `{ "key": "global-a",\n  "rules": [ { "subjects": ["*"], "grant": ["a"] } ] }`;
    const r = loadDocument(text, 'json');
    t.ok(r.ok);
    if (r.ok)
        t.equal(r.loaded.text, text);
});
t.test('json and yaml: __proto__ / constructor keys are unknown fields and pollute nothing', async (t) => {
    const json = '{"key":"global-a","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted2":1}},"rules":[{"subjects":["*"],"grant":["a"],"__proto__":{"polluted3":1}}]}';
    t.strictSame(brief(loadErrors(json, 'json')), ['__proto__: unknown field', 'constructor: unknown field', 'rules[0].__proto__: unknown field']);
    const yaml = 'key: global-a\n__proto__: {polluted: 1}\nconstructor: {prototype: {polluted2: 1}}\nrules:\n  - subjects: ["*"]\n    grant: [a]\n    __proto__: {polluted3: 1}\n';
    const es = loadErrors(yaml, 'yaml');
    t.strictSame(brief(es), ['__proto__: unknown field', 'constructor: unknown field', 'rules[0].__proto__: unknown field']);
    const probe = {};
    t.equal(probe['polluted'], undefined);
    t.equal(probe['polluted2'], undefined);
    t.equal(probe['polluted3'], undefined);
    t.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    // And a parsed value keeps the key as data, not as a prototype.
    const parsed = parseText('__proto__: {x: 1}\n', 'yaml');
    t.ok(parsed.ok);
    if (parsed.ok) {
        const v = parsed.documents[0].value;
        t.equal(Object.getPrototypeOf(v), Object.prototype);
        t.ok(Object.prototype.hasOwnProperty.call(v, '__proto__'));
    }
});
t.test('a failure says whether the text or the document was at fault', async (t) => {
    const stage = (r) => (r.ok ? 'ok' : r.stage);
    t.equal(stage(loadDocument('{"key":', 'json')), 'parse');
    t.equal(stage(loadDocument('a: &x 1\nb: *x\n', 'yaml')), 'parse');
    t.equal(stage(loadDocument('x'.repeat(DEFAULT_PARSE_LIMITS.maxBytes + 1), 'yaml')), 'parse');
    t.equal(stage(loadDocument('{"key":"global-a"}', 'json')), 'document');
    t.equal(stage(loadDocument('{"key":"global-a","namespace":"org","rules":[]}', 'json')), 'document', 'compile errors too');
    t.equal(stage(loadDocuments('[{"key":"global-a"}]', 'json')), 'document');
    t.equal(stage(loadDocuments('key: [\n', 'yaml')), 'parse');
    t.equal(stage(loadDocument('{"key":"global-a","rules":[]}', 'json')), 'ok');
});
