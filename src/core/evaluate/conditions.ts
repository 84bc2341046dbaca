// Running conditions during one evaluation: one activation per request (inputs with
// integers as CEL ints), one per document (its namespace, its predicates evaluated at
// most once). A condition that errors makes its rule not apply — never a grant.
// All CEL of one decision shares one cost budget (condition/budget.ts): past it, the
// condition running and every later one fail with CEL_BUDGET_EXCEEDED.

import type { CompiledPolicy, CompiledRule } from '../compile/types.js';
import type { EvaluationInput } from './types.js';
import type { CompiledRegistry } from '../registry/types.js';
import { LuaRunner, type ScriptOutcome } from './lua-runner.js';
import { decisionBudget, enterBudget, leaveBudget } from '../condition/budget.js';
import { RELATIONSHIPS_VARIABLE, type RelationshipCheck } from '../condition/related.js';

const MAX_INPUT_NODES = 20_000;
const MAX_INPUT_DEPTH = 16;

/** Why request inputs are beyond what conditions accept, or undefined (iterative: any depth is safe). */
export function inputBoundsProblem(values: readonly unknown[]): string | undefined {
  let nodes = 0;
  const stack: Array<[unknown, number]> = values.map((v) => [v, 0]);
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (++nodes > MAX_INPUT_NODES) return `request inputs are larger than ${MAX_INPUT_NODES} values`;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_INPUT_DEPTH) return `request inputs nest deeper than ${MAX_INPUT_DEPTH} levels`;
    for (const child of Object.values(v as object)) stack.push([child, depth + 1]);
  }
  return undefined;
}

export type ConditionOutcome = { value: boolean } | { error: string };

/** JSON numbers that are integers become BigInt (CEL `int`), so `context.hour == 9` holds. */
function toCel(value: unknown, budget: { nodes: number }, depth: number): unknown {
  if (--budget.nodes < 0) throw new Error(`request inputs are larger than ${MAX_INPUT_NODES} values`);
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_INPUT_DEPTH) throw new Error(`request inputs nest deeper than ${MAX_INPUT_DEPTH} levels`);
  if (Array.isArray(value)) return value.map((v) => toCel(v, budget, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toCel(v, budget, depth + 1);
  return out;
}

function errorText(err: unknown): string {
  const e = err as { summary?: string; message?: string };
  return (e.summary ?? e.message ?? String(err)).split('\n')[0]!.slice(0, 300);
}

export class ConditionRunner {
  private base: object | undefined;
  private inputError: string | undefined;
  private readonly perDocument = new Map<CompiledPolicy, object>();
  /** predicate results of the last traced document, for explain */
  readonly predicateValues = new Map<string, ConditionOutcome>();

  private lua: LuaRunner | undefined;
  /** the CEL cost budget of this decision, shared by all its conditions and predicates */
  readonly budget = decisionBudget();

  constructor(
    private readonly input: EvaluationInput,
    private readonly now: Date,
    private readonly registry?: CompiledRegistry,
    /** what `related()` asks (none: it fails, and its rule does not apply) */
    private readonly relationships?: RelationshipCheck,
  ) {}

  private luaRunner(): LuaRunner {
    this.lua ??= new LuaRunner(this.input, this.now, this.registry);
    return this.lua;
  }

  /** Facts emitted by scripts so far (shared with the CEL activation as `facts`). */
  get facts(): Record<string, unknown> {
    return this.luaRunner().facts;
  }

  /** A copy of the facts scripts emitted, or undefined when none were (no Lua state is made for this). */
  emittedFacts(): Record<string, unknown> | undefined {
    const facts = this.lua?.facts;
    return facts && Object.keys(facts).length > 0 ? { ...facts } : undefined;
  }

  runScript(policy: CompiledPolicy, rule: CompiledRule): ScriptOutcome {
    return this.luaRunner().runScript(policy, rule);
  }

  private baseActivation(): object | undefined {
    if (this.base || this.inputError) return this.base;
    try {
      const budget = { nodes: MAX_INPUT_NODES };
      // Registry-typed inputs arrive validated and converted; untyped ones get CEL ints.
      const convert = this.input.typedInputs ? (v: unknown) => v : (v: unknown) => toCel(v, budget, 0);
      const s = this.input.subject;
      const r = this.input.resource;
      // Conditions only read: the request's arrays are shared, not copied.
      this.base = {
        subject: { id: s.id, roles: s.roles, groups: s.groups, attributes: convert(s.attributes ?? {}) },
        context: convert(this.input.context ?? {}),
        resource: r ? { ...(r.type !== undefined ? { type: r.type } : {}), ...(r.id !== undefined ? { id: r.id } : {}), attributes: convert(r.attributes ?? {}) } : { attributes: {} },
        facts: this.facts,
        now: this.now,
        [RELATIONSHIPS_VARIABLE]: this.relationships,
      };
    } catch (err) {
      this.inputError = errorText(err);
    }
    return this.base;
  }

  /** Documents without predicates share one plain activation per namespace. */
  private readonly perNamespace = new Map<string, object>();

  /** the activation a document's conditions run in (the query planner evaluates parts of conditions in it) */
  activation(policy: CompiledPolicy): object | undefined {
    const known = this.perDocument.get(policy);
    if (known) return known;
    const base = this.baseActivation() as Record<string, unknown> | undefined;
    if (!base) return undefined;
    if (policy.predicates.size === 0) {
      let shared = this.perNamespace.get(policy.namespace);
      if (!shared) {
        // A fresh literal of a fixed shape: cheaper to build and to read than a prototype chain.
        shared = { subject: base.subject, context: base.context, resource: base.resource, facts: base.facts, now: base.now, ns: { name: policy.namespace, path: this.input.namespaces }, [RELATIONSHIPS_VARIABLE]: base[RELATIONSHIPS_VARIABLE] };
        this.perNamespace.set(policy.namespace, shared);
      }
      this.perDocument.set(policy, shared);
      return shared;
    }
    const act: Record<string, unknown> = Object.create(base);
    act.ns = { name: policy.namespace, path: this.input.namespaces };
    const cache = new Map<string, ConditionOutcome>();
    const inProgress = new Set<string>();
    for (const [name, predicate] of policy.predicates) {
      Object.defineProperty(act, name, {
        enumerable: true,
        get: () => {
          let outcome = cache.get(name);
          if (!outcome) {
            // Cycles are refused at write time; this guard only keeps a bug from looping.
            if (inProgress.has(name)) throw new Error(`predicate ${name} refers to itself`);
            inProgress.add(name);
            try {
              const v = predicate.run(act);
              outcome = typeof v === 'boolean' ? { value: v } : { error: `predicate ${name} is not a bool` };
            } catch (err) {
              outcome = { error: this.budget.reason() ?? `predicate ${name}: ${errorText(err)}` };
            } finally {
              inProgress.delete(name);
            }
            cache.set(name, outcome);
            this.predicateValues.set(`${policy.key}/${name}`, outcome);
          }
          if ('error' in outcome) throw new Error(outcome.error);
          return outcome.value;
        },
      });
    }
    this.perDocument.set(policy, act);
    return act;
  }

  /** Does the rule's condition hold (its `when`, then its `lua:` chunk)? Rules without either always do. */
  holds(policy: CompiledPolicy, rule: CompiledRule): ConditionOutcome {
    const condition = rule.condition;
    if (condition) {
      const act = this.activation(policy);
      if (!act) return { error: this.inputError ?? 'invalid request inputs' };
      const budget = this.budget;
      const spent = budget.reason();
      if (spent) return { error: spent };
      const previous = enterBudget(budget);
      try {
        const v = condition.run(act);
        if (typeof v !== 'boolean') return { error: 'the condition did not yield a bool' };
        if (!v) return { value: false };
      } catch (err) {
        // a spent budget is the reason, whichever error a comprehension kept
        return { error: budget.reason() ?? errorText(err) };
      } finally {
        leaveBudget(previous);
      }
    }
    if (rule.lua) return this.luaRunner().ruleHolds(policy, rule);
    return { value: true };
  }
}
