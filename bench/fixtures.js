// Synthetic policy sets for the benchmarks: realistic shapes (role rules, a few
// revokes and denies, an id rule), deterministic so runs compare.
import { loadParsed } from '../src/core/compile/load-document.js';
const RESOURCES = ['document', 'folder', 'billing', 'user', 'report', 'project', 'comment', 'invoice'];
export const ROLES = ['viewer', 'editor', 'admin', 'auditor', 'billing', 'support'];
export function makeDocument(ns, i, rulesPerDoc = 3) {
    const rules = [];
    for (let r = 0; r < rulesPerDoc; r++) {
        const res = RESOURCES[(i + r) % RESOURCES.length];
        const role = ROLES[(i * 7 + r) % ROLES.length];
        const rule = { id: `r${r}`, subjects: [`role:${role}`], grant: [`${res}:read`, `${res}:list`] };
        if (r % 3 === 1)
            rule.grant = [`${res}:*`];
        if (r % 3 === 2)
            rule.revoke = [`${res}:delete`];
        if ((i + r) % 5 === 0)
            rule.deny = [`${res}:purge`];
        if (r === 0 && i % 4 === 0)
            rule.subjects.push('user:alice');
        rules.push(rule);
    }
    return { key: `${ns}-doc${i}`, namespace: ns, ordinal: i * 10, rules };
}
export function compileAll(docs) {
    return docs.map((d) => {
        const r = loadParsed({ value: d, text: '' }, 'json');
        if (!r.ok)
            throw new Error(JSON.stringify(r.errors));
        return r.loaded.policy;
    });
}
/** `namespaces` × `docsPerNamespace` documents, in run order. */
export function makePath(namespaces, docsPerNamespace, rulesPerDoc = 3) {
    const docs = [];
    for (const ns of namespaces)
        for (let i = 0; i < docsPerNamespace; i++)
            docs.push(makeDocument(ns, i, rulesPerDoc));
    return compileAll(docs);
}
