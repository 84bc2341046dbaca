// A policy state that is not (yet) the live one: the stored documents as this replica
// holds them, or those with a preview's changes applied. Answers a request exactly as
// DecisionService would (the same decision function: core/evaluate/decide.ts),
// without a cache and without touching the live state.

import type { CompiledPolicy } from '../../core/compile/types.js';
import type { PathPlan } from '../../core/evaluate/plan.js';
import type { Decision, DocumentTrace } from '../../core/evaluate/types.js';
import type { NamespaceLimits } from '../../core/namespace.js';
import type { CompiledRegistry } from '../../core/registry/types.js';
import type { RelationshipCheck } from '../../core/condition/related.js';
import type { EntityLookup } from '../../core/entities/entity.js';
import type { SubjectInput } from '../../core/request.js';
import type { RelatedIds } from '../../core/plan/residual.js';
import { checkAll, decide, type DecisionSources, type DocumentSource } from '../../core/evaluate/decide.js';
import { PolicyEngineError } from '../../errors.js';
import { LocalPolicies } from '../../core/evaluate/local-policies.js';
import { PlanService, type PlanRequest, type PlanResponse } from '../plan-service.js';

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
  /** what conditions' related() asks (the live relationships: a preview changes policies only) */
  relationships?: RelationshipCheck;
  /** the live directory, merged into every request (a preview changes policies only) */
  entities?: EntityLookup;
  /** what plans turn related() over the resource into (`id in [...]`, the live relationships) */
  relatedIds?: RelatedIds;
}

/** One plan of a preview (SPEC §11 answer), or the error code and message POST /v1/plan would refuse it with. */
export type StatePlan = PlanResponse | { error: string; message: string; details?: unknown };

export class PolicyState implements DocumentSource {
  /** the documents, runnable or not, by key */
  readonly documents: ReadonlyMap<string, CompiledPolicy>;
  readonly local: LocalPolicies;
  private readonly sources: DecisionSources;

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
    this.sources = { registry, stored: () => this, ...(settings.entities ? { entities: settings.entities } : {}) };
  }

  get catalogues() {
    return this.local.catalogues;
  }

  pathPlan(path: string, namespaces: readonly string[]): PathPlan {
    if (namespaces.some((ns) => this.broken.has(ns))) throw new PolicyEngineError('POLICY_STATE_BROKEN', 'a document in the path does not compile');
    return this.local.pathPlan(path, namespaces);
  }

  document(key: string): { policy: CompiledPolicy; plan: PathPlan } | 'broken' | undefined {
    if ([...this.broken.values()].some((keys) => keys.has(key))) return 'broken';
    return this.local.document(key);
  }

  /** Namespaces holding documents that run (disabled ones included), and those holding broken ones: what a `<type>:*` plan branches on. */
  storedNamespaces(): string[] {
    return [...new Set([...this.local.storedNamespaces(), ...this.broken.keys()])];
  }

  /**
   * Plan requests answered as POST /v1/plan would under this state (PlanService over
   * these documents); `revision` and `stale` are what the answers report. A refusal is
   * an answer too: its code and message, never a failed preview.
   */
  plans(requests: readonly PlanRequest[], now: Date, revision: string, stale: boolean): StatePlan[] {
    const service = new PlanService({
      manager: { storedNamespaces: () => this.storedNamespaces(), isStale: () => stale, isLoaded: () => true, revision },
      sources: this.sources,
      defaultPermissions: this.settings.defaultPermissions,
      namespaceLimits: this.settings.namespaceLimits,
      clock: () => now.getTime(),
      ...(this.settings.relationships ? { relationships: this.settings.relationships } : {}),
      ...(this.settings.relatedIds ? { relatedIds: this.settings.relatedIds } : {}),
    });
    return requests.map((r) => {
      try {
        return service.plan(r);
      } catch (err) {
        // Fail closed, as answers do: whatever broke, this plan gives no filter.
        if (err instanceof PolicyEngineError) return { error: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) };
        return { error: 'INTERNAL', message: 'the plan failed' };
      }
    });
  }

  /** The stored test suites of this state, by key. */
  testSuites(): CompiledPolicy[] {
    return [...this.documents.values()].filter((d) => d.kind === 'tests').sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Answer one request; errors are answers too (the code the service would send). */
  answer(input: StateInput, now: Date, explain = false): StateAnswer {
    let decision: Decision;
    try {
      decision = decide({ subject: input.subject, namespace: input.namespace, resource: input.resource, context: input.context }, this.sources, {
        explain,
        now,
        defaultPermissions: this.settings.defaultPermissions,
        namespaceLimits: this.settings.namespaceLimits,
        relationships: this.settings.relationships,
      }).decision;
    } catch (err) {
      // Fail closed: whatever broke, the answer grants nothing.
      const code = err instanceof PolicyEngineError ? err.code : 'INTERNAL';
      return { permissions: [], denied: [], default: false, error: code, ...(input.permissions ? { checks: Object.fromEntries(input.permissions.map((p) => [p, false])) } : {}) };
    }
    const out: StateAnswer = { permissions: decision.permissions, denied: decision.denied, default: decision.default };
    if (input.permissions) out.checks = Object.fromEntries(checkAll(decision, input.permissions).map(([p, r]) => [p, r.allowed]));
    if (decision.trace) out.trace = decision.trace;
    return out;
  }
}
