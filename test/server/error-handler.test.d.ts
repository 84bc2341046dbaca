/** Every key of every object in a JSON text, with duplicates (JSON.parse keeps only the last). */
export declare function duplicateKeys(line: string): string[];
