// POST /v1/plan (SPEC §11): "which resources of this type may the subject <permission>
// here?" as a filter the caller runs in its own database. The request is prepared like
// a decision (core/evaluate/decide.ts: subject, typed inputs, namespace path, the
// manager's compiled path plan), then planned symbolically (core/plan/planner.ts) and
// translated (core/plan/translate.ts). A trailing `<type>:*` plans every stored
// namespace of that type plus one branch for all the others.

import { isConcretePermission } from '../core/pattern.js';
import { parseNamespacePath, type NamespaceLimits } from '../core/namespace.js';
import { prepareDecision, type DecisionSources } from '../core/evaluate/decide.js';
import type { SubjectInput } from '../core/request.js';
import type { RelationshipCheck } from '../core/condition/related.js';
import { planPath, combineBranches, type PathAnswer, type RecheckRule } from '../core/plan/planner.js';
import { withJunctionMemo, type Filter } from '../core/plan/filter.js';
import type { RelatedIds } from '../core/plan/residual.js';
import { checkFilterNames, checkMappings, toMongo, toSql, type FieldMappings, type MongoFilter, type SqlPlan } from '../core/plan/translate.js';
import { PolicyEngineError } from '../errors.js';
import { planKey, type PlanResults } from '../cache/plan-results.js';
import type { PolicyManager } from './policy-manager.js';

export interface PlanRequest {
  subject: SubjectInput;
  namespace: string;
  permission: string;
  resource: { type: string };
  context?: Record<string, unknown>;
  fields?: FieldMappings;
  allowPartial?: boolean;
}

export interface PlanResponse {
  kind: 'always' | 'never' | 'conditional';
  exact: boolean;
  revision: string;
  filter: Filter;
  mongo: MongoFilter;
  sql: SqlPlan;
  /** the rules a partial plan over-approximated: rows it returns must be checked */
  recheck?: RecheckRule[];
  /** the configured default answered (no document on the path, or for the other ids of a wildcard) */
  default?: boolean;
  stale?: boolean;
}

/** What the planner needs of the policy state: the policy manager, or local documents in tests and tools. */
export type PlanState = Pick<PolicyManager, 'storedNamespaces' | 'isStale' | 'isLoaded' | 'revision'>;

export interface PlanServiceOptions {
  manager: PlanState | undefined;
  sources: DecisionSources;
  defaultPermissions: readonly string[];
  namespaceLimits: NamespaceLimits;
  clock: () => number;
  relationships?: RelationshipCheck;
  relatedIds?: RelatedIds;
  /** answers kept by revisions and request (absent: every plan is made anew) */
  results?: PlanResults<PlanResponse>;
  /** the directory's revision (its entities merge into the subject) */
  directoryRevision?: () => string;
}

const WILDCARD = /^(?:(.*)\.)?([A-Za-z0-9_-]+):\*$/;

/** The response for a filter: its kind and both translations (names checked first: 400 before anything else). */
export function planResponse(answer: PathAnswer, fields: FieldMappings | undefined, revision: string): PlanResponse {
  checkFilterNames(answer.filter, fields);
  const kind = answer.filter === true ? 'always' : answer.filter === false ? 'never' : 'conditional';
  const r: PlanResponse = { kind, exact: answer.exact, revision, filter: answer.filter, mongo: toMongo(answer.filter, fields), sql: toSql(answer.filter, fields) };
  if (!answer.exact) r.recheck = answer.recheck;
  if (answer.default) r.default = true;
  return r;
}

/** An answer's size by estimate, for the answer cache: the filter's text, three times (AST, mongo, sql). */
export function planAnswerBytes(r: PlanResponse): number {
  return 3 * JSON.stringify(r.filter).length + 200;
}

export class PlanService {
  constructor(private readonly options: PlanServiceOptions) {}

  plan(req: PlanRequest): PlanResponse {
    const results = this.options.results;
    // Wildcard paths and a stale state are planned every time (docs/plans.md, "Cached answers").
    if (!results?.enabled || typeof req.namespace !== 'string' || req.namespace.includes('*')) return this.make(req).response;
    const manager = this.requireManager();
    if (manager.isStale()) return this.make(req).response;
    const o = this.options;
    const key = planKey({
      policyRevision: manager.revision, relationsRevision: o.relationships?.revision ?? '', directoryRevision: o.directoryRevision?.() ?? '',
      request: [req.subject, req.namespace, req.permission, req.resource?.type, req.context, req.fields, req.allowPartial === true],
    });
    const known = results.get(key);
    if (known) return known;
    const made = this.make(req);
    // an answer that read the clock is only true now
    if (!made.readsClock) results.set(key, made.response);
    return made.response;
  }

  /** One plan is one filter scope (core/plan/filter.ts): a wildcard's branches and their combination share its memo. */
  private make(req: PlanRequest): { response: PlanResponse; readsClock: boolean } {
    return withJunctionMemo(() => this.makeInScope(req));
  }

  private makeInScope(req: PlanRequest): { response: PlanResponse; readsClock: boolean } {
    if (typeof req.permission !== 'string' || !isConcretePermission(req.permission)) {
      throw new PolicyEngineError('PERMISSION_INVALID', `${JSON.stringify(String(req.permission).slice(0, 200))} is not a concrete permission (segments of [A-Za-z0-9_./-] joined by ':', no '*')`);
    }
    checkMappings(req.fields);
    const o = this.options;
    const now = new Date(o.clock());
    const planOptions = {
      permission: req.permission, now, defaultPermissions: o.defaultPermissions, registry: o.sources.registry,
      allowPartial: req.allowPartial === true,
      ...(o.relationships ? { relationships: o.relationships } : {}),
      ...(o.relatedIds ? { relatedIds: o.relatedIds } : {}),
    };
    const base = { subject: req.subject, resource: { type: req.resource.type }, ...(req.context !== undefined ? { context: req.context } : {}) };
    // The directory's entity for the subject, when one was merged in (its revision joins the answer's).
    let entityRevision: string | undefined;
    let readsClock = false;
    const answerFor = (namespace: string): PathAnswer => {
      const prepared = prepareDecision({ ...base, namespace }, o.sources, o.namespaceLimits);
      entityRevision ??= prepared.entityRevision;
      if (prepared.plan.reads?.now) readsClock = true;
      return planPath(prepared.plan, { ...prepared.inputs, namespaces: prepared.namespaces }, planOptions);
    };
    let answer: PathAnswer;
    const path = req.namespace;
    if (typeof path === 'string' && path.includes('*')) {
      const m = WILDCARD.exec(path);
      if (!m || (m[1] ?? '').includes('*')) {
        throw new PolicyEngineError('NAMESPACE_INVALID', 'a namespace wildcard may only end the path, as <type>:* (global.org.org:*)');
      }
      const parentPath = m[1];
      const type = m[2]!;
      // the parent path is checked as any path; the branch paths below then are too
      const parent = parentPath === undefined ? [] : (() => {
        const parsed = parseNamespacePath(parentPath, o.namespaceLimits);
        if (!parsed.ok) throw new PolicyEngineError('NAMESPACE_INVALID', parsed.reason);
        return parsed.namespaces;
      })();
      const manager = this.requireManager();
      const source = o.sources.stored();
      const prefix = `${type}:`;
      const stored = manager.storedNamespaces().filter((ns) => ns.startsWith(prefix) && ns.length > prefix.length && !parent.includes(ns)).sort();
      const branches = stored.map((ns) => ({ id: ns.slice(prefix.length), answer: answerFor([...parent, ns].join('.')) }));
      // the others: the parent's documents, on a path that ends in an id with none
      const prepared = parent.length > 0 ? prepareDecision({ ...base, namespace: parent.join('.') }, o.sources, o.namespaceLimits) : undefined;
      const othersPlan = prepared ? prepared.plan : source.pathPlan('', []);
      const inputs = prepared ? prepared.inputs : prepareDecision({ ...base, namespace: `${prefix}_` }, o.sources, o.namespaceLimits).inputs;
      const others = planPath(othersPlan, { ...inputs, namespaces: [...parent, `${type}:*`] }, planOptions);
      answer = combineBranches(type, branches, others);
    } else {
      answer = answerFor(path);
    }
    const manager = this.requireManager();
    const stale = manager.isStale();
    if (answer.default && stale) {
      throw new PolicyEngineError('STORE_UNAVAILABLE', 'the policy store is unreachable and this path has no known documents; refusing to answer with the default');
    }
    const r = planResponse(answer, req.fields, entityRevision === undefined ? manager.revision : `${manager.revision}+e${entityRevision}`);
    if (stale) r.stale = true;
    return { response: r, readsClock };
  }

  private requireManager(): PlanState {
    const m = this.options.manager;
    if (!m) throw new PolicyEngineError('STORE_DISABLED', 'this server runs without a policy store (STORE=none): plans need stored policies');
    if (!m.isLoaded()) throw new PolicyEngineError('NOT_READY', 'policies have not been loaded from the store yet');
    return m;
  }
}
