// The questions the engine answers, over one schema and one index (no I/O): check,
// lookupResources, lookupSubjects. Every name is checked against the schema first: a
// type, permission or relation the schema does not know is an error (RELATION_UNKNOWN,
// a 400), never a silent false.

import { RelationError } from './errors.js';
import { definitionOf, type CompiledSchema, type Definition } from './schema/types.js';
import { WILDCARD, type ObjectRef, type SubjectRef } from './tuple.js';
import { Budget, CheckRun, DEFAULT_ENGINE_LIMITS, type EngineLimits } from './check.js';
import { lookupResources, lookupSubjects, type LookupPage } from './lookup.js';
import type { RelationIndex, SubjectEntry } from './relation-index.js';

export interface CheckResult {
  allowed: boolean;
  /** with explain, when allowed: the nodes and tuples that prove it, in order */
  path?: string[];
}

function unknown(message: string): RelationError {
  return new RelationError('RELATION_UNKNOWN', message);
}

export class RelationEngine {
  constructor(
    readonly index: RelationIndex,
    private schemaValue: CompiledSchema | undefined,
    readonly limits: EngineLimits = DEFAULT_ENGINE_LIMITS,
  ) {}

  get schema(): CompiledSchema | undefined {
    return this.schemaValue;
  }

  setSchema(schema: CompiledSchema | undefined): void {
    this.schemaValue = schema;
  }

  check(resource: ObjectRef, permission: string, subject: SubjectRef, options: { explain?: boolean; limits?: EngineLimits } = {}): CheckResult {
    const schema = this.requireSchema();
    const def = this.definition(schema, resource.type, permission);
    const s = this.subjectEntry(schema, subject);
    const object = this.index.object(resource.type, resource.id);
    const run = new CheckRun(schema, this.index, s, new Budget(options.limits ?? this.limits), options.explain === true);
    const allowed = run.has(object, def);
    return options.explain && allowed ? { allowed, path: run.explain(object, def) } : { allowed };
  }

  lookupResources(resourceType: string, permission: string, subject: SubjectRef, limit: number, after?: string): LookupPage {
    const schema = this.requireSchema();
    const def = this.definition(schema, resourceType, permission);
    const s = this.subjectEntry(schema, subject);
    return lookupResources(schema, this.index, new Budget(this.limits), def, s, limit, after);
  }

  lookupSubjects(resource: ObjectRef, permission: string, subjectType: string, limit: number, after?: string): LookupPage {
    const schema = this.requireSchema();
    const def = this.definition(schema, resource.type, permission);
    if (!schema.types.has(subjectType)) throw unknown(`unknown subject type '${subjectType}'`);
    const object = this.index.object(resource.type, resource.id);
    return lookupSubjects(schema, this.index, new Budget(this.limits), object, def, subjectType, limit, after);
  }

  private requireSchema(): CompiledSchema {
    if (!this.schemaValue) throw unknown('no relationship schema is stored yet: every type and permission is unknown');
    return this.schemaValue;
  }

  private definition(schema: CompiledSchema, type: string, name: string): Definition {
    if (!schema.types.has(type)) throw unknown(`unknown type '${type}'`);
    const def = definitionOf(schema, type, name);
    if (!def) throw unknown(`type '${type}' has no relation or permission '${name}'`);
    return def;
  }

  private subjectEntry(schema: CompiledSchema, subject: SubjectRef): SubjectEntry {
    if (!schema.types.has(subject.type)) throw unknown(`unknown subject type '${subject.type}'`);
    if (subject.relation !== undefined && !definitionOf(schema, subject.type, subject.relation)) {
      throw unknown(`subject type '${subject.type}' has no relation or permission '${subject.relation}'`);
    }
    if (subject.id === WILDCARD && subject.relation !== undefined) throw unknown('a wildcard subject takes no relation');
    return this.index.subject(subject.type, subject.id, subject.relation);
  }
}
