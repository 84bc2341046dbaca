import { type Enforcer } from 'casbin';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import { type PeerRequest, type PeerSubject } from './model.js';
export declare const CASBIN_MODEL = "\n[request_definition]\nr = sub, dom, act\n\n[policy_definition]\np = priority, sub, dom, act, eft\n\n[role_definition]\ng = _, _, _\n\n[policy_effect]\ne = priority(p.eft) || deny\n\n[matchers]\nm = (p.sub == \"*\" || g(r.sub, p.sub, r.dom)) && inPath(r.dom, p.dom) && permMatch(r.act, p.act)\n";
export interface CasbinSet {
    policies: readonly CompiledPolicy[];
    path: string;
    subjects: readonly PeerSubject[];
}
/** Policy and grouping lines of one path; priorities start at `first`. */
export declare function casbinPolicyLines(policies: readonly CompiledPolicy[], path: string, subjects?: readonly PeerSubject[], first?: number): {
    lines: string[];
    next: number;
};
/**
 * One enforcer for several paths (their namespaces distinct): each path's lines keep
 * their relative priorities, and a request only matches lines of its own path.
 */
export declare function casbinEnforcer(sets: readonly CasbinSet[]): Promise<{
    enforcer: Enforcer;
    lines: number;
}>;
export declare function casbinDecide(enforcer: Enforcer, r: PeerRequest): boolean;
