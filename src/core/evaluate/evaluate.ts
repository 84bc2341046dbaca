// Compiled policies + a request → decision (SPEC §2 "Evaluation"). Documents run in
// the order given, rules in the order written; inside a rule grant, then revoke, then
// deny. The permission lists are maintained incrementally so the summary never allows
// what `checkPermission` (the exact semantics) refuses.

import { contains, minimize, overlaps, type Pattern } from '../pattern.js';
import type { CompiledPolicy, CompiledRule, SubjectMatcher } from '../compile/types.js';
import type { AppliedEffect, Decision, DocumentTrace, EvaluationInput, RuleTrace, Subject } from './types.js';

export interface EvaluateOptions {
  explain?: boolean;
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

/** The running state of the permission lists. */
class Summary {
  granted: Pattern[] = [];
  /** revoked patterns that overlapped a grant when applied (a later covering grant lifts them) */
  revoked: Pattern[] = [];
  /** denied patterns: block for the rest of the evaluation */
  blocked: Pattern[] = [];
  exact = true;

  grant(p: Pattern): void {
    for (const d of this.blocked) if (contains(d, p)) return;
    this.granted.push(p);
    if (this.revoked.length === 0) return;
    const keep: Pattern[] = [];
    for (const r of this.revoked) {
      if (contains(p, r)) continue; // re-granted whole: the revoke no longer excludes anything
      if (overlaps(p, r)) this.exact = false; // partly re-granted: not expressible, err towards deny
      keep.push(r);
    }
    this.revoked = keep;
  }

  /** Drop grants the pattern covers; true when a remaining grant still overlaps it. */
  private cut(p: Pattern): boolean {
    let overlapping = false;
    const keep: Pattern[] = [];
    for (const g of this.granted) {
      if (contains(p, g)) continue;
      if (!overlapping && overlaps(p, g)) overlapping = true;
      keep.push(g);
    }
    this.granted = keep;
    return overlapping;
  }

  revoke(p: Pattern): void {
    if (this.cut(p)) this.revoked.push(p);
  }

  deny(p: Pattern): void {
    this.cut(p);
    this.blocked.push(p);
  }

  lists(): { permissions: string[]; denied: string[] } {
    const permissions = minimize(this.granted);
    const excluded = [...this.revoked, ...this.blocked].filter((e) => permissions.some((g) => overlaps(g, e)));
    return { permissions: permissions.map((p) => p.text), denied: minimize(excluded).map((p) => p.text) };
  }
}

function applyRule(rule: CompiledRule, policy: CompiledPolicy, summary: Summary, effects: AppliedEffect[]): void {
  for (const p of rule.grant) {
    summary.grant(p);
    effects.push({ kind: 'grant', pattern: p, policy, rule });
  }
  for (const p of rule.revoke) {
    summary.revoke(p);
    effects.push({ kind: 'revoke', pattern: p, policy, rule });
  }
  for (const p of rule.deny) {
    summary.deny(p);
    effects.push({ kind: 'deny', pattern: p, policy, rule });
  }
}

function traceRule(rule: CompiledRule, matched: boolean): RuleTrace {
  const t: RuleTrace = { rule: rule.id, subjectMatched: matched, applied: matched };
  if (matched) {
    t.effects = {};
    if (rule.grant.length) t.effects.grant = rule.grant.map((p) => p.text);
    if (rule.revoke.length) t.effects.revoke = rule.revoke.map((p) => p.text);
    if (rule.deny.length) t.effects.deny = rule.deny.map((p) => p.text);
  }
  return t;
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
      effects: [],
      ...(explain ? { trace: [] } : {}),
    };
  }
  const summary = new Summary();
  const effects: AppliedEffect[] = [];
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
      if (matched) applyRule(rule, policy, summary, effects);
      docTrace?.rules.push(traceRule(rule, matched));
    }
    if (docTrace) trace!.push(docTrace);
  }
  const { permissions, denied } = summary.lists();
  const decision: Decision = { permissions, denied, exact: summary.exact, default: false, policies: keys, effects };
  if (trace) decision.trace = trace;
  return decision;
}
