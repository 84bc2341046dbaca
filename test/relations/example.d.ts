export declare const exampleSchema: string;
export declare const exampleTuples: string[];
/** [resource, permission, subject, allowed] */
export declare const exampleChecks: Array<[string, string, string, boolean]>;
