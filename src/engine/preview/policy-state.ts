// A policy state that is not (yet) the live one: the stored documents as this replica
// holds them, or those with a preview's changes applied. Answers a request exactly as
// DecisionService would (same gathering, plans, typed inputs, fail-closed errors),
// without a cache and without touching the live state.

import type { CompiledPolicy } from '../../core/compile/types.js';
import { buildPlan, evaluatePlan, type PathPlan } from '../../core/evaluate/plan.js';
import { checkPermission } from '../../core/evaluate/check.js';
import type { Decision, DocumentTrace } from '../../core/evaluate/types.js';
import { parseNamespacePath, type NamespaceLimits } from '../../core/namespace.js';
import type { CompiledRegistry } from '../../core/registry/types.js';
import { PolicyEngineError } from '../../errors.js';
import { toSubject, type SubjectInput } from '../../core/request.js';
import { typeInputs } from '../../core/evaluate/typed-inputs.js';
import { LocalPolicies } from '../../testing/local-policies.js';

export interface StateInput {
  subject: SubjectInput;
  namespace: string;
  resource?: { type?: string; id?: string; attributes?: Record<string, unknown> };
  context?: Record<string, unknown>;
  permissions?: string[];
}

/** What a request gets from one state: the lists, or the error code it would be refused with. */
export interface StateAnswer {
  permissions: string[];
  denied: string[];
  default: boolean;
  /** the stable error code the service would answer with (no decision then) */
  error?: string;
  /** permission → allowed, for the permissions the request checks */
  checks?: Record<string, boolean>;
  trace?: DocumentTrace[];
}

export interface StateSettings {
  defaultPermissions: readonly string[];
  namespaceLimits: NamespaceLimits;
}

export class PolicyState {
  /** the documents, runnable or not, by key */
  readonly documents: ReadonlyMap<string, CompiledPolicy>;
  readonly local: LocalPolicies;
  private readonly plans = new Map<string, PathPlan>();

  /**
   * `broken`: keys of stored documents that do not compile, by namespace; a path
   * through one of them is refused (POLICY_STATE_BROKEN), as the live service does.
   */
  constructor(
    documents: readonly CompiledPolicy[],
    readonly registry: CompiledRegistry | undefined,
    private readonly broken: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly settings: StateSettings,
  ) {
    this.documents = new Map(documents.map((d) => [d.key, d]));
    this.local = new LocalPolicies(documents);
  }

  /** The stored test suites of this state, by key. */
  testSuites(): CompiledPolicy[] {
    return [...this.documents.values()].filter((d) => d.kind === 'tests').sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private plan(path: string, namespaces: readonly string[]): PathPlan {
    let plan = this.plans.get(path);
    if (!plan) {
      plan = buildPlan(this.local.gather(namespaces));
      this.plans.set(path, plan);
    }
    return plan;
  }

  /** Answer one request; errors are answers too (the code the service would send). */
  answer(input: StateInput, now: Date, explain = false): StateAnswer {
    let decision: Decision;
    try {
      const parsed = parseNamespacePath(input.namespace, this.settings.namespaceLimits);
      if (!parsed.ok) throw new PolicyEngineError('NAMESPACE_INVALID', parsed.reason);
      if (parsed.namespaces.some((ns) => this.broken.has(ns))) throw new PolicyEngineError('POLICY_STATE_BROKEN', 'a document in the path does not compile');
      const typed = typeInputs(this.registry, { subject: toSubject(input.subject), resource: input.resource, context: input.context });
      decision = evaluatePlan(this.plan(input.namespace, parsed.namespaces), { ...typed, namespaces: parsed.namespaces }, {
        explain,
        now,
        defaultPermissions: this.settings.defaultPermissions,
        registry: this.registry,
      });
    } catch (err) {
      // Fail closed: whatever broke, the answer grants nothing.
      const code = err instanceof PolicyEngineError ? err.code : 'INTERNAL';
      return { permissions: [], denied: [], default: false, error: code, ...(input.permissions ? { checks: Object.fromEntries(input.permissions.map((p) => [p, false])) } : {}) };
    }
    const out: StateAnswer = { permissions: decision.permissions, denied: decision.denied, default: decision.default };
    if (input.permissions) out.checks = Object.fromEntries(input.permissions.map((p) => [p, checkPermission(decision, p).allowed]));
    if (decision.trace) out.trace = decision.trace;
    return out;
  }
}
