// The exact meaning of a decision for one concrete permission (SPEC §2): replay the
// applied rules' effects in order. `POST /v1/check` answers this, not the summary lists.

import { matchSegments, mustParsePattern } from '../pattern.js';
import type { CompiledRule } from '../compile/types.js';
import type { CheckResult, Decision, Reason } from './types.js';
import type { RenderedMessage, RuleMessage } from '../messages/types.js';
import { renderWithoutRequest } from '../messages/localize.js';

/** Turns the rule that decided a denial into its reason (rendered for the request by the caller). */
export type DescribeRule = (rule: CompiledRule, message: RuleMessage) => Reason;

/** A rendered message as the reason of a rule; built field by field (an object spread costs more than rendering). */
export function reasonOf(m: RenderedMessage, rule: string, document: string): Reason {
  if (m.key === undefined) return { text: m.text, rule, document };
  return m.language === undefined ? { key: m.key, text: m.text, rule, document } : { key: m.key, text: m.text, language: m.language, rule, document };
}

/** Without a request to render for: plain text as is, a reference as its fallback (placeholders as written). */
export const describeWithoutRequest: DescribeRule = (rule, message) => reasonOf(renderWithoutRequest(message), rule.id, rule.policy);

/** `permission` checked against `decision`: the applied rules' effects replayed in order. */
export function checkPermission(decision: Decision, permission: string, describe: DescribeRule = describeWithoutRequest): CheckResult {
  return verdictResult(decision, verdictOf(decision, permission), describe);
}

/**
 * Which applied rule decided `permission` and whether it is allowed, as one small number
 * (no allocation; what the decision service memoizes per cached decision): bit 0 allowed,
 * the rest the deciding rule's index in `decision.applied` plus one (0: none decided, or
 * the path had no documents and the default patterns did). Read it with `verdictResult`.
 */
export function verdictOf(decision: Decision, permission: string): number {
  const segs = permission.split(':');
  if (decision.default) {
    // No document in the path: the configured default patterns decide.
    return decision.permissions.some((p) => matchSegments(mustParsePattern(p), segs)) ? 1 : 0;
  }
  const applied = decision.applied;
  let allowed = false;
  let blocked = false;
  let decisive = -1;
  /** the deny that blocked the permission: it stays the reason whatever follows */
  let blocker = -1;
  for (let i = 0; i < applied.length; i++) {
    const rule = applied[i]!;
    if (rule.grant.some((p) => matchSegments(p, segs))) {
      if (blocked) decisive = blocker;
      else {
        allowed = true;
        decisive = i;
      }
    }
    if (rule.revoke.some((p) => matchSegments(p, segs))) {
      allowed = false;
      decisive = i;
    }
    if (rule.deny.some((p) => matchSegments(p, segs))) {
      allowed = false;
      blocked = true;
      decisive = i;
      blocker = i;
    }
  }
  return (decisive + 1) * 2 + (allowed ? 1 : 0);
}

/** A verdict (`verdictOf`) as the check's answer: a denial decided by a rule with a message carries its reason. */
export function verdictResult(decision: Decision, verdict: number, describe: DescribeRule = describeWithoutRequest): CheckResult {
  const allowed = (verdict & 1) === 1;
  const rule = verdict < 2 ? undefined : decision.applied[(verdict >> 1) - 1];
  if (allowed || !rule || rule.message === undefined) return { allowed };
  return { allowed, reason: describe(rule, rule.message) };
}

/**
 * The rule that explains each pattern of `decision.denied`, when it carries a message:
 * the first deny of exactly that pattern (it blocks for good), else its last revoke.
 */
export function deniedBy(decision: Decision): Array<[pattern: string, rule: CompiledRule]> {
  const out: Array<[string, CompiledRule]> = [];
  if (decision.denied.length === 0 || !decision.applied.some((r) => r.message !== undefined)) return out;
  for (const pattern of decision.denied) {
    let blocker: CompiledRule | undefined;
    let revoker: CompiledRule | undefined;
    for (const rule of decision.applied) {
      if (!blocker && rule.deny.some((p) => p.text === pattern)) blocker = rule;
      if (rule.revoke.some((p) => p.text === pattern)) revoker = rule;
    }
    const rule = blocker ?? revoker;
    if (rule?.message !== undefined) out.push([pattern, rule]);
  }
  return out;
}
