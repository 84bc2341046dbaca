// Deciding and applying one rule the subject matched, shared by the full walk and the
// plan path: its condition (CEL, then Lua) or its script decides what it applies. A
// failure never adds a permission and never lifts a restriction: a failed rule still
// applies its revoke and deny, and a failed script document denies everything after it
// (unless it says `onError: skip`).

import type { CompiledPolicy, CompiledRule } from '../compile/types.js';
import type { CompiledRegistry } from '../registry/types.js';
import { ConditionRunner, type ConditionOutcome } from './conditions.js';
import { failedScriptEffects } from './lua-runner.js';
import type { PermissionSummary } from './summary.js';
import type { ConditionFailure, EvaluationInput } from './types.js';
import type { RelationshipCheck } from '../condition/related.js';

export interface RuleContext {
  input: EvaluationInput;
  /** the clock conditions see; the current time when absent (read only if a condition runs) */
  now: Date | undefined;
  registry: CompiledRegistry | undefined;
  /** what conditions' `related()` asks */
  relationships?: RelationshipCheck;
  summary: PermissionSummary;
  applied: CompiledRule[];
  runner?: ConditionRunner;
  failures?: ConditionFailure[];
}

function apply(rule: CompiledRule, ctx: RuleContext): void {
  const { grant, revoke, deny } = rule;
  const s = ctx.summary;
  for (let i = 0; i < grant.length; i++) s.grant(grant[i]!);
  for (let i = 0; i < revoke.length; i++) s.revoke(revoke[i]!);
  for (let i = 0; i < deny.length; i++) s.deny(deny[i]!);
  ctx.applied.push(rule);
}

function fail(ctx: RuleContext, policy: CompiledPolicy, rule: CompiledRule, error: string): void {
  (ctx.failures ??= []).push({ document: policy.key, rule: rule.id, error });
}

/**
 * Decide and apply a matched rule. Returns what the trace shows: the condition's
 * outcome (undefined when the rule has none) and whether its effects applied.
 */
export function applyMatchedRule(policy: CompiledPolicy, rule: CompiledRule, ctx: RuleContext): { outcome?: ConditionOutcome; applied: boolean } {
  if (!rule.condition && !rule.lua && !rule.script) {
    apply(rule, ctx);
    return { applied: true };
  }
  ctx.runner ??= new ConditionRunner(ctx.input, ctx.now ?? new Date(), ctx.registry, ctx.relationships);
  if (rule.script) {
    const r = ctx.runner.runScript(policy, rule);
    if ('error' in r) {
      fail(ctx, policy, rule, r.error);
      const effects = failedScriptEffects(policy, rule, r.error);
      if (effects) apply(effects, ctx);
      return { outcome: { error: r.error }, applied: effects !== undefined };
    }
    if (r.effects) apply(r.effects, ctx);
    return { outcome: typeof r.value === 'boolean' ? { value: r.value } : undefined, applied: r.effects !== undefined };
  }
  const outcome = ctx.runner.holds(policy, rule);
  if ('error' in outcome) {
    fail(ctx, policy, rule, outcome.error);
    if (rule.revoke.length > 0 || rule.deny.length > 0) apply({ ...rule, grant: [] }, ctx);
    return { outcome, applied: false };
  }
  if (outcome.value) apply(rule, ctx);
  return { outcome, applied: outcome.value };
}
