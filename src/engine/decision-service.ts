// Answers evaluate and check requests (SPEC §3) with the one decision function
// (core/evaluate/decide.ts) over the policy manager's snapshot (or the documents sent
// along), consults and fills the decision cache, and fails closed (503) whenever the
// answer would otherwise be the default from stale or no knowledge.

import { flat } from '../core/flat-string.js';
import { InternedLists } from '../core/interned.js';
import type { NamespaceLimits } from '../core/namespace.js';
import type { CompiledPolicy } from '../core/compile/types.js';
import type { PathPlan } from '../core/evaluate/plan.js';
import type { CheckResult, Decision, Reason } from '../core/evaluate/types.js';
import { decisionKey, entityDigest, identityDigest, type CachedDecision, type DecisionCache } from '../cache/decision-cache.js';
import { CheckVerdicts } from '../cache/check-verdicts.js';
import { verdictResult } from '../core/evaluate/check.js';
import { PolicyEngineError } from '../errors.js';
import type { PolicyManager } from './policy-manager.js';
import { requestMode, type CheckRequest, type CheckResponse, type EvaluateRequest, type EvaluateResponse, type RequestMeta } from '../core/request.js';
import { compileInlineDocuments } from './inline-policies.js';
import { evaluateBodyOpen, sharedListJson, type ListTexts } from './decision-json.js';
import { LanguageNegotiator, type LanguageSettings } from '../core/evaluate/request-reasons.js';
import { CatalogueIndex, type CatalogueLookup } from '../core/messages/catalogue.js';
import type { LuaBudgets } from '../core/lua/sandbox.js';
import type { ParseLimits } from '../core/document/parse.js';
import type { SampleRecorder } from './request-samples.js';
import type { RelationshipCheck } from '../core/condition/related.js';
import type { EntityLookup } from '../core/entities/entity.js';
import {
  DEFAULT_LANGUAGE_SETTINGS, askedPermissions, checkAll, evaluatePrepared, prepareDecision, reasonsFor, runScriptCheck,
  type DecisionSources, type DocumentSource, type PreparedDecision,
} from '../core/evaluate/decide.js';

export interface DecisionServiceOptions {
  /** undefined when the server runs with STORE=none */
  manager: PolicyManager | undefined;
  cache: DecisionCache;
  defaultPermissions: readonly string[];
  namespaceLimits: NamespaceLimits;
  parseLimits: ParseLimits;
  /** results that read `now` are cached within one bucket of this many ms */
  timeBucketMs: number;
  /** ms since the epoch; injectable for tests */
  clock: () => number;
  luaBudgets?: LuaBudgets;
  /** how reasons pick their language (default: en, attribute `language`) */
  languages?: LanguageSettings;
  /** told of each computed (not cached) namespace-path decision's input, for impact previews */
  samples?: SampleRecorder;
  /** what conditions' related() asks (the relationship service's check); its revision keys cached decisions */
  relationships?: RelationshipCheck;
  /** the directory (SPEC §12) merged into every request; its entities' revision keys cached decisions */
  entities?: EntityLookup;
}

interface Outcome {
  decision: Decision;
  prepared: PreparedDecision;
  revision: string;
  cached: boolean;
  stale: boolean;
  entry?: CachedDecision;
}

/**
 * The answer's revision: the policy state's, and when directory entities were merged in,
 * `+e<the newest of their revisions>` (the directory state they were read at).
 */
function withEntities(revision: string, p: PreparedDecision): string {
  return p.entityRevision === undefined ? revision : `${revision}+e${p.entityRevision}`;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Equal answers from equal rules (both without errors, facts, trace or grantedBy). */
function sameDecision(a: Decision, b: Decision): boolean {
  return a.exact === b.exact && a.default === b.default && a.policies === b.policies
    && sameList(a.permissions, b.permissions) && sameList(a.denied, b.denied) && sameList(a.applied, b.applied);
}

/** One frozen copy of each permission list: the same roles get the same lists on many paths. */
const permissionLists = new InternedLists<string>(10_000);
const sharedList = (list: readonly string[]): string[] => permissionLists.get(list) as string[];

/**
 * A decision the cache keeps holds lists of their exact length: evaluation pushes into
 * arrays, which keep room to spare (17 slots for 1 entry, 77 for 33: ~450 bytes per entry
 * in all); its permission lists are shared with equal ones (frozen). Done before anyone
 * else sees the decision.
 */
function exactLists(d: Decision): void {
  d.permissions = sharedList(d.permissions);
  d.denied = sharedList(d.denied);
  d.applied = d.applied.slice();
}

/** verdicts of checks against cached decisions kept (docs/decision-cache.md, "Checks") */
const CHECK_VERDICTS = 10_000;

/** most permission lists one cached decision remembers as sampled */
const MAX_SAMPLED_CHECKS = 64;

/** The policy manager's snapshot as a document source (a broken document refuses its path). */
class ManagerSource implements DocumentSource {
  constructor(private readonly manager: PolicyManager) {}

  get catalogues(): CatalogueLookup {
    return this.manager.catalogues;
  }

  pathPlan(path: string, namespaces: readonly string[]): PathPlan {
    const p = this.manager.plan(path, namespaces);
    if (p.broken !== undefined) throw new PolicyEngineError('POLICY_STATE_BROKEN', `a stored document in namespace ${p.broken} does not compile; fix or delete it`);
    return p.plan;
  }

  document(key: string): { policy: CompiledPolicy; plan: PathPlan } | 'broken' | undefined {
    const p = this.manager.policyPlan(key);
    if (p === undefined || p === 'broken') return p;
    return { policy: this.manager.policyByKey(key) as CompiledPolicy, plan: p.plan };
  }
}

export class DecisionService {
  private readonly negotiator: LanguageNegotiator;
  /** where this service's compiled documents come from */
  private readonly sources: DecisionSources;
  /** the serialized response of a cached entry (cached: true, not stale), built on its first hit */
  private readonly bodies = new WeakMap<CachedDecision, string>();
  /**
   * Each plan's last cached decision without errors or facts (see `shared`), whether another
   * subject's answer shared it since, and then the answer last computed from it
   * (`computedBody`) with the path and revision it was for. Only the last decision can be
   * shared again, and a text is kept once a second subject shares it (most decisions of a
   * full cache are never shared: their texts would be ~650 bytes each of nothing).
   */
  private readonly lastDecisions = new WeakMap<PathPlan, { decision: Decision; reused: boolean; body?: { namespaces: readonly string[]; revision: string; text: string } }>();
  /** the permission lists checks against a cached entry asked, already taken as request samples */
  private readonly sampledChecks = new WeakMap<CachedDecision, Set<string>>();
  /** what each permission checked against a cached decision came to (the rules are not replayed on the next hit) */
  private readonly verdicts = new CheckVerdicts(CHECK_VERDICTS);

  constructor(private readonly options: DecisionServiceOptions) {
    this.negotiator = new LanguageNegotiator(options.languages ?? DEFAULT_LANGUAGE_SETTINGS);
    const stored = options.manager ? new ManagerSource(options.manager) : undefined;
    const service = this;
    this.sources = {
      ...(options.entities ? { entities: options.entities } : {}),
      get registry() {
        return options.manager?.registry;
      },
      stored() {
        service.requireManager();
        return stored!;
      },
      inline(documents) {
        const inline = compileInlineDocuments(documents, options.parseLimits, { registry: options.manager?.registry, luaBudgets: options.luaBudgets });
        return { policies: inline.policies, catalogues: inline.catalogues.length > 0 ? new CatalogueIndex(inline.catalogues) : undefined, namespaces: inline.namespaces };
      },
    };
  }

  /** Where this service's compiled documents come from (the query planner prepares requests the same way). */
  get decisionSources(): DecisionSources {
    return this.sources;
  }

  private requireManager(): PolicyManager {
    const m = this.options.manager;
    if (!m) throw new PolicyEngineError('STORE_DISABLED', 'this server runs without a policy store (STORE=none): use the policies mode');
    if (!m.isLoaded()) throw new PolicyEngineError('NOT_READY', 'policies have not been loaded from the store yet');
    return m;
  }

  /**
   * `decision`, or the plan's last cached decision when it is equal to it: entries of
   * subjects answered alike (the same roles, usually) then share one decision, so a
   * miss keeps its key and entry alone, and the lists it computed die young. Decisions
   * are never changed once made; conditions' errors and emitted facts are never shared.
   */
  private shared(decision: Decision, plan: PathPlan): Decision {
    if (decision.conditionErrors !== undefined || decision.facts !== undefined || decision.trace !== undefined || decision.grantedBy !== undefined) return decision;
    const last = this.lastDecisions.get(plan);
    if (last !== undefined && sameDecision(last.decision, decision)) {
      last.reused = true;
      return last.decision;
    }
    this.lastDecisions.set(plan, { decision, reused: false });
    return decision;
  }

  /** The only place a stale state refuses: a default answer from stale knowledge is never given. */
  private failClosed(decision: Decision, stale: boolean): void {
    if (decision.default && stale) {
      throw new PolicyEngineError('STORE_UNAVAILABLE', 'the policy store is unreachable and this path has no known documents; refusing to answer with the default');
    }
  }

  private run(req: EvaluateRequest): Outcome {
    const prepared = prepareDecision(req, this.sources, this.options.namespaceLimits);
    const relationships = this.options.relationships;
    if (prepared.mode === 'policies') {
      const decision = evaluatePrepared(prepared, { explain: req.explain === true, now: new Date(this.options.clock()), defaultPermissions: this.options.defaultPermissions, relationships });
      return { decision, prepared, revision: withEntities('inline', prepared), cached: false, stale: false };
    }
    const manager = this.options.manager!;
    const stale = manager.isStale();
    const explain = req.explain === true;
    const nowMs = this.options.clock();
    const bucketMs = this.options.timeBucketMs;
    const bucket = Math.floor(nowMs / bucketMs);
    const reads = prepared.plan.reads;
    const cacheKey = explain ? undefined
      : decisionKey(prepared.mode === 'namespace' ? 'perm' : 'pol', prepared.subject.id, prepared.target, entityDigest(identityDigest(prepared.inputs, reads, bucket, relationships?.revision), prepared.entityRevision));
    const hit = cacheKey === undefined ? undefined : this.options.cache.get(cacheKey);
    if (hit) {
      this.failClosed(hit.decision, stale);
      return { decision: hit.decision, prepared, revision: hit.revision, cached: true, stale, entry: hit };
    }
    const revision = withEntities(manager.revision, prepared);
    const computed = evaluatePrepared(prepared, { explain, now: new Date(nowMs), defaultPermissions: this.options.defaultPermissions, relationships });
    const decision = cacheKey === undefined ? computed : this.shared(computed, prepared.plan);
    if (decision === computed && cacheKey !== undefined) exactLists(decision);
    this.failClosed(decision, stale);
    // Entries are never changed once stored; a result that read the clock lives no longer than its time bucket.
    if (cacheKey !== undefined) this.options.cache.set(cacheKey, Object.freeze({ decision, namespaces: prepared.namespaces, revision }), reads?.now ? (bucket + 1) * bucketMs - nowMs : undefined);
    return { decision, prepared, revision, cached: false, stale };
  }

  /**
   * The response object; for a fresh cache hit the already-serialized body (`body`), for
   * a computed answer of the usual shape its JSON without the closing brace
   * (`computedBody`, decision-json.ts); the decision itself for observers (decision log,
   * metrics).
   */
  evaluate(req: EvaluateRequest, meta: RequestMeta = {}): { response: EvaluateResponse; body?: string; computedBody?: string; decision: Decision } {
    const o = this.run(req);
    if (!o.cached) this.options.samples?.record('evaluate', req);
    const response = this.response(o);
    // Only denied patterns carry messages: with none, there is nothing to render.
    const rendered = o.decision.denied.length === 0 ? undefined : reasonsFor(this.negotiator, o.prepared, req, meta.acceptLanguage).deniedMessages(o.decision);
    if (rendered) response.messages = rendered.messages;
    // A body holding texts rendered for this request (language, values) is never reused.
    if (o.entry && !o.stale && !rendered?.localized) {
      let body = this.bodies.get(o.entry);
      if (body === undefined) {
        body = JSON.stringify(response);
        this.bodies.set(o.entry, body);
      }
      return { response, body, decision: o.decision };
    }
    if (o.cached) return { response, decision: o.decision };
    const computedBody = this.computedBody(o, response);
    return computedBody === undefined ? { response, decision: o.decision } : { response, computedBody, decision: o.decision };
  }

  /**
   * A computed answer's JSON (evaluateBodyOpen). A decision shared by the plan's entries
   * (`shared`) keeps the text it was last answered with, for its path and revision:
   * subjects answered alike get the same bytes without serializing them again.
   */
  private computedBody(o: Outcome, response: EvaluateResponse): string | undefined {
    const p = o.prepared;
    const last = p.mode === 'policies' || !Object.isFrozen(p.namespaces) ? undefined : this.lastDecisions.get(p.plan);
    const shared = last !== undefined && last.decision === o.decision;
    if (shared && response.messages === undefined && response.stale === undefined) {
      const known = last.body;
      if (known !== undefined && known.namespaces === p.namespaces && known.revision === o.revision) return known.text;
    }
    const text = evaluateBodyOpen(response, this.sharedLists(o));
    // Kept while the decision is the plan's last: flat, not the tree of parts it was built from.
    if (shared && last.reused && text !== undefined) last.body = { namespaces: p.namespaces, revision: o.revision, text: flat(text) };
    return text;
  }

  /**
   * The JSON of the lists a computed answer shares with every answer on its path: the
   * plan's document keys and the memoized path's namespaces (both never change; an
   * inline request's plan is its own, so its lists are serialized as they come).
   */
  private sharedLists(o: Outcome): ListTexts {
    const p = o.prepared;
    if (p.mode === 'policies') return {};
    const texts: ListTexts = {};
    if (o.decision.policies === p.plan.keys) texts.policies = sharedListJson(p.plan.keys);
    if (Object.isFrozen(p.namespaces)) texts.namespaces = sharedListJson(p.namespaces);
    return texts;
  }

  private response(o: Outcome): EvaluateResponse {
    const d = o.decision;
    const r: EvaluateResponse = {
      permissions: d.permissions,
      denied: d.denied,
      default: d.default,
      namespaces: [...o.prepared.namespaces],
      policies: d.policies,
      cached: o.cached,
      revision: o.revision,
      exact: d.exact,
    };
    if (o.stale) r.stale = true;
    if (d.trace) r.trace = d.trace;
    if (d.grantedBy) r.grantedBy = d.grantedBy;
    if (d.conditionErrors) r.conditionErrors = d.conditionErrors;
    return r;
  }

  check(req: CheckRequest, meta: RequestMeta = {}): CheckResponse {
    return this.checkDetailed(req, meta).response;
  }

  /**
   * `POST /v1/check` with `policy` and no permission (SPEC §8): run that script
   * document's can_execute and answer its boolean. A failure never allows.
   */
  private checkScript(req: CheckRequest): { response: CheckResponse; decision: Decision } {
    const prepared = prepareDecision(req, this.sources, this.options.namespaceLimits);
    const manager = this.options.manager!;
    const { result, decision, rule } = runScriptCheck(prepared, { now: new Date(this.options.clock()), relationships: this.options.relationships });
    const key = prepared.target;
    const base = { cached: false, revision: manager.revision, ...(manager.isStale() ? { stale: true } : {}) };
    const deny = (text: string) => ({ response: { allowed: false, reason: { text, rule, document: key }, ...base }, decision });
    if ('disabled' in result) return deny(`policy ${key} is disabled`);
    if ('error' in result) return deny(`the script failed: ${result.error}`);
    if ('invalid' in result) throw new PolicyEngineError('SCRIPT_RESULT_INVALID', `${key}: ${result.invalid}`);
    return { response: { allowed: result.value, ...base }, decision };
  }

  /**
   * Checks are sampled on hits too (the permission asked is part of the sample, and the
   * entry may come from an evaluate), but once per cached entry and permission list, so a
   * repeated check costs one set lookup.
   */
  private sampleCheck(req: CheckRequest, o: Outcome): void {
    if (!o.entry) {
      this.options.samples!.record('check', req);
      return;
    }
    const asked = req.permission ?? req.permissions!.join('\u0000');
    let seen = this.sampledChecks.get(o.entry);
    if (seen === undefined) {
      seen = new Set();
      this.sampledChecks.set(o.entry, seen);
    }
    if (seen.has(asked)) return;
    // Over the rate, the input was not looked at: a later check may take it.
    if (this.options.samples!.record('check', req) && seen.size < MAX_SAMPLED_CHECKS) seen.add(asked);
  }

  /** `check`, with the decision it was answered from (for observers). */
  checkDetailed(req: CheckRequest, meta: RequestMeta = {}): { response: CheckResponse; decision: Decision } {
    if (req.permission === undefined && req.permissions === undefined && requestMode(req) === 'policy') {
      return this.checkScript(req);
    }
    const { single, permissions: wanted } = askedPermissions(req);
    const o = this.run(req);
    if (this.options.samples) this.sampleCheck(req, o);
    const base: CheckResponse = { cached: o.cached, revision: o.revision, ...(o.stale ? { stale: true } : {}) };
    // Reasons are rendered now, for this request, from the (possibly cached) decision;
    // a cached decision's verdicts are remembered (the rules are not replayed on each hit).
    const describe = reasonsFor(this.negotiator, o.prepared, req, meta.acceptLanguage).describer(o.decision);
    const checked = o.entry === undefined ? checkAll(o.decision, wanted, describe)
      : wanted.map((p): [string, CheckResult] => [p, verdictResult(o.decision, this.verdicts.verdict(o.decision, p), describe)]);
    if (single) {
      const r = checked[0]![1];
      return { response: { allowed: r.allowed, ...(r.reason ? { reason: r.reason } : {}), ...base }, decision: o.decision };
    }
    const results: Array<[string, boolean]> = [];
    const reasons: Array<[string, Reason]> = [];
    for (const [p, r] of checked) {
      results.push([p, r.allowed]);
      if (r.reason) reasons.push([p, r.reason]);
    }
    // fromEntries defines own properties: a permission such as `__proto__` stays a plain key.
    return { response: { results: Object.fromEntries(results), ...(reasons.length > 0 ? { reasons: Object.fromEntries(reasons) } : {}), ...base }, decision: o.decision };
  }
}
