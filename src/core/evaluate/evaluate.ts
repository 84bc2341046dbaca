// Compiled policies + a request → decision (SPEC §2 "Evaluation"). Documents run in
// the order given, rules in the order written; inside a rule grant, then revoke, then
// deny. The permission lists are maintained incrementally (summary.ts) so they never
// allow what `checkPermission` (the exact semantics) refuses.

import { Summary } from './summary.js';
import type { CompiledPolicy, CompiledRule, SubjectMatcher } from '../compile/types.js';
import type { Decision, DocumentTrace, EvaluationInput, RuleTrace, Subject } from './types.js';
import type { ConditionOutcome } from './conditions.js';
import { applyMatchedRule, type RuleContext } from './apply-rule.js';
import type { CompiledRegistry } from '../registry/types.js';
import type { RelationshipCheck } from '../condition/related.js';

export interface EvaluateOptions {
  explain?: boolean;
  /** the attribute registry in force (facts emitted by scripts are checked against it) */
  registry?: CompiledRegistry;
  /** the clock conditions see as `now` (defaults to the current time) */
  now?: Date;
  /** what conditions' `related()` asks (none: related() fails and its rule does not apply) */
  relationships?: RelationshipCheck;
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


function traceRule(rule: CompiledRule, matched: boolean, outcome: ConditionOutcome | undefined, applied: boolean): RuleTrace {
  const t: RuleTrace = { rule: rule.id, subjectMatched: matched, applied };
  if (outcome && rule.condition) t.condition = outcome;
  if (rule.message !== undefined && typeof rule.message !== 'string') t.messageKey = rule.message.key;
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
  const ctx: RuleContext = { input, now: options.now, registry: options.registry, relationships: options.relationships, summary: new Summary(), applied: [] };
  const keys: string[] = [];
  const trace: DocumentTrace[] | undefined = explain ? [] : undefined;
  const subject = input.subject;
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
      const r = matched ? applyMatchedRule(policy, rule, ctx) : { applied: false };
      docTrace?.rules.push(traceRule(rule, matched, r.outcome, r.applied));
    }
    if (docTrace) {
      if (ctx.runner && policy.predicates.size > 0) {
        const values: NonNullable<DocumentTrace['predicates']> = {};
        for (const name of policy.predicates.keys()) {
          const v = ctx.runner.predicateValues.get(`${policy.key}/${name}`);
          if (v) values[name] = v;
        }
        if (Object.keys(values).length > 0) docTrace.predicates = values;
      }
      trace!.push(docTrace);
    }
  }
  const { summary, applied, failures } = ctx;
  const { permissions, denied } = summary.lists();
  const decision: Decision = { permissions, denied, exact: summary.exact, default: false, policies: keys, applied };
  if (failures) decision.conditionErrors = failures;
  const facts = ctx.runner?.emittedFacts();
  if (facts) decision.facts = facts;
  if (trace) {
    decision.trace = trace;
    decision.grantedBy = grantedBy(permissions, applied);
  }
  return decision;
}
