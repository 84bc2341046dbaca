export type CaseSubject = string | {
    id: string;
    roles?: string[];
    groups?: string[];
    attributes?: Record<string, unknown>;
};
export interface WantDecision {
    permissions: string[];
    denied: string[];
    /** true when omitted */
    exact?: boolean;
    /** false when omitted */
    default?: boolean;
    /** not compared when omitted */
    policies?: string[];
}
export type ErrorCode = 'POLICY_INVALID' | 'NAMESPACE_INVALID';
export interface Case {
    /** `<file relative to the corpus>#<index>: <note>`, for test names */
    name: string;
    file: string;
    index: number;
    note: string;
    /** documents as objects, or YAML text */
    policies: Array<Record<string, unknown> | string>;
    /** set: `namespace` mode over a store holding `policies`; unset: `policies` mode */
    namespace?: string;
    subject: CaseSubject;
    want?: WantDecision;
    checks?: Record<string, boolean>;
    want_error_code?: ErrorCode;
}
/** The subset of a decision the cases compare, however it was obtained. */
export interface ObservedDecision {
    permissions: readonly string[];
    denied: readonly string[];
    exact: boolean;
    default: boolean;
    policies: readonly string[];
}
export declare const CASES_DIR: string;
/**
 * Every case under `dir` (recursively, files in name order), each file validated
 * against case.schema.json. Throws, naming the file, when one is malformed.
 */
export declare function loadCases(dir: string): Case[];
/** A case's subject in the full object form. */
export declare function normalizeSubject(s: CaseSubject): {
    id: string;
    roles: string[];
    groups: string[];
    attributes: Record<string, unknown>;
};
/** What differs between a wanted and an observed decision; empty when they agree. */
export declare function decisionMismatches(want: WantDecision, got: ObservedDecision): string[];
