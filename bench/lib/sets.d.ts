import type { CompiledPolicy } from '../../src/core/compile/types.js';
import type { PolicyDocument } from '../../src/core/document/types.js';
import type { NewPolicy } from '../../src/store/store.js';
import type { Subject } from '../../src/core/evaluate/types.js';
export declare const TENANT = "org:57af7f6d-f6f7-4af1-b182-3a30440fa781";
export declare const REALISTIC_NAMESPACES: readonly ["global", "org", "org:57af7f6d-f6f7-4af1-b182-3a30440fa781"];
export declare const REALISTIC_PATH: string;
export declare const REALISTIC_COUNTS: readonly [10, 20, 20];
export declare const RULES_PER_DOC = 5;
/** Documents of several namespaces, `counts[i]` in namespace i, in run order. */
export declare function makeDocs(namespaces: readonly string[], counts: readonly number[], rulesPerDoc?: number): PolicyDocument[];
export declare function realisticDocs(): PolicyDocument[];
export declare function realisticPolicies(): CompiledPolicy[];
/** `n` documents spread over the 3 namespaces of the realistic path (remainder to the first). */
export declare function splitCounts(n: number, parts?: number): number[];
/** What a store holds for a document (JSON text, as a PUT of JSON would store it). */
export declare function recordOf(doc: PolicyDocument): NewPolicy;
export declare function subject(id: string, roles?: string[], groups?: string[]): Subject;
/** The subject of the single-subject measurements: two roles, and named by some rules. */
export declare const ALICE: {
    id: string;
    roles: string[];
};
