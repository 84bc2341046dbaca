// The executable form of a policy document: built once per document version, read by
// the evaluator on every request, never mutated.

import type { Pattern } from '../pattern.js';
import type { CompiledCondition } from '../condition/compile-condition.js';
import type { ConditionReads } from '../condition/dependencies.js';
import type { CompiledRegistry, RegistryDocument } from '../registry/types.js';
import type { PolicyDocument } from '../document/types.js';

/** Who a rule applies to, split by matcher kind so matching is a few array scans. */
export interface SubjectMatcher {
  readonly any: boolean;
  readonly ids: readonly string[];
  readonly roles: readonly string[];
  readonly groups: readonly string[];
}

export interface CompiledRule {
  /** the rule's id, or `#<index>` when it has none */
  readonly id: string;
  readonly index: number;
  /** the key of the document the rule belongs to */
  readonly policy: string;
  readonly subjects: SubjectMatcher;
  readonly grant: readonly Pattern[];
  readonly revoke: readonly Pattern[];
  readonly deny: readonly Pattern[];
  readonly message: string | undefined;
  /** the `when` condition, when the rule has one */
  readonly condition?: CompiledCondition;
}

export interface CompiledPolicy {
  /** 'policy' documents run; a 'registry' document only declares attributes (it never runs) */
  readonly kind: 'policy' | 'registry';
  readonly key: string;
  readonly namespace: string;
  /** undefined sorts after every number */
  readonly ordinal: number | undefined;
  readonly disabled: boolean;
  readonly rules: readonly CompiledRule[];
  /** named predicates of the document, usable in its rules' conditions */
  readonly predicates: ReadonlyMap<string, CompiledCondition>;
  /** everything the document's conditions read (predicates included); undefined when it has none */
  readonly reads: ConditionReads | undefined;
  /** conditions were typed against a registry: inputs reach them validated, not converted */
  readonly typed: boolean;
  /** the compiled attribute registry, for kind 'registry' */
  readonly registry?: CompiledRegistry;
  readonly document: PolicyDocument | RegistryDocument;
}

/** Run order inside a namespace: ordinal (absent last), then key. */
export function comparePolicies(a: CompiledPolicy, b: CompiledPolicy): number {
  if (a.ordinal !== b.ordinal) {
    if (a.ordinal === undefined) return 1;
    if (b.ordinal === undefined) return -1;
    return a.ordinal - b.ordinal;
  }
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
