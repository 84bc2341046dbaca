/** A rule as written in a policy document (conditions are out of scope here). */
export interface RefRule {
    subjects: readonly string[];
    grant?: readonly string[];
    revoke?: readonly string[];
    deny?: readonly string[];
}
/** A document, already in run order. */
export interface RefDocument {
    key: string;
    disabled?: boolean;
    rules: readonly RefRule[];
}
export interface RefSubject {
    id: string;
    roles: readonly string[];
    groups: readonly string[];
}
/** SPEC §2 "Subjects": `*`, `role:<r>`, `group:<g>`, `id:<x>`, else the id exactly. */
export declare function refSubjectMatches(matcher: string, subject: RefSubject): boolean;
/**
 * SPEC §2 "Permission patterns": a `*` segment matches exactly one segment, except as
 * the last segment, where it matches one or more.
 */
export declare function refMatches(pattern: string, permission: string): boolean;
export type RefEffect = {
    kind: 'grant' | 'revoke' | 'deny';
    pattern: string;
};
/** The effects applied for `subject`, in run order: documents, rules, grant → revoke → deny. */
export declare function refEffects(documents: readonly RefDocument[], subject: RefSubject): RefEffect[];
/**
 * SPEC "The meaning, exactly": a grant that matches allows the permission unless a
 * deny has blocked it; a revoke that matches disallows it; a deny that matches
 * disallows it and blocks it for good. With zero documents (disabled ones count as
 * present) the default patterns decide.
 */
export declare function refAllowed(documents: readonly RefDocument[], subject: RefSubject, permission: string, defaultPermissions?: readonly string[]): boolean;
/**
 * How a caller that matches locally reads the summary lists: allowed when some pattern
 * in `permissions` matches and none in `denied` does.
 */
export declare function refAllowedByLists(permissions: readonly string[], denied: readonly string[], permission: string): boolean;
/** Every concrete permission over `letters` with 1..maxSegments segments. */
export declare function concretePermissions(letters: readonly string[], maxSegments: number): string[];
