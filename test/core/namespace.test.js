// Namespace paths and policy keys (SPEC §1).
import t from 'tap';
import { DEFAULT_NAMESPACE_LIMITS, isValidKey, isValidNamespace, namespaceOfKey, parseNamespacePath, resolveDocumentNamespace, } from '../../src/core/namespace.js';
const UUID = '57af7f6d-f6f7-4af1-b182-3a30440fa781';
t.test('the SPEC example path', async (t) => {
    t.strictSame(parseNamespacePath(`global.org.org:${UUID}`), { ok: true, namespaces: ['global', 'org', `org:${UUID}`] });
    t.strictSame(parseNamespacePath('global'), { ok: true, namespaces: ['global'] });
});
t.test('valid namespaces', async (t) => {
    for (const ns of ['global', 'org', 'Org_2', `org:${UUID}`, 'tenant:a:b', 'a:-', 'team:x-y-z', '_', '0']) {
        t.ok(isValidNamespace(ns), ns);
        t.ok(parseNamespacePath(`global.${ns}`).ok, `global.${ns}`);
    }
});
t.test('`-` only after a `:`', async (t) => {
    for (const ns of ['org-x', '-org', 'a-b:c', '-']) {
        t.notOk(isValidNamespace(ns), ns);
        const r = parseNamespacePath(`global.${ns}`);
        t.equal(r.ok, false, `global.${ns} refused`);
        if (!r.ok)
            t.match(r.reason, /may hold only/);
    }
    t.ok(isValidNamespace('org:a-b'));
});
t.test('bad characters', async (t) => {
    for (const ns of ['a b', 'a/b', 'é', 'ns#1', 'a*', 'a\n', 'a%2e', 'a,b', '文档']) {
        t.notOk(isValidNamespace(ns), JSON.stringify(ns));
        t.equal(parseNamespacePath(ns).ok, false, `path ${JSON.stringify(ns)} refused`);
    }
    t.notOk(isValidNamespace('a.b'), 'a namespace never contains .');
});
t.test('empty parts', async (t) => {
    for (const path of ['', '.', 'global.', '.global', 'global..org']) {
        const r = parseNamespacePath(path);
        t.equal(r.ok, false, JSON.stringify(path));
        if (!r.ok)
            t.match(r.reason, /empty/);
    }
    t.notOk(isValidNamespace(''));
});
t.test('depth limit: 32 namespaces pass, 33 do not', async (t) => {
    t.equal(DEFAULT_NAMESPACE_LIMITS.maxDepth, 32);
    const ok = parseNamespacePath(Array.from({ length: 32 }, (_, i) => `n${i}`).join('.'));
    t.ok(ok.ok);
    if (ok.ok)
        t.equal(ok.namespaces.length, 32);
    const bad = parseNamespacePath(Array.from({ length: 33 }, (_, i) => `n${i}`).join('.'));
    t.equal(bad.ok, false);
    if (!bad.ok)
        t.match(bad.reason, /33 namespaces; at most 32/);
});
t.test('length limit: 128 characters pass, 129 do not', async (t) => {
    t.equal(DEFAULT_NAMESPACE_LIMITS.maxLength, 128);
    t.ok(parseNamespacePath(`global.${'a'.repeat(128)}`).ok);
    t.ok(isValidNamespace('a'.repeat(128)));
    t.notOk(isValidNamespace('a'.repeat(129)));
    const bad = parseNamespacePath(`global.${'a'.repeat(129)}`);
    t.equal(bad.ok, false);
    if (!bad.ok)
        t.match(bad.reason, /129 characters long; at most 128/);
    // The longest legal path is accepted; a hostile string is refused before splitting.
    t.ok(parseNamespacePath(Array.from({ length: 32 }, () => 'a'.repeat(128)).join('.')).ok);
    t.equal(parseNamespacePath('a.'.repeat(1_000_000)).ok, false);
});
t.test('limits are configurable', async (t) => {
    const limits = { maxDepth: 2, maxLength: 4 };
    t.ok(parseNamespacePath('abcd.efgh', limits).ok);
    t.equal(parseNamespacePath('a.b.c', limits).ok, false);
    t.equal(parseNamespacePath('abcde', limits).ok, false);
    t.notOk(isValidNamespace('abcde', limits));
});
t.test('keys', async (t) => {
    for (const key of ['global-admins', 'org-editors.v2', `org:${UUID}-editors`, 'a-b', 'x'.repeat(256), 'global-a.b:c_d-e']) {
        t.ok(isValidKey(key), key);
    }
    for (const key of ['', 'x'.repeat(257), 'global admins', 'global-é', 'global/admins', 'global-a*', 'global-a#b']) {
        t.notOk(isValidKey(key), JSON.stringify(key));
    }
    t.equal(namespaceOfKey('global-admins'), 'global');
    t.equal(namespaceOfKey('org-editors.v2'), 'org');
    t.equal(namespaceOfKey(`org:${UUID}-editors`), 'org:57af7f6d', 'the part before the FIRST -');
    t.equal(namespaceOfKey('admins'), undefined);
    t.equal(namespaceOfKey('-admins'), undefined);
});
t.test('derived vs explicit namespace', async (t) => {
    t.strictSame(resolveDocumentNamespace('global-admins', undefined), { ok: true, namespace: 'global' });
    t.strictSame(resolveDocumentNamespace('org-editors.v2', undefined), { ok: true, namespace: 'org' });
    t.strictSame(resolveDocumentNamespace('global-admins', 'global'), { ok: true, namespace: 'global' });
    // A namespace holding a `-` needs the explicit field: derived, the key lands in `org:57af7f6d`.
    const key = `org:${UUID}-editors`;
    t.strictSame(resolveDocumentNamespace(key, `org:${UUID}`), { ok: true, namespace: `org:${UUID}` });
    t.strictSame(resolveDocumentNamespace(key, undefined), { ok: true, namespace: 'org:57af7f6d' });
    const mismatch = [
        ['global-admins', 'org'],
        ['global-admins', 'glob'], // a prefix of the key's namespace is not its namespace
        ['global-', 'global'], // nothing after the `-`
        ['globaladmins', 'global'],
    ];
    for (const [k, ns] of mismatch) {
        const r = resolveDocumentNamespace(k, ns);
        t.equal(r.ok, false, `${k} in ${ns} refused`);
        if (!r.ok)
            t.match(r.reason, /must start with its namespace/);
    }
    for (const k of ['admins', '-admins', 'global-', 'global.x-admins', 'org-x-']) {
        const r = resolveDocumentNamespace(k, undefined);
        if (k === 'org-x-') {
            t.strictSame(r, { ok: true, namespace: 'org' }, 'org-x- is <org>-<x->');
            continue;
        }
        t.equal(r.ok, false, `${k} refused without an explicit namespace`);
    }
});
