// Local documents as a plan service (no store): the same preparation and planner as the server.
import { loadDocument } from '../../../src/core/compile/load-document.js';
import type { CompiledPolicy } from '../../../src/core/compile/types.js';
import { LocalPolicies } from '../../../src/core/evaluate/local-policies.js';
import { checkAll, evaluatePrepared, prepareDecision, type DecisionSources, type PreparedDecision } from '../../../src/core/evaluate/decide.js';
import { PlanService, type PlanRequest, type PlanResponse } from '../../../src/engine/plan-service.js';
import type { RelatedIds } from '../../../src/core/plan/residual.js';
import type { RelationshipCheck } from '../../../src/core/condition/related.js';

export const NOW = new Date('2026-03-04T10:00:00Z');

export function compile(...texts: string[]): CompiledPolicy[] {
  return texts.map((text) => {
    const r = loadDocument(text, text.trimStart().startsWith('{') ? 'json' : 'yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.loaded.policy;
  });
}

export interface LocalPlanner {
  plan(req: PlanRequest): PlanResponse;
  /** what /v1/check answers for one resource */
  check(req: { subject: PlanRequest['subject']; namespace: string; permission: string; context?: Record<string, unknown>; resource: { type: string; id?: string; attributes?: Record<string, unknown> } }): boolean;
}

export function localPlanner(policies: readonly CompiledPolicy[], options: { defaultPermissions?: string[]; relationships?: RelationshipCheck; relatedIds?: RelatedIds } = {}): LocalPlanner {
  const local = new LocalPolicies(policies);
  const sources: DecisionSources = { registry: undefined, stored: () => local };
  const defaultPermissions = options.defaultPermissions ?? ['*'];
  const service = new PlanService({
    manager: { storedNamespaces: () => local.storedNamespaces(), isStale: () => false, isLoaded: () => true, revision: '1' },
    sources, defaultPermissions, namespaceLimits: { maxDepth: 32, maxLength: 128 }, clock: () => NOW.getTime(),
    ...(options.relationships ? { relationships: options.relationships } : {}),
    ...(options.relatedIds ? { relatedIds: options.relatedIds } : {}),
  });
  const prepares = new Map<string, PreparedDecision>();
  return {
    plan: (req) => service.plan(req),
    check(req) {
      // decide(), prepared once per path (no registry: inputs are taken as sent) and evaluated per resource
      const key = `${JSON.stringify(req.subject)}\u0000${req.namespace}\u0000${JSON.stringify(req.context)}`;
      let prepared = prepares.get(key);
      if (!prepared) {
        prepared = prepareDecision({ subject: req.subject, namespace: req.namespace, context: req.context } as never, sources);
        prepares.set(key, prepared);
      }
      const decision = evaluatePrepared({ ...prepared, inputs: { ...prepared.inputs, resource: req.resource } }, {
        defaultPermissions, now: NOW, ...(options.relationships ? { relationships: options.relationships } : {}),
      });
      return checkAll(decision, [req.permission])[0]![1].allowed;
    },
  };
}
