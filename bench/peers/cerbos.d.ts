import type { CompiledPolicy } from '../../src/core/compile/types.js';
import { type PeerRequest } from './model.js';
export declare const CERBOS_VERSION = "v0.55.0";
/** Our path → Cerbos scope: the first namespace (global) is the base policy. */
export declare function scopeOf(namespaces: readonly string[]): string;
/** The allow condition for one concrete permission (the class representative). */
export declare function allowCondition(policies: readonly CompiledPolicy[], permission: string): string;
/**
 * `actions`: the application's action vocabulary (Cerbos policies name actions). Each gets
 * an exact ALLOW / DENY pair, as does every concrete pattern; wildcard patterns only
 * answer actions outside that list (approximately where wildcard classes overlap).
 */
export declare function exactPolicy(policies: readonly CompiledPolicy[], kind: string, actions: readonly string[]): {
    policy: unknown;
    classes: number;
};
export declare function nativePolicies(policies: readonly CompiledPolicy[], namespaces: readonly string[]): unknown[];
export interface CerbosSet {
    policies: readonly CompiledPolicy[];
    namespaces: readonly string[];
    /** the permissions the application uses on this path */
    actions: readonly string[];
    /** also write the native (scoped) translation */
    native: boolean;
}
/** The resource kind of a path's exact translation. */
export declare function exactKind(namespaces: readonly string[]): string;
export declare function writeCerbosConfig(dir: string, sets: readonly CerbosSet[], httpPort: number, grpcPort: number): {
    conf: string;
    classes: number;
};
export type CerbosVariant = 'exact' | 'native';
export declare function cerbosBody(r: PeerRequest, variant: CerbosVariant): string;
export declare const CERBOS_PATH = "/api/check/resources";
export declare function cerbosAllowed(json: any, permission: string): boolean | undefined;
