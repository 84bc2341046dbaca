import type { CompiledSchema } from '../../src/relations/schema/types.js';
import { type Tuple } from '../../src/relations/tuple.js';
export declare class ReferenceModel {
    private readonly schema;
    private readonly strata;
    private readonly byResource;
    /** every object named by a tuple (as resource or subject object), by type; wildcards left out */
    readonly universe: Map<string, Set<string>>;
    private readonly cache;
    constructor(schema: CompiledSchema, tuples: readonly Tuple[]);
    private note;
    /** Does `subject` (a subject string) have `name` on `type:id`? */
    has(type: string, id: string, name: string, subject: string): boolean;
    lookupResources(type: string, name: string, subject: string): string[];
    /** Known subjects of the type that hold, and `*` first when the wildcard subject does. */
    lookupSubjects(type: string, id: string, name: string, subjectType: string): string[];
    private solve;
}
