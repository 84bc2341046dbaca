// Policy test suites (*.test.yaml): the file format as validated by src/core/document/suite.schema.json,
// a suite ready to run, and the results the runner hands to reporters and to HTTP.

import type { CompiledPolicy } from '../core/compile/types.js';
import type { ConditionFailure, DocumentTrace, Reason } from '../core/evaluate/types.js';
import type { CompiledRegistry } from '../core/registry/types.js';

// The case format lives in core (documents of kind `tests` hold cases).
export type { CaseSpec, Expectation, ReasonExpectation, SubjectSpec } from '../core/document/suite-types.js';
import type { CaseSpec } from '../core/document/suite-types.js';

export type PolicyEntry = Record<string, unknown> | string | { include: string | string[] };

/** A suite file's content, after schema validation. */
export interface SuiteSpec {
  $schema?: string;
  name: string;
  description?: string;
  now?: string;
  namespace?: string;
  /** the DEFAULT_LANGUAGE of the cases (default: en) */
  defaultLanguage?: string;
  policies: PolicyEntry[];
  cases: CaseSpec[];
}

/** A problem with a suite or a file it includes; positioned when the source is known. */
export interface SuiteProblem {
  /** the file the problem is in (the suite or an included policy file), when read from disk */
  file?: string;
  /** the policy key, when the problem is inside a document */
  document?: string;
  /** field path inside the file, '' for the whole file */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A case ready to run: inputs resolved, namespace path parsed. */
export interface ReadyCase {
  spec: CaseSpec;
  namespaces: string[];
  now: Date | undefined;
}

/** A suite ready to run: every document compiled, every case checked. */
export interface CompiledSuite {
  name: string;
  file?: string;
  /** every document of the suite, as a store would hold them */
  policies: CompiledPolicy[];
  cases: ReadyCase[];
  /** the suite's attribute registry: conditions were typed against it, inputs are checked by it */
  registry?: CompiledRegistry;
  /** the DEFAULT_LANGUAGE of the cases (default: en) */
  defaultLanguage?: string;
}

/** How one concrete permission fared under `check`. */
export interface CheckOutcome {
  allowed: boolean;
  reason?: Reason;
}

/** The parts of a decision a case can expect. */
export interface ActualDecision {
  /** a `policy` case: what can_execute returned, or its error */
  result?: boolean | { error: string };
  facts?: Record<string, unknown>;
  permissions: string[];
  denied: string[];
  default: boolean;
  exact: boolean;
  policies: string[];
  checks: Record<string, CheckOutcome>;
}

export interface CaseResult {
  name: string;
  passed: boolean;
  durationMs: number;
  /** on failure: one line per unmet expectation, diff-style (`-` expected, `+` actual) */
  diff?: string[];
  /** on failure: what the decision was */
  actual?: ActualDecision;
  /** on failure: every document and rule visited */
  trace?: DocumentTrace[];
  /** conditions that errored (their rules did not apply) */
  conditionErrors?: ConditionFailure[];
}

export interface SuiteResult {
  name: string;
  file?: string;
  passed: boolean;
  /** the suite could not be loaded: no case ran */
  problems?: SuiteProblem[];
  cases: CaseResult[];
  counts: { passed: number; failed: number };
  durationMs: number;
}

export interface RunResult {
  passed: boolean;
  suites: SuiteResult[];
  counts: { suites: number; cases: number; passed: number; failed: number; broken: number };
  durationMs: number;
}
