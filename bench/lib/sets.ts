// The policy sets the scenarios share, built from bench/fixtures.ts.
//
// "Realistic": 3 namespaces (global, org, one tenant), 50 documents in all (10 + 20 + 20),
// 5 rules each: role rules granting `<resource>:read/list` or `<resource>:*`, revoking
// `<resource>:delete`, denying `<resource>:purge`, and some rules naming user:alice.

import { makeDocument, compileAll } from '../fixtures.js';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import type { PolicyDocument } from '../../src/core/document/types.js';
import type { NewPolicy } from '../../src/store/store.js';
import type { Subject } from '../../src/core/evaluate/types.js';

export const TENANT = 'org:57af7f6d-f6f7-4af1-b182-3a30440fa781';
export const REALISTIC_NAMESPACES = ['global', 'org', TENANT] as const;
export const REALISTIC_PATH = REALISTIC_NAMESPACES.join('.');
export const REALISTIC_COUNTS = [10, 20, 20] as const;
export const RULES_PER_DOC = 5;

/** Documents of several namespaces, `counts[i]` in namespace i, in run order. */
export function makeDocs(namespaces: readonly string[], counts: readonly number[], rulesPerDoc = RULES_PER_DOC): PolicyDocument[] {
  const docs: PolicyDocument[] = [];
  namespaces.forEach((ns, k) => {
    for (let i = 0; i < counts[k]!; i++) docs.push(makeDocument(ns, i, rulesPerDoc));
  });
  return docs;
}

export function realisticDocs(): PolicyDocument[] {
  return makeDocs(REALISTIC_NAMESPACES, REALISTIC_COUNTS);
}

export function realisticPolicies(): CompiledPolicy[] {
  return compileAll(realisticDocs());
}

/** `n` documents spread over the 3 namespaces of the realistic path (remainder to the first). */
export function splitCounts(n: number, parts = 3): number[] {
  const base = Math.floor(n / parts);
  const counts = new Array<number>(parts).fill(base);
  counts[0]! += n - base * parts;
  return counts;
}

/** What a store holds for a document (JSON text, as a PUT of JSON would store it). */
export function recordOf(doc: PolicyDocument): NewPolicy {
  return {
    key: doc.key,
    namespace: doc.namespace!,
    ordinal: doc.ordinal ?? null,
    disabled: doc.disabled ?? false,
    format: 'json',
    text: JSON.stringify(doc),
    document: doc,
  };
}

export function subject(id: string, roles: string[] = [], groups: string[] = []): Subject {
  return { id, roles, groups, attributes: {} };
}

/** The subject of the single-subject measurements: two roles, and named by some rules. */
export const ALICE = { id: 'user:alice', roles: ['editor', 'viewer'] };
