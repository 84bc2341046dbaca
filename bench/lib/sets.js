// The policy sets the scenarios share, built from bench/fixtures.ts.
//
// "Realistic": 3 namespaces (global, org, one tenant), 50 documents in all (10 + 20 + 20),
// 5 rules each: role rules granting `<resource>:read/list` or `<resource>:*`, revoking
// `<resource>:delete`, denying `<resource>:purge`, and some rules naming user:alice.
import { makeDocument, compileAll } from '../fixtures.js';
export const TENANT = 'org:57af7f6d-f6f7-4af1-b182-3a30440fa781';
export const REALISTIC_NAMESPACES = ['global', 'org', TENANT];
export const REALISTIC_PATH = REALISTIC_NAMESPACES.join('.');
export const REALISTIC_COUNTS = [10, 20, 20];
export const RULES_PER_DOC = 5;
/** Documents of several namespaces, `counts[i]` in namespace i, in run order. */
export function makeDocs(namespaces, counts, rulesPerDoc = RULES_PER_DOC) {
    const docs = [];
    namespaces.forEach((ns, k) => {
        for (let i = 0; i < counts[k]; i++)
            docs.push(makeDocument(ns, i, rulesPerDoc));
    });
    return docs;
}
export function realisticDocs() {
    return makeDocs(REALISTIC_NAMESPACES, REALISTIC_COUNTS);
}
export function realisticPolicies() {
    return compileAll(realisticDocs());
}
/** `n` documents spread over the 3 namespaces of the realistic path (remainder to the first). */
export function splitCounts(n, parts = 3) {
    const base = Math.floor(n / parts);
    const counts = new Array(parts).fill(base);
    counts[0] += n - base * parts;
    return counts;
}
/** What a store holds for a document (JSON text, as a PUT of JSON would store it). */
export function recordOf(doc) {
    return {
        key: doc.key,
        namespace: doc.namespace,
        ordinal: doc.ordinal ?? null,
        disabled: doc.disabled ?? false,
        format: 'json',
        text: JSON.stringify(doc),
        document: doc,
    };
}
export function subject(id, roles = [], groups = []) {
    return { id, roles, groups, attributes: {} };
}
/** The subject of the single-subject measurements: two roles, and named by some rules. */
export const ALICE = { id: 'user:alice', roles: ['editor', 'viewer'] };
