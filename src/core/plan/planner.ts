// A query plan (SPEC §11): "which resources of this type may the subject <permission>
// here?" as a filter. The same compiled path plan and the same rule application as a
// decision (evaluate/plan.ts, evaluate/apply-rule.ts): rules run in the path's order,
// each matched by subject as in evaluatePlan. A rule whose behaviour does not depend on
// the resource is applied exactly as a decision applies it (applyMatchedRule: its
// condition, Lua chunk or script runs now); a rule whose condition reads the resource
// becomes a residual (residual.ts). The permission's answer is then checkPermission's
// replay (evaluate/check.ts) done over filters instead of booleans:
//
//   grant   allowed := allowed or (holds and not blocked)
//   revoke  allowed := allowed and isFalse          (an error applies it: fail closed)
//   deny    allowed := allowed and isFalse; blocked := blocked or not isFalse

import { matchSegments, mustParsePattern } from '../pattern.js';
import type { CompiledPolicy, CompiledRule } from '../compile/types.js';
import type { PathPlan } from '../evaluate/plan.js';
import { applyMatchedRule, type RuleContext } from '../evaluate/apply-rule.js';
import { subjectMatches } from '../evaluate/evaluate.js';
import { ConditionRunner } from '../evaluate/conditions.js';
import { Summary } from '../evaluate/summary.js';
import type { EvaluationInput } from '../evaluate/types.js';
import type { CompiledRegistry } from '../registry/types.js';
import type { RelationshipCheck } from '../condition/related.js';
import { PolicyEngineError } from '../../errors.js';
import { and, cmp, FALSE, not, or, sameFilter, TRUE, withJunctionMemo, type Filter } from './filter.js';
import { conditionTree, HOLDS, readsResource, Residualizer, Unsupported, type RelatedIds, type Residual } from './residual.js';

/** A rule the plan could not express: the plan over-approximates it, the caller re-checks. */
export interface RecheckRule {
  document: string;
  rule: string;
  reason: string;
}

export interface PathAnswer {
  filter: Filter;
  /** no rule had to be over-approximated */
  exact: boolean;
  recheck: RecheckRule[];
  /** no document on the path: the configured default answered */
  default: boolean;
}

export interface PlanOptions {
  /** one concrete permission */
  permission: string;
  now: Date;
  defaultPermissions: readonly string[];
  registry: CompiledRegistry | undefined;
  /** what conditions' related() asks when it does not read the resource */
  relationships?: RelationshipCheck;
  /** related() over the resource: the ids, bounded (throws PLAN_TOO_LARGE beyond the bound) */
  relatedIds?: RelatedIds;
  /** over-approximate what has no filter form instead of refusing */
  allowPartial: boolean;
}

/** Does a rule's behaviour depend on the resource (so it must become a residual)? */
function dependsOnResource(plan: PathPlan, i: number, rule: CompiledRule, registry: CompiledRegistry | undefined): boolean {
  const lua = rule.lua ?? rule.script;
  if (lua && (lua.reads === undefined || lua.reads.some((p) => p[0] === 'resource'))) return true;
  if (!rule.condition) return false;
  const reads = rule.condition.reads;
  let maybe = reads.predicates.size > 0;
  for (const p of reads.paths.values()) if (p[0] === 'resource') maybe = true;
  return maybe && readsResource(conditionTree(plan.owners[i]!, rule.condition.source, registry));
}

/** The filter of one permission over one namespace path's plan; `input` carries no resource attributes. */
export function planPath(plan: PathPlan, input: EvaluationInput, options: PlanOptions): PathAnswer {
  return withJunctionMemo(() => foldPath(plan, input, options));
}

/** A rule of a path that touches one permission (or is a script), with what does not depend on the subject. */
interface Step {
  readonly position: number;
  readonly rule: CompiledRule;
  readonly owner: CompiledPolicy;
  readonly grant: boolean;
  readonly revoke: boolean;
  readonly deny: boolean;
  /** whether the rule's behaviour reads the resource, once known (working it out may throw: then it is not kept) */
  depends: boolean | undefined;
}

interface PathSteps {
  registry: CompiledRegistry | undefined;
  byPermission: Map<string, Step[]>;
}

/** Steps per compiled path plan (a plan lives as long as its policy revision) and permission. */
const pathSteps = new WeakMap<PathPlan, PathSteps>();
/** Permissions remembered per path plan (a client chooses them; beyond this, they are worked out again). */
const PERMISSIONS_PER_PATH = 256;

const matchesAny = (list: CompiledRule['grant'], segs: readonly string[]): boolean => list.some((p) => matchSegments(p, segs));

function stepsFor(plan: PathPlan, permission: string, segs: readonly string[], registry: CompiledRegistry | undefined): Step[] {
  let known = pathSteps.get(plan);
  if (!known || known.registry !== registry) pathSteps.set(plan, (known = { registry, byPermission: new Map() }));
  let steps = known.byPermission.get(permission);
  if (steps) return steps;
  steps = [];
  for (let i = 0; i < plan.rules.length; i++) {
    const rule = plan.rules[i]!;
    const grant = matchesAny(rule.grant, segs), revoke = matchesAny(rule.revoke, segs), deny = matchesAny(rule.deny, segs);
    if (!rule.script && !grant && !revoke && !deny) continue;
    steps.push({ position: i, rule, owner: plan.owners[i]!, grant, revoke, deny, depends: undefined });
  }
  if (known.byPermission.size >= PERMISSIONS_PER_PATH) known.byPermission.clear();
  known.byPermission.set(permission, steps);
  return steps;
}

function foldPath(plan: PathPlan, input: EvaluationInput, options: PlanOptions): PathAnswer {
  const segs = options.permission.split(':');
  if (plan.policies.length === 0) {
    const allowed = options.defaultPermissions.some((p) => matchSegments(mustParsePattern(p), segs));
    return { filter: allowed ? TRUE : FALSE, exact: true, recheck: [], default: true };
  }
  const ctx: RuleContext = { input, now: options.now, registry: options.registry, relationships: options.relationships, summary: new Summary(), applied: [] };
  const runner = (ctx.runner = new ConditionRunner(input, options.now, options.registry, options.relationships));
  let allowed: Filter = FALSE;
  let blocked: Filter = FALSE;
  const recheck: RecheckRule[] = [];
  // Steps that cannot change the state are skipped before any junction is built (a grant
  // of nothing or onto everything, a revoke or deny that never applies, a revoke of nothing).
  const fold = (grant: boolean, revoke: boolean, deny: boolean, c: Residual): void => {
    if (grant && allowed !== TRUE && blocked !== TRUE) {
      const t = c.t;
      if (t !== FALSE) allowed = or(allowed, blocked === FALSE ? t : and(t, not(blocked)));
    }
    if ((revoke || deny) && c.f !== TRUE) {
      if (allowed !== FALSE) allowed = and(allowed, c.f);
      if (deny) blocked = or(blocked, not(c.f));
    }
  };
  for (const step of stepsFor(plan, options.permission, segs, options.registry)) {
    const { rule, owner } = step;
    if (!subjectMatches(rule.subjects, input.subject)) continue;
    const depends = (step.depends ??= dependsOnResource(plan, step.position, rule, options.registry));
    if (!depends) {
      const before = ctx.applied.length;
      applyMatchedRule(owner, rule, ctx);
      for (let j = before; j < ctx.applied.length; j++) {
        const applied = ctx.applied[j]!;
        fold(matchesAny(applied.grant, segs), matchesAny(applied.revoke, segs), matchesAny(applied.deny, segs), HOLDS);
      }
      continue;
    }
    let residual: Residual;
    try {
      if (rule.lua || rule.script || !rule.condition) throw new Unsupported(rule.script ? 'a Lua script reading the resource' : 'a Lua chunk reading the resource');
      const r = new Residualizer({
        activation: runner.activation(owner), budget: runner.budget, registry: options.registry,
        resourceType: input.resource?.type, subjectId: input.subject.id, related: options.relatedIds,
      }, owner);
      residual = r.condition(conditionTree(owner, rule.condition.source, options.registry));
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      if (!options.allowPartial) {
        throw new PolicyEngineError('PLAN_UNSUPPORTED', `document ${owner.key}, rule ${rule.id}: ${err.message}`, [{ document: owner.key, rule: rule.id, reason: err.message }]);
      }
      recheck.push({ document: owner.key, rule: rule.id, reason: err.message });
      // grants apply, revokes and denies do not: the plan can only grow
      residual = { t: TRUE, f: TRUE };
    }
    // a script's effects are only known when it runs: a grant of everything (unreachable without a partial plan)
    if (rule.script) fold(true, false, false, residual);
    else fold(step.grant, step.revoke, step.deny, residual);
  }
  return { filter: allowed, exact: recheck.length === 0, recheck, default: false };
}

/** One branch of a wildcard plan: a stored namespace `<type>:<id>` and its path's answer. */
export interface Branch {
  id: string;
  answer: PathAnswer;
}

/**
 * `…<type>:*`: one branch per stored namespace whose answer differs from the others',
 * and the others' answer for every other id (SPEC §11).
 */
export function combineBranches(type: string, branches: readonly Branch[], others: PathAnswer): PathAnswer {
  return withJunctionMemo(() => combine(type, branches, others));
}

function combine(type: string, branches: readonly Branch[], others: PathAnswer): PathAnswer {
  const field = `namespace.${type}`;
  const kept = branches.filter((b) => !sameFilter(b.answer.filter, others.filter) || b.answer.exact !== others.exact);
  const ids = kept.map((b) => b.id);
  const filter = or(
    ...kept.map((b) => and(cmp('eq', field, b.id), b.answer.filter)),
    and(ids.length > 0 ? and(cmp('exists', field, true), not(cmp('in', field, ids))) : TRUE, others.filter),
  );
  const all = [...kept.map((b) => b.answer), others];
  const recheck = new Map<string, RecheckRule>();
  for (const a of all) for (const r of a.recheck) recheck.set(`${r.document}\u0000${r.rule}`, r);
  return { filter, exact: all.every((a) => a.exact), recheck: [...recheck.values()], default: others.default };
}
