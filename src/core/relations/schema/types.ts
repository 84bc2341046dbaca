// The relationship schema, compiled: per type, its relations (which subjects a tuple may
// name) and permissions (rewrites over relations, permissions and arrows), with names
// resolved so the engine never looks a string up twice. Built once per schema version.

import type { DocumentError, DocumentFormat } from '../../document/types.js';

/** What a relation allows as a subject: `user`, `group#member` or `user:*`. */
export type AllowedSubject =
  | { kind: 'direct'; type: string }
  | { kind: 'userset'; type: string; relation: string }
  | { kind: 'wildcard'; type: string };

export interface RelationDef {
  readonly kind: 'relation';
  readonly type: string;
  readonly name: string;
  /** `type#name` */
  readonly key: string;
  /** 0 … definitionCount - 1, unique in the schema: the engine's numeric node ids use it */
  readonly ordinal: number;
  readonly allowed: readonly AllowedSubject[];
  /** subject types allowed as `type:id` */
  readonly direct: ReadonlySet<string>;
  /** subject types allowed as `type:*` */
  readonly wildcard: ReadonlySet<string>;
  /** `type#relation` usersets allowed */
  readonly usersets: ReadonlySet<string>;
}

/** A permission's rewrite, with every name resolved. */
export type Rewrite =
  | { op: 'ref'; def: Definition }
  /** for each subject object of `via` on this object: its `target` (resolved per subject type) */
  | { op: 'arrow'; via: RelationDef; target: string; targets: ReadonlyMap<string, Definition> }
  | { op: 'union' | 'intersection'; args: Rewrite[] }
  | { op: 'exclusion'; base: Rewrite; subtract: Rewrite };

export interface PermissionDef {
  readonly kind: 'permission';
  readonly type: string;
  readonly name: string;
  readonly key: string;
  readonly ordinal: number;
  /** as written (a list written as a union) */
  readonly source: string;
  rewrite: Rewrite;
}

export type Definition = RelationDef | PermissionDef;

/**
 * Where reaching `def` on some object can lead, through positive positions only (never
 * the subtracted side of `-`): what lookups walk backwards from a subject. `sure`: the
 * position is under unions only, so holding there makes the dependent hold too (an
 * operand of `&`, or the base of `-`, only makes it a candidate).
 */
export type Dependent =
  /** the same object's permission `def` names it */
  | { kind: 'ref'; def: PermissionDef; sure: boolean }
  /** `def` (on objects of `def.type`) reaches it through `via->…` */
  | { kind: 'arrow'; def: PermissionDef; via: string; sure: boolean }
  /** the relation `def` allows it as a userset (always sure: the tuple is the proof) */
  | { kind: 'userset'; def: RelationDef; sure: true };

export interface CompiledType {
  readonly name: string;
  readonly defs: ReadonlyMap<string, Definition>;
}

export interface CompiledSchema {
  readonly types: ReadonlyMap<string, CompiledType>;
  /** def key → what depends on it positively */
  readonly dependents: ReadonlyMap<string, readonly Dependent[]>;
  /** how many relations and permissions in all */
  readonly definitionCount: number;
  /** the text as stored */
  readonly text: string;
  readonly format: DocumentFormat;
}

export type SchemaError = DocumentError;

export function definitionOf(schema: CompiledSchema, type: string, name: string): Definition | undefined {
  return schema.types.get(type)?.defs.get(name);
}
