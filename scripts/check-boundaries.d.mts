// Types of check-boundaries.mjs, for the tests that import it.
export declare const LAYERS: Readonly<Record<string, number>>;
export declare const UNLAYERED: ReadonlySet<string>;
export declare const PURE_BUILTINS: Readonly<Record<string, readonly string[]>>;
/** The violations of a tree given as Map<path relative to src/, source text>; empty when it keeps every rule. */
export declare function checkBoundaries(files: ReadonlyMap<string, string>): string[];
/** Every .ts file under `srcDir`, as Map<relative posix path, text>. */
export declare function readTree(srcDir: string): Map<string, string>;
