// The executable form of a policy document: built once per document version, read by
// the evaluator on every request, never mutated.

import type { Pattern } from '../pattern.js';
import type { CompiledCondition } from '../condition/compile-condition.js';
import type { ConditionReads } from '../condition/dependencies.js';
import type { CompiledRegistry, RegistryDocument } from '../registry/types.js';
import type { LuaDocument, PolicyDocument, RoutesDocument, TestsDocument } from '../document/types.js';
import type { RouteTable } from '../forward-auth/route-table.js';
import type { CaseSpec } from '../document/suite-types.js';
import type { LuaSandbox } from '../lua/sandbox.js';
import type { CompiledCatalogue, MessagesDocument, RuleMessage } from '../messages/types.js';

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
  /** the reason shown when this rule decides a denial: plain text or a catalogue reference */
  readonly message: RuleMessage | undefined;
  /** the `when` condition, when the rule has one */
  readonly condition?: CompiledCondition;
  /** a `lua:` chunk that must also return true for the rule to apply */
  readonly lua?: LuaRef;
  /** for `kind: lua` documents: the script whose result gives the effects */
  readonly script?: LuaRef;
}

/** A chunk loaded in a document's sandbox: a chunk id, or a global function by name. */
export interface LuaRef {
  readonly sandbox: LuaSandbox;
  readonly id: number;
  /** '' for a rule chunk; the global function to call for a script document */
  readonly entry: string;
  /** the document declared that it reads the clock (`policy.now()` is allowed) */
  readonly declaredNow: boolean;
  /** the input paths the document declared (segments); the script sees only these. Absent: all inputs */
  readonly reads?: ReadonlyArray<readonly string[]>;
}

export interface CompiledPolicy {
  /** 'policy' and 'lua' documents run; a 'registry' declares attributes, 'messages' holds texts, 'tests' test cases and 'routes' forward-auth routes (none of them runs) */
  readonly kind: 'policy' | 'registry' | 'lua' | 'messages' | 'tests' | 'routes';
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
  /** for kind 'lua': what a failing script does */
  readonly onError?: 'deny' | 'skip';
  /** the compiled catalogue, for kind 'messages' */
  readonly catalogue?: CompiledCatalogue;
  /** the cases, for kind 'tests' */
  readonly tests?: CompiledTests;
  /** the compiled routes, for kind 'routes' */
  readonly routes?: RouteTable;
  readonly document: PolicyDocument | RegistryDocument | LuaDocument | MessagesDocument | TestsDocument | RoutesDocument;
}

/** A stored test suite's cases, ready to run against a policy state. */
export interface CompiledTests {
  readonly name: string;
  readonly cases: ReadonlyArray<{ spec: CaseSpec; namespaces: string[]; now: Date | undefined }>;
  readonly defaultLanguage?: string;
}

/** Documents that never run (and never count as present on a path). */
export function runsAsPolicy(p: CompiledPolicy): boolean {
  return p.kind === 'policy' || p.kind === 'lua';
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
