// AuthZEN Authorization API 1.0 (OpenID Foundation) → our check request (SPEC §12). A
// PEP speaks in subjects, resources and actions with free-form `properties`; the one
// decision path speaks in subject ids, roles, groups, attributes, a namespace path and
// a permission. This is the only place that translates between the two, so every
// AuthZEN endpoint (evaluation, evaluations, the searches) decides exactly as /v1/check.

import { PolicyEngineError } from '../../errors.js';
import type { CheckRequest } from '../request.js';
import { inputBoundsProblem } from '../evaluate/conditions.js';

/** A subject or resource as AuthZEN sends it (`id` may be absent where a search omits it). */
export interface AuthzenEntity {
  type: string;
  id?: string;
  properties?: Record<string, unknown>;
}

export interface AuthzenAction {
  name: string;
  properties?: Record<string, unknown>;
}

/** One Access Evaluation request (the 4-tuple). */
export interface AuthzenEvaluation {
  subject: AuthzenEntity;
  action: AuthzenAction;
  resource: AuthzenEntity;
  context?: Record<string, unknown>;
}

/** An Access Evaluations request: defaults, items that override them, options. */
export interface AuthzenEvaluations {
  subject?: AuthzenEntity;
  action?: AuthzenAction;
  resource?: AuthzenEntity;
  context?: Record<string, unknown>;
  evaluations?: Array<Partial<AuthzenEvaluation>>;
  options?: { evaluations_semantic?: EvaluationsSemantic } & Record<string, unknown>;
}

export type EvaluationsSemantic = 'execute_all' | 'deny_on_first_deny' | 'permit_on_first_permit';

export const EVALUATIONS_SEMANTICS: readonly EvaluationsSemantic[] = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'];

export interface MappingSettings {
  /** the namespace path when neither context.namespace nor resource.properties.namespace names one (AUTHZEN_NAMESPACE) */
  defaultNamespace: string;
}

/** `type:id`: a type never holds `:` (the schema refuses it), so the ref is injective. */
export function entityRef(type: string, id: string): string {
  return `${type}:${id}`;
}

/** As /v1/check bounds a subject's roles and groups: 256 of them, 256 characters each. */
const MAX_LIST = 256;
const MAX_NAME = 256;

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_LIST || !value.every((v) => typeof v === 'string' && v.length <= MAX_NAME)) {
    throw new PolicyEngineError('REQUEST_INVALID', `${where} must be an array of at most ${MAX_LIST} strings of at most ${MAX_NAME} characters`);
  }
  return value as string[];
}

/** The namespace path: context.namespace, else resource.properties.namespace, else the configured one. */
export function namespaceOf(e: Pick<AuthzenEvaluation, 'resource' | 'context'>, settings: MappingSettings): string {
  const fromContext = e.context?.namespace;
  if (fromContext !== undefined) {
    if (typeof fromContext !== 'string') throw new PolicyEngineError('NAMESPACE_INVALID', 'context.namespace must be a string');
    return fromContext;
  }
  const fromResource = e.resource.properties?.namespace;
  if (fromResource !== undefined) {
    if (typeof fromResource !== 'string') throw new PolicyEngineError('NAMESPACE_INVALID', 'resource.properties.namespace must be a string');
    return fromResource;
  }
  return settings.defaultNamespace;
}

/** A subject as the decision path takes it (also a verified JWT's subject, docs/jwt.md). */
export interface SubjectObject {
  id: string;
  roles: string[];
  groups: string[];
  attributes: Record<string, unknown>;
}

/**
 * The subject as the decision path takes it: id `type:id`, `properties.roles` and
 * `properties.groups` as roles and groups, every other property an attribute.
 */
export function subjectOf(subject: AuthzenEntity, where = 'subject'): SubjectObject {
  if (subject.id === undefined) throw new PolicyEngineError('SUBJECT_INVALID', `${where}.id is required`);
  const { roles, groups, ...attributes } = subject.properties ?? {};
  return {
    id: entityRef(subject.type, subject.id),
    roles: stringList(roles, `${where}.properties.roles`),
    groups: stringList(groups, `${where}.properties.groups`),
    attributes,
  };
}

/**
 * Properties and context within the bounds conditions accept (SPEC §12: a PEP's body is
 * untrusted; a deep or huge one is a 400, whether or not a condition would read it).
 */
export function checkBounds(e: Pick<AuthzenEvaluation, 'subject' | 'resource' | 'context'> & { action?: AuthzenAction }): void {
  const problem = inputBoundsProblem([e.subject.properties ?? {}, e.resource.properties ?? {}, e.action?.properties ?? {}, e.context ?? {}]);
  if (problem !== undefined) throw new PolicyEngineError('REQUEST_INVALID', problem);
}

/**
 * One evaluation as a /v1/check request with a single permission; `as` (a verified JWT's
 * subject) replaces the evaluation's subject.
 */
export function toCheckRequest(e: AuthzenEvaluation, settings: MappingSettings, as?: SubjectObject): CheckRequest {
  checkBounds(e);
  const req: CheckRequest = {
    subject: as ?? subjectOf(e.subject),
    namespace: namespaceOf(e, settings),
    permission: e.action.name,
    resource: { type: e.resource.type, ...(e.resource.id !== undefined ? { id: e.resource.id } : {}), attributes: e.resource.properties ?? {} },
  };
  if (e.context !== undefined) req.context = e.context;
  return req;
}

/**
 * The evaluations of a batch with the top-level defaults applied: a key an item names
 * replaces the default whole (the standard's override is per key, not a deep merge).
 * A subject, action or resource that neither the item nor the defaults give is a 400.
 * An absent or empty `evaluations` is the single evaluation of the top level.
 */
export function expandEvaluations(req: AuthzenEvaluations): { single: boolean; items: AuthzenEvaluation[] } {
  const list = req.evaluations ?? [];
  const single = list.length === 0;
  const items = (single ? [{}] : list).map((item, i) => {
    const merged: Partial<AuthzenEvaluation> = {
      subject: item.subject ?? req.subject,
      action: item.action ?? req.action,
      resource: item.resource ?? req.resource,
      context: item.context ?? req.context,
    };
    const missing = (['subject', 'action', 'resource'] as const).filter((k) => merged[k] === undefined);
    if (missing.length > 0) {
      const where = single ? 'the request' : `evaluations[${i}]`;
      throw new PolicyEngineError('REQUEST_INVALID', `${where} has no ${missing.join(', ')} (neither its own nor a top-level default)`);
    }
    if (merged.context === undefined) delete merged.context;
    return merged as AuthzenEvaluation;
  });
  return { single, items };
}

/**
 * Runs the items in order under a semantic and returns the results the response lists:
 * all of them, or up to and including the first denial (deny_on_first_deny) or the first
 * permit (permit_on_first_permit). An item that failed counts as a denial.
 */
export function runEvaluations<R extends { decision: boolean }>(items: readonly AuthzenEvaluation[], semantic: EvaluationsSemantic, run: (e: AuthzenEvaluation, index: number) => R): R[] {
  const out: R[] = [];
  for (let i = 0; i < items.length; i++) {
    const r = run(items[i]!, i);
    out.push(r);
    if (semantic === 'deny_on_first_deny' && !r.decision) break;
    if (semantic === 'permit_on_first_permit' && r.decision) break;
  }
  return out;
}
