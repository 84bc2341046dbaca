export interface EditorsPolicyOptions {
    key?: string;
    /** a first comment line (kept by YAML stores, so byte-for-byte checks see it) */
    comment?: string;
    ordinal?: number;
    /** the editors rule's message; none when false */
    message?: string | false;
    /** more rules, as YAML list items */
    extraRules?: string;
}
export declare function editorsPolicy(options?: EditorsPolicyOptions): string;
