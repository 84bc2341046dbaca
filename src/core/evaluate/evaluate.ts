// Compiled policies + a request → decision (SPEC §2 "Evaluation"). Documents run in
// the order given, rules in the order written; inside a rule grant, then revoke, then
// deny. The permission lists are maintained incrementally (summary.ts) so they never
// allow what `checkPermission` (the exact semantics) refuses.

import { Summary } from './summary.js';
import type { CompiledPolicy, CompiledRule, SubjectMatcher } from '../compile/types.js';
import type { ConditionFailure, Decision, DocumentTrace, EvaluationInput, RuleTrace, Subject } from './types.js';
import { ConditionRunner, type ConditionOutcome } from './conditions.js';

export interface EvaluateOptions {
  explain?: boolean;
  /** the clock conditions see as `now` (defaults to the current time) */
  now?: Date;
  /** the answer when `policies` is empty (SPEC: `["*"]` unless configured) */
  defaultPermissions: readonly string[];
}

function anyIncluded(wanted: readonly string[], have: readonly string[]): boolean {
  for (let i = 0; i < have.length; i++) if (wanted.includes(have[i]!)) return true;
  return false;
}

export function subjectMatches(m: SubjectMatcher, s: Subject): boolean {
  return (
    m.any ||
    (m.ids.length > 0 && m.ids.includes(s.id)) ||
    (m.roles.length > 0 && s.roles.length > 0 && anyIncluded(m.roles, s.roles)) ||
    (m.groups.length > 0 && s.groups.length > 0 && anyIncluded(m.groups, s.groups))
  );
}

function applyRule(rule: CompiledRule, summary: Summary): void {
  const { grant, revoke, deny } = rule;
  for (let i = 0; i < grant.length; i++) summary.grant(grant[i]!);
  for (let i = 0; i < revoke.length; i++) summary.revoke(revoke[i]!);
  for (let i = 0; i < deny.length; i++) summary.deny(deny[i]!);
}

function traceRule(rule: CompiledRule, matched: boolean, outcome: ConditionOutcome | undefined, applied: boolean): RuleTrace {
  const t: RuleTrace = { rule: rule.id, subjectMatched: matched, applied };
  if (outcome && rule.condition) t.condition = outcome;
  if (applied) {
    t.effects = {};
    if (rule.grant.length) t.effects.grant = rule.grant.map((p) => p.text);
    if (rule.revoke.length) t.effects.revoke = rule.revoke.map((p) => p.text);
    if (rule.deny.length) t.effects.deny = rule.deny.map((p) => p.text);
  }
  return t;
}

/** For each final permission, the last applied rule granting exactly that pattern. */
function grantedBy(permissions: readonly string[], applied: readonly CompiledRule[]): Record<string, { document: string; rule: string }> {
  const out: Record<string, { document: string; rule: string }> = {};
  for (const p of permissions) {
    for (let i = applied.length - 1; i >= 0; i--) {
      const rule = applied[i]!;
      if (rule.grant.some((g) => g.text === p)) {
        out[p] = { document: rule.policy, rule: rule.id };
        break;
      }
    }
  }
  return out;
}

/**
 * Run `policies` (already in run order; disabled ones included, they are skipped but
 * count as present for the default) for one subject.
 */
export function evaluatePolicies(policies: readonly CompiledPolicy[], input: EvaluationInput, options: EvaluateOptions): Decision {
  const explain = options.explain === true;
  if (policies.length === 0) {
    return {
      permissions: [...options.defaultPermissions].sort(),
      denied: [],
      exact: true,
      default: true,
      policies: [],
      applied: [],
      ...(explain ? { trace: [] } : {}),
    };
  }
  const summary = new Summary();
  const applied: CompiledRule[] = [];
  const keys: string[] = [];
  const trace: DocumentTrace[] | undefined = explain ? [] : undefined;
  const subject = input.subject;
  let runner: ConditionRunner | undefined;
  let failures: ConditionFailure[] | undefined;
  for (const policy of policies) {
    if (policy.disabled) {
      trace?.push({ document: policy.key, namespace: policy.namespace, disabled: true, rules: [] });
      continue;
    }
    keys.push(policy.key);
    const rules = policy.rules;
    const docTrace: DocumentTrace | undefined = trace ? { document: policy.key, namespace: policy.namespace, rules: [] } : undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const matched = subjectMatches(rule.subjects, subject);
      let outcome: ConditionOutcome | undefined;
      if (matched && rule.condition) {
        runner ??= new ConditionRunner(input, options.now ?? new Date());
        outcome = runner.holds(policy, rule);
        if ('error' in outcome) (failures ??= []).push({ document: policy.key, rule: rule.id, error: outcome.error });
      }
      const applies = matched && (outcome === undefined || ('value' in outcome && outcome.value));
      if (applies) {
        applyRule(rule, summary);
        applied.push(rule);
      }
      docTrace?.rules.push(traceRule(rule, matched, outcome, applies));
    }
    if (docTrace) {
      if (runner && policy.predicates.size > 0) {
        const values: NonNullable<DocumentTrace['predicates']> = {};
        for (const name of policy.predicates.keys()) {
          const v = runner.predicateValues.get(`${policy.key}/${name}`);
          if (v) values[name] = v;
        }
        if (Object.keys(values).length > 0) docTrace.predicates = values;
      }
      trace!.push(docTrace);
    }
  }
  const { permissions, denied } = summary.lists();
  const decision: Decision = { permissions, denied, exact: summary.exact, default: false, policies: keys, applied };
  if (failures) decision.conditionErrors = failures;
  if (trace) {
    decision.trace = trace;
    decision.grantedBy = grantedBy(permissions, applied);
  }
  return decision;
}
