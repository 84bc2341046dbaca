// AuthZEN Authorization API 1.0 over the decision service (SPEC §12): every evaluation
// is a /v1/check through DecisionService.checkDetailed, so the cache, the stale-state
// refusal and the directory merge are the same as for our own API. This file only
// maps requests (core/authzen/mapping.ts), applies the batch semantics and shapes the
// answers the standard expects.

import { PolicyEngineError, statusOf } from '../errors.js';
import type { CheckRequest, CheckResponse, RequestMeta } from '../core/request.js';
import type { Decision, Reason } from '../core/evaluate/types.js';
import {
  expandEvaluations, runEvaluations, toCheckRequest,
  type AuthzenEvaluation, type AuthzenEvaluations, type MappingSettings,
} from '../core/authzen/mapping.js';
import type { DecisionService } from './decision-service.js';
import type { PlanRequest, PlanResponse } from './plan-service.js';
import { matches } from '../core/plan/filter.js';
import type { CompiledRule } from '../core/compile/types.js';
import { parseNamespacePath } from '../core/namespace.js';
import {
  MAX_CANDIDATES, actionCandidates, decodeToken, encodeToken, pageOf, searchDigest, subjectCandidates,
} from '../core/authzen/search.js';
import { checkBounds, entityRef, namespaceOf, subjectOf, type AuthzenEntity, type AuthzenAction, type SubjectObject } from '../core/authzen/mapping.js';

/** Where search candidates come from besides the policies (each optional). */
export interface SearchSources {
  /** the rules of a namespace path (the policy manager's snapshot) */
  pathRules?(path: string, namespaces: readonly string[]): readonly CompiledRule[];
  /** ids of subjects of a type that may hold a relationship permission on a resource (lookup-subjects) */
  relatedSubjects?(resource: string, permission: string, subjectType: string, limit: number): Promise<string[]>;
  /** ids of stored entities of a type (the directory) */
  directoryIds?(type: string, limit: number): Promise<string[]>;
  /** a stored entity (`type:id`) of the directory, whose attributes a plan's `attributes.*` terms read */
  directoryEntity?(ref: string): { attributes?: Record<string, unknown> } | undefined;
  /** ids of resources of a type that relationship tuples name */
  relatedResources?(type: string, limit: number): Promise<string[]>;
  /** the permissions the relationship schema defines on a type (`read` on `document`) */
  relationPermissions?(type: string): string[];
  /** the query plan of SPEC §11 (POST /v1/plan): which resources of a type the subject may act on */
  plan?(req: PlanRequest): Pick<PlanResponse, 'filter' | 'exact'>;
}

export interface SearchRequest {
  subject: AuthzenEntity;
  action?: AuthzenAction;
  resource: AuthzenEntity;
  context?: Record<string, unknown>;
  page?: { token?: string; limit?: number };
}

export interface SearchPage {
  page?: { next_token: string; count: number };
  results: Array<{ type: string; id: string } | { name: string }>;
}

/** What the standard answers for one evaluation. */
export interface AuthzenDecision {
  decision: boolean;
  context?: { reason?: Reason; error?: { status: number; code: string; message: string } };
}

/** One evaluation as observers (decision log, metrics) see it. */
export interface AuthzenObserved {
  request: CheckRequest;
  response?: CheckResponse;
  decision?: Decision;
  error?: unknown;
}

export type Observe = (o: AuthzenObserved) => void;

export interface AuthzenServiceOptions extends MappingSettings {
  decisions: DecisionService;
  search?: SearchSources;
  /** the page size of a search without page.limit */
  defaultPageLimit?: number;
}

/** The attribute at a plan field's dotted `path` (own properties only); undefined when missing. */
function attributeAt(attributes: Record<string, unknown> | undefined, path: string): unknown {
  let cur: unknown = attributes;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function decisionOf(r: CheckResponse): AuthzenDecision {
  const allowed = r.allowed === true;
  return allowed || !r.reason ? { decision: allowed } : { decision: false, context: { reason: r.reason } };
}

export class AuthzenService {
  constructor(private readonly options: AuthzenServiceOptions) {}

  /**
   * Check one evaluation; errors propagate (the single endpoint answers them as HTTP
   * errors). `as`, here and in every method below: a verified JWT's subject, which the
   * request is about instead of the one it names (docs/jwt.md).
   */
  private check(e: AuthzenEvaluation, meta: RequestMeta, observe?: Observe, as?: SubjectObject): AuthzenDecision {
    let request: CheckRequest | undefined;
    try {
      request = toCheckRequest(e, this.options, as);
      const { response, decision } = this.options.decisions.checkDetailed(request, meta);
      observe?.({ request, response, decision });
      return decisionOf(response);
    } catch (err) {
      if (request) observe?.({ request, error: err });
      throw err;
    }
  }

  /** POST /access/v1/evaluation */
  evaluation(e: AuthzenEvaluation, meta: RequestMeta = {}, observe?: Observe, as?: SubjectObject): AuthzenDecision {
    return this.check(e, meta, observe, as);
  }

  /**
   * POST /access/v1/evaluations. An item the decision path refuses (a bad namespace or
   * action name) is a denial carrying its error, as the standard describes errors in
   * individual evaluations; a server-side failure (5xx: store unreachable, broken
   * state) concerns the whole payload and fails the request.
   */
  evaluations(req: AuthzenEvaluations, meta: RequestMeta = {}, observe?: Observe, as?: SubjectObject): AuthzenDecision | { evaluations: AuthzenDecision[] } {
    const { single, items } = expandEvaluations(req);
    if (single) return this.check(items[0]!, meta, observe, as);
    const semantic = req.options?.evaluations_semantic ?? 'execute_all';
    const evaluations = runEvaluations(items, semantic, (e) => {
      try {
        return this.check(e, meta, observe, as);
      } catch (err) {
        if (!(err instanceof PolicyEngineError) || statusOf(err.code) >= 500) throw err;
        return { decision: false, context: { error: { status: statusOf(err.code), code: err.code, message: err.message } } };
      }
    });
    return { evaluations };
  }

  /**
   * A search as its decision-log line shows it (a check: the subject, or the token's; the
   * namespace path; the action as the permission; the resource). Never throws: a request
   * that failed is logged too. A subject search names no subject, unless a token does.
   */
  searchAsCheck(req: SearchRequest, as?: SubjectObject): Omit<CheckRequest, 'subject'> & { subject?: CheckRequest['subject'] } {
    const orElse = <T>(f: () => T, otherwise: T): T => {
      try {
        return f();
      } catch {
        return otherwise;
      }
    };
    const namespace = orElse<string | undefined>(() => namespaceOf({ resource: req.resource, ...(req.context ? { context: req.context } : {}) }, this.options), undefined);
    const { id, type } = req.subject;
    const subject = as ?? (id !== undefined ? orElse<CheckRequest['subject']>(() => subjectOf(req.subject), entityRef(type, id)) : undefined);
    return {
      ...(subject !== undefined ? { subject } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      ...(req.action ? { permission: req.action.name } : {}),
      resource: { type: req.resource.type, ...(req.resource.id !== undefined ? { id: req.resource.id } : {}), ...(req.resource.properties ? { attributes: req.resource.properties } : {}) },
      ...(req.context ? { context: req.context } : {}),
    };
  }

  private rulesOf(namespace: string): readonly CompiledRule[] {
    const parsed = parseNamespacePath(namespace);
    if (!parsed.ok) throw new PolicyEngineError('NAMESPACE_INVALID', parsed.reason);
    return this.options.search?.pathRules?.(namespace, parsed.namespaces) ?? [];
  }

  private paging(req: SearchRequest): { after?: string; limit: number; digest: string } {
    checkBounds(req);
    const digest = searchDigest(req as unknown as Record<string, unknown>);
    const token = req.page?.token;
    return { digest, limit: req.page?.limit ?? this.options.defaultPageLimit ?? 100, ...(token ? { after: decodeToken(token, digest) } : {}) };
  }

  private static answer(results: SearchPage['results'], next: string | undefined, digest: string, paged: boolean): SearchPage {
    const next_token = next === undefined ? '' : encodeToken(next, digest);
    return paged || next_token !== '' ? { page: { next_token, count: results.length }, results } : { results };
  }

  /**
   * POST /access/v1/search/subject: the subjects of `subject.type` that may perform the
   * action on the resource. Candidates: the subjects of that type the path's policies
   * name, the directory's, and the relationship graph's (lookup-subjects, when its schema
   * knows the action as a permission); each is checked like an evaluation. With `as` (a
   * verified JWT) the only candidate is the token's subject, when it is of that type: a
   * caller holding a token learns nothing about other subjects.
   */
  async searchSubject(req: SearchRequest, meta: RequestMeta = {}, as?: SubjectObject): Promise<SearchPage> {
    const paging = this.paging(req);
    const namespace = namespaceOf({ resource: req.resource, ...(req.context ? { context: req.context } : {}) }, this.options);
    const type = req.subject.type;
    const found = new Set<string>();
    const sources = this.options.search;
    if (as !== undefined) {
      if (as.id.startsWith(`${type}:`)) found.add(as.id.slice(type.length + 1));
    } else {
      for (const id of subjectCandidates(this.rulesOf(namespace), type)) found.add(id);
      for (const id of (await sources?.directoryIds?.(type, MAX_CANDIDATES)) ?? []) found.add(id);
      if (sources?.relatedSubjects && req.resource.id !== undefined) {
        for (const id of await sources.relatedSubjects(`${req.resource.type}:${req.resource.id}`, req.action!.name, type, MAX_CANDIDATES)) found.add(id);
      }
    }
    const sorted = [...found].sort().slice(0, MAX_CANDIDATES);
    const { results, next } = pageOf(sorted, paging.after, paging.limit, (id) => {
      const e: AuthzenEvaluation = { subject: { type, id }, action: req.action!, resource: req.resource, ...(req.context ? { context: req.context } : {}) };
      return this.check(e, meta, undefined, as).decision;
    });
    return AuthzenService.answer(results.map((id) => ({ type, id })), next, paging.digest, req.page !== undefined);
  }

  /**
   * POST /access/v1/search/resource: the resources of `resource.type` the subject may
   * perform the action on. The query plan (SPEC §11) for the subject, action and path is
   * run over the candidates (the directory's entities of that type and the resources
   * relationship tuples name); a plan that is not exact is confirmed by a check.
   */
  async searchResource(req: SearchRequest, meta: RequestMeta = {}, as?: SubjectObject): Promise<SearchPage> {
    const sources = this.options.search;
    if (!sources?.plan) throw new PolicyEngineError('STORE_DISABLED', 'resource search needs stored policies (query plans)');
    const paging = this.paging(req);
    const namespace = namespaceOf({ resource: req.resource, ...(req.context ? { context: req.context } : {}) }, this.options);
    const type = req.resource.type;
    const subject = as ?? subjectOf(req.subject);
    const plan = sources.plan({ subject, namespace, permission: req.action!.name, resource: { type }, allowPartial: true, ...(req.context ? { context: req.context } : {}) });
    const found = new Set<string>();
    for (const id of (await sources.directoryIds?.(type, MAX_CANDIDATES)) ?? []) found.add(id);
    for (const id of (await sources.relatedResources?.(type, MAX_CANDIDATES)) ?? []) found.add(id);
    const sorted = [...found].sort().slice(0, MAX_CANDIDATES);
    const namespaceIds = new Map(namespace.split('.').flatMap((ns) => {
      const i = ns.indexOf(':');
      return i > 0 ? [[ns.slice(0, i), ns.slice(i + 1)] as const] : [];
    }));
    const { results, next } = pageOf(sorted, paging.after, paging.limit, (id) => {
      // The candidate as /v1/check sees it: its id, the path's namespaces, the directory's attributes
      // (a resource only relationships name has none: a condition on one fails, as in check).
      const attributes = sources.directoryEntity?.(`${type}:${id}`)?.attributes;
      const inFilter = matches(plan.filter, (field) => field === 'id' ? id
        : field.startsWith('namespace.') ? namespaceIds.get(field.slice('namespace.'.length))
          : field.startsWith('attributes.') ? attributeAt(attributes, field.slice('attributes.'.length)) : undefined);
      if (!inFilter) return false;
      if (plan.exact) return true;
      const e: AuthzenEvaluation = { subject: req.subject, action: req.action!, resource: { type, id }, ...(req.context ? { context: req.context } : {}) };
      return this.check(e, meta, undefined, as).decision;
    });
    return AuthzenService.answer(results.map((id) => ({ type, id })), next, paging.digest, req.page !== undefined);
  }

  /**
   * POST /access/v1/search/action: the actions the subject may perform on the resource.
   * Candidates: the concrete permissions the path's policies grant that name the
   * resource type (or no type), and the relationship schema's permissions of that type;
   * all are decided in one check (one cache entry).
   */
  async searchAction(req: SearchRequest, meta: RequestMeta = {}, as?: SubjectObject): Promise<SearchPage> {
    const paging = this.paging(req);
    const namespace = namespaceOf({ resource: req.resource, ...(req.context ? { context: req.context } : {}) }, this.options);
    const fromSchema = this.options.search?.relationPermissions?.(req.resource.type) ?? [];
    const candidates = actionCandidates(this.rulesOf(namespace), req.resource.type, fromSchema).slice(0, MAX_CANDIDATES);
    let allowed = new Set<string>();
    if (candidates.length > 0) {
      const { response } = this.options.decisions.checkDetailed({
        subject: as ?? subjectOf(req.subject), namespace, permissions: candidates,
        resource: { type: req.resource.type, ...(req.resource.id !== undefined ? { id: req.resource.id } : {}), attributes: req.resource.properties ?? {} },
        ...(req.context ? { context: req.context } : {}),
      }, meta);
      allowed = new Set(Object.entries(response.results ?? {}).filter(([, v]) => v).map(([k]) => k));
    }
    const { results, next } = pageOf(candidates, paging.after, paging.limit, (name) => allowed.has(name));
    return AuthzenService.answer(results.map((name) => ({ name })), next, paging.digest, req.page !== undefined);
  }
}
