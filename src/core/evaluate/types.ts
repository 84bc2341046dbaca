// Inputs and outputs of one evaluation.

import type { CompiledRule } from '../compile/types.js';

export interface Subject {
  readonly id: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface Resource {
  readonly type?: string;
  readonly id?: string;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

export interface EvaluationInput {
  readonly subject: Subject;
  readonly resource?: Resource;
  readonly context?: Readonly<Record<string, unknown>>;
  /** the whole namespace path being evaluated (empty in `policies` mode) */
  readonly namespaces: readonly string[];
  /** inputs were validated and converted against the attribute registry (typed conditions) */
  readonly typedInputs?: boolean;
}

export interface RuleTrace {
  rule: string;
  subjectMatched: boolean;
  /** the condition's value, or the error that made the rule not apply */
  condition?: { value: boolean } | { error: string };
  applied: boolean;
  effects?: { grant?: string[]; revoke?: string[]; deny?: string[] };
  /** the catalogue key of the rule's message, when it is a reference (never rendered text) */
  messageKey?: string;
}

export interface DocumentTrace {
  document: string;
  namespace: string;
  disabled?: boolean;
  /** values of the named predicates the document's conditions evaluated */
  predicates?: Record<string, { value: boolean } | { error: string }>;
  rules: RuleTrace[];
}

/** A condition that failed at run time: its rule did not apply. */
export interface ConditionFailure {
  document: string;
  rule: string;
  error: string;
}

export interface Decision {
  /** granted patterns, minimal, sorted */
  permissions: string[];
  /** revoked / denied patterns that still overlap something granted, minimal, sorted */
  denied: string[];
  /** false when the lists err towards deny (a later grant partly overlapped a revoke) */
  exact: boolean;
  /** true when no document was gathered and the configured default answered */
  default: boolean;
  /** keys of the documents run, in order (disabled ones left out) */
  policies: string[];
  /** the rules that applied, in run order: what `checkPermission` replays */
  applied: CompiledRule[];
  /** conditions that errored (their rules did not apply); absent when none did */
  conditionErrors?: ConditionFailure[];
  trace?: DocumentTrace[];
  /** facts scripts emitted (messages may show them); absent when none were */
  facts?: Readonly<Record<string, unknown>>;
  /** with explain: for each permission, the rule whose grant put it in the list */
  grantedBy?: Record<string, { document: string; rule: string }>;
}

export interface Reason {
  /** the catalogue key, when the rule's message is a reference */
  key?: string;
  text: string;
  /** the language of the catalogue text used (absent for plain text and fallbacks) */
  language?: string;
  rule: string;
  document: string;
}

export interface CheckResult {
  allowed: boolean;
  reason?: Reason;
}
