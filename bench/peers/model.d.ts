import type { CompiledPolicy, CompiledRule } from '../../src/core/compile/types.js';
import type { Decision, Subject } from '../../src/core/evaluate/types.js';
import type { PolicyDocument } from '../../src/core/document/types.js';
export declare const RESOURCES: string[];
/** `write` is named by no rule: it is reached only through `<resource>:*` */
export declare const ACTIONS: string[];
export interface PeerSubject {
    id: string;
    roles: string[];
    groups?: string[];
}
export declare const SUBJECTS: PeerSubject[];
export interface PeerRequest {
    subject: PeerSubject;
    /** the namespace path, e.g. global.org.org:57af… */
    path: string;
    namespaces: readonly string[];
    permission: string;
}
/** 8 subjects × 7 permissions = 56 requests, spread over resources and actions. */
export declare function peerRequests(): PeerRequest[];
export declare function toSubject(s: PeerSubject): Subject;
/** The rules of the path in run order (disabled documents left out). */
export declare function rulesInOrder(policies: readonly CompiledPolicy[]): Array<{
    namespace: string;
    position: number;
    rule: CompiledRule;
}>;
/** The subject strings a rule names, as written (`*`, `role:x`, `group:x`, an id). */
export declare function subjectStrings(rule: CompiledRule): string[];
export interface OurAnswer {
    allowed: boolean;
    /** what the permission / denied lists say (the summary for local matching) */
    byLists: boolean;
    exact: boolean;
}
export declare function listsAllow(d: Decision, permission: string): boolean;
/** Our engine's answers (the exact check, and the lists), evaluated in process. */
export declare function ourAnswers(requests: readonly PeerRequest[], policies?: readonly CompiledPolicy[]): OurAnswer[];
/**
 * An independent oracle for the same meaning, written from the SPEC's wording (last
 * matching grant/revoke decides, any matching deny refuses), not from the engine.
 */
export declare function oracle(policies: readonly CompiledPolicy[], r: PeerRequest): boolean;
export declare const EDGE_NAMESPACES: readonly ["edge", "edge:t1"];
export declare const EDGE_PATH: string;
export declare function edgeDocs(): PolicyDocument[];
export declare function edgePolicies(): CompiledPolicy[];
export declare const EDGE_SUBJECTS: PeerSubject[];
export declare const EDGE_PERMISSIONS: string[];
export declare function edgeRequests(): PeerRequest[];
