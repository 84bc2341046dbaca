// Running suites: every case evaluated as the service would (documents gathered by
// path, conditions with the suite's clock, `check` for single permissions), compared
// with what it expects. Pure and synchronous; failing cases keep a diff and the trace.

import type { Decision } from '../core/evaluate/types.js';
import type { CompiledRegistry } from '../core/registry/types.js';
import { PolicyEngineError } from '../errors.js';
import { listDiff, sameMembers } from './diff.js';
import { LocalPolicies } from '../core/evaluate/local-policies.js';
import { LanguageNegotiator, type RequestReasons } from '../core/evaluate/request-reasons.js';
import type { RelationshipCheck } from '../core/condition/related.js';
import type { EntityLookup } from '../core/entities/entity.js';
import { checkAll, evaluatePrepared, prepareDecision, reasonsFor, runScriptCheck, type PreparedDecision } from '../core/evaluate/decide.js';
import type { ActualDecision, CaseResult, CheckOutcome, CompiledSuite, ReadyCase, ReasonExpectation, RunResult, SuiteProblem, SuiteResult } from './types.js';

export interface RunOptions {
  /** the clock for cases whose suite names no `now` */
  clock?: () => Date;
  /** the answer for a path with no document (the service's DEFAULT_PERMISSIONS) */
  defaultPermissions?: readonly string[];
  /** the DEFAULT_LANGUAGE of suites that name none (default: en) */
  defaultLanguage?: string;
  /** what conditions' related() asks (stored suites run by a server); none: related() fails */
  relationships?: RelationshipCheck;
  /** the directory merged into cases' subjects and resources (stored suites run by a server); none: taken as written */
  entities?: EntityLookup;
}

/** The subject attribute that may name the language of reasons (LANGUAGE_ATTRIBUTE's default). */
const LANGUAGE_ATTRIBUTE = 'language';

function describeCheck(o: CheckOutcome): string {
  if (o.allowed) return 'allowed';
  if (!o.reason) return 'refused';
  const { key, language } = o.reason;
  const localized = key !== undefined ? ` [key ${key}, ${language !== undefined ? `language ${language}` : 'no catalogue text'}]` : '';
  return `refused: "${o.reason.text}"${localized} (rule ${o.reason.rule} of ${o.reason.document})`;
}

function describeExpected(want: string | ReasonExpectation): string {
  if (typeof want === 'string') return `refused: "${want}"`;
  const parts = [
    ...(want.text !== undefined ? [`"${want.text}"`] : []),
    ...(want.key !== undefined ? [`key ${want.key}`] : []),
    ...(want.language !== undefined ? [want.language === null ? 'no catalogue text' : `language ${want.language}`] : []),
  ];
  return `refused: ${parts.join(', ')}`;
}

/** Does a refusal meet the expected reason? Only the fields given are compared. */
function reasonMatches(o: CheckOutcome, want: string | ReasonExpectation): boolean {
  if (o.allowed || !o.reason) return false;
  if (typeof want === 'string') return o.reason.text === want;
  return (want.text === undefined || want.text === o.reason.text) &&
    (want.key === undefined || want.key === o.reason.key) &&
    (want.language === undefined || (want.language === null ? o.reason.language === undefined : want.language === o.reason.language));
}

/** What differs between the expectation and the decision, as diff lines; empty when it passes. */
function compare(c: ReadyCase, actual: ActualDecision): string[] {
  const want = c.spec.expect;
  const lines: string[] = [];
  if (want.result !== undefined && want.result !== actual.result) {
    const got = typeof actual.result === 'object' ? `error: ${actual.result.error}` : String(actual.result);
    lines.push('result:', `  - ${want.result}`, `  + ${got}`);
  }
  for (const [name, value] of Object.entries(want.facts ?? {})) {
    const got = actual.facts?.[name];
    if (JSON.stringify(got) !== JSON.stringify(value)) lines.push(`facts.${name}:`, `  - ${JSON.stringify(value)}`, `  + ${got === undefined ? '(not emitted)' : JSON.stringify(got)}`);
  }
  if (want.permissions && !sameMembers(want.permissions, actual.permissions)) lines.push(...listDiff('permissions', want.permissions, actual.permissions));
  if (want.denied && !sameMembers(want.denied, actual.denied)) lines.push(...listDiff('denied', want.denied, actual.denied));
  if (want.default !== undefined && want.default !== actual.default) lines.push('default:', `  - ${want.default}`, `  + ${actual.default}`);
  if (want.exact !== undefined && want.exact !== actual.exact) lines.push('exact:', `  - ${want.exact}`, `  + ${actual.exact}`);
  if (want.policies && JSON.stringify(want.policies) !== JSON.stringify(actual.policies)) {
    lines.push('policies (in run order):', `  - ${want.policies.join(', ') || '(none)'}`, `  + ${actual.policies.join(', ') || '(none)'}`);
  }
  const wrong = (heading: string, perms: string[]) => {
    if (perms.length === 0) return;
    lines.push(`${heading}:`);
    for (const p of perms) lines.push(`  - ${p}: ${heading === 'allowed' ? 'allowed' : 'refused'}`, `  + ${p}: ${describeCheck(actual.checks[p]!)}`);
  };
  wrong('allowed', (want.allowed ?? []).filter((p) => !actual.checks[p]!.allowed));
  wrong('disallowed', (want.disallowed ?? []).filter((p) => actual.checks[p]!.allowed));
  const reasons = Object.entries(want.reasons ?? {}).filter(([p, expected]) => !reasonMatches(actual.checks[p]!, expected));
  if (reasons.length > 0) {
    lines.push('reasons:');
    for (const [p, expected] of reasons) lines.push(`  - ${p}: ${describeExpected(expected)}`, `  + ${p}: ${describeCheck(actual.checks[p]!)}`);
  }
  return lines;
}

function checksOf(decision: Decision, c: ReadyCase, reasons: RequestReasons): Record<string, CheckOutcome> {
  const want = c.spec.expect;
  const perms = new Set([...(want.allowed ?? []), ...(want.disallowed ?? []), ...Object.keys(want.reasons ?? {})]);
  return Object.fromEntries(checkAll(decision, [...perms].sort(), reasons.describer(decision)));
}

export function runCase(c: ReadyCase, policies: LocalPolicies, options: RunOptions = {}, registry?: CompiledRegistry, defaultLanguage?: string): CaseResult {
  const started = performance.now();
  const { spec } = c;
  const request = {
    subject: spec.subject,
    ...(spec.policy !== undefined ? { policy: spec.policy } : { namespace: c.namespaces.join('.') }),
    resource: spec.resource,
    context: spec.context,
  };
  let prepared: PreparedDecision;
  try {
    // As the service does: the subject, the inputs against the registry (400 ATTRIBUTE_INVALID), their bounds.
    prepared = prepareDecision(request, { registry, stored: () => policies, ...(options.entities ? { entities: options.entities } : {}) });
  } catch (err) {
    if (!(err instanceof PolicyEngineError)) throw err;
    return { name: spec.name, passed: false, durationMs: performance.now() - started, diff: ['inputs:', '  - accepted', `  + refused (${err.code}): ${err.message}`] };
  }
  const now = c.now ?? options.clock?.() ?? new Date();
  if (spec.policy !== undefined) return runScriptCase(c, prepared, now, options.relationships, started);
  const decision = evaluatePrepared(prepared, { defaultPermissions: options.defaultPermissions ?? ['*'], explain: true, now, relationships: options.relationships });
  const negotiator = new LanguageNegotiator({ defaultLanguage: defaultLanguage ?? options.defaultLanguage ?? 'en', languageAttribute: LANGUAGE_ATTRIBUTE });
  const actual: ActualDecision = {
    ...(decision.facts ? { facts: decision.facts } : {}),
    permissions: decision.permissions,
    denied: decision.denied,
    default: decision.default,
    exact: decision.exact,
    policies: decision.policies,
    checks: checksOf(decision, c, reasonsFor(negotiator, prepared, spec, spec.acceptLanguage)),
  };
  const diff = compare(c, actual);
  const result: CaseResult = { name: spec.name, passed: diff.length === 0, durationMs: performance.now() - started };
  if (decision.conditionErrors) result.conditionErrors = decision.conditionErrors;
  if (!result.passed) Object.assign(result, { diff, actual, trace: decision.trace ?? [] });
  return result;
}

/** A `policy` case: the script document's can_execute, as POST /v1/check by key runs it. */
function runScriptCase(c: ReadyCase, prepared: PreparedDecision, now: Date, relationships: RelationshipCheck | undefined, started: number): CaseResult {
  const { result: r, facts } = runScriptCheck(prepared, { now, relationships });
  const result = 'value' in r ? r.value
    : 'error' in r ? { error: r.error }
    : 'disabled' in r ? { error: `policy ${prepared.target} is disabled` }
    : { error: 'can_execute returned an effects table, not a boolean' };
  const actual: ActualDecision = { result, facts, permissions: [], denied: [], default: false, exact: true, policies: [prepared.target], checks: {} };
  const diff = compare(c, actual);
  // A script that fails is a failing case unless the case expects exactly that failure.
  if (typeof result === 'object' && c.spec.expect.result !== undefined && diff.length === 0) diff.push('result:', `  + error: ${result.error}`);
  const out: CaseResult = { name: c.spec.name, passed: diff.length === 0, durationMs: performance.now() - started };
  if (!out.passed) Object.assign(out, { diff, actual });
  return out;
}

export function runSuite(suite: CompiledSuite, options: RunOptions = {}): SuiteResult {
  const started = performance.now();
  const policies = new LocalPolicies(suite.policies);
  const cases = suite.cases.map((c) => runCase(c, policies, options, suite.registry, suite.defaultLanguage));
  const failed = cases.filter((c) => !c.passed).length;
  const result: SuiteResult = {
    name: suite.name,
    passed: failed === 0,
    cases,
    counts: { passed: cases.length - failed, failed },
    durationMs: performance.now() - started,
  };
  if (suite.file !== undefined) result.file = suite.file;
  return result;
}

/** The result of a suite that could not be loaded: it fails, and no case ran. */
export function brokenSuite(name: string, file: string | undefined, problems: SuiteProblem[]): SuiteResult {
  return { name, ...(file !== undefined ? { file } : {}), passed: false, problems, cases: [], counts: { passed: 0, failed: 0 }, durationMs: 0 };
}

export function summarize(suites: SuiteResult[], durationMs: number): RunResult {
  const counts = { suites: suites.length, cases: 0, passed: 0, failed: 0, broken: 0 };
  for (const s of suites) {
    counts.cases += s.cases.length;
    counts.passed += s.counts.passed;
    counts.failed += s.counts.failed;
    if (s.problems) counts.broken++;
  }
  return { passed: counts.failed === 0 && counts.broken === 0 && suites.length > 0, suites, counts, durationMs };
}
