// Answers evaluate and check requests (SPEC §3): resolves the mode, gathers compiled
// policies from the manager, consults and fills the decision cache, and fails closed
// (503) whenever the answer would otherwise be the default from stale or no knowledge.

import { parseNamespacePath, isValidKey, type NamespaceLimits } from '../core/namespace.js';
import { isConcretePermission } from '../core/pattern.js';
import { buildPlan, evaluatePlan, type PathPlan } from '../core/evaluate/plan.js';
import { checkPermission } from '../core/evaluate/check.js';
import type { CheckResult, Decision, Reason, Subject } from '../core/evaluate/types.js';
import { decisionKey, identityDigest, type CachedDecision, type DecisionCache } from '../cache/decision-cache.js';
import { PolicyEngineError } from '../errors.js';
import { inputBoundsProblem } from '../core/evaluate/conditions.js';
import type { PolicyManager } from './policy-manager.js';
import { modeOf, toSubject, type CheckRequest, type CheckResponse, type EvaluateRequest, type EvaluateResponse, type RequestMeta } from '../core/request.js';
import { compileInlineDocuments } from './inline-policies.js';
import { LanguageNegotiator, RequestReasons, type LanguageSettings } from '../core/evaluate/request-reasons.js';
import { CatalogueIndex, type CatalogueLookup } from '../core/messages/catalogue.js';
import { REGISTRY_NAMESPACE } from '../core/registry/compile-registry.js';
import { typeInputs } from '../core/evaluate/typed-inputs.js';
import type { LuaBudgets } from '../core/lua/sandbox.js';
import { ConditionRunner } from '../core/evaluate/conditions.js';
import type { ParseLimits } from '../core/document/parse.js';
import type { SampleRecorder } from './request-samples.js';

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
}

interface Outcome {
  decision: Decision;
  namespaces: readonly string[];
  revision: string;
  cached: boolean;
  stale: boolean;
  entry?: CachedDecision;
  /** the request's values, as conditions saw them, and where message texts come from */
  input: EvaluationInputs;
  catalogues: CatalogueLookup | undefined;
  messageNamespaces: readonly string[];
}

type EvaluationInputs = ReturnType<typeof typeInputs>;

/** most permission lists one cached decision remembers as sampled */
const MAX_SAMPLED_CHECKS = 64;

const DEFAULT_LANGUAGES: LanguageSettings = { defaultLanguage: 'en', languageAttribute: 'language' };

/**
 * Inputs that conditions read must be within the bounds conditions accept: beyond them,
 * every condition would fail (its grants silently dropped) and the cache-key digest would
 * overflow the stack on deep nesting. A 400 says so instead.
 */
function checkInputBounds(plan: PathPlan, subject: Subject, req: EvaluateRequest): void {
  if (plan.reads === undefined || plan.reads.paths.size === 0) return;
  const problem = inputBoundsProblem([subject.attributes, req.context ?? {}, req.resource?.attributes ?? {}]);
  if (problem !== undefined) throw new PolicyEngineError('REQUEST_INVALID', problem);
}

export class DecisionService {
  private readonly negotiator: LanguageNegotiator;

  constructor(private readonly options: DecisionServiceOptions) {
    this.negotiator = new LanguageNegotiator(options.languages ?? DEFAULT_LANGUAGES);
  }

  private requireManager(): PolicyManager {
    const m = this.options.manager;
    if (!m) throw new PolicyEngineError('STORE_DISABLED', 'this server runs without a policy store (STORE=none): use the policies mode');
    if (!m.isLoaded()) throw new PolicyEngineError('NOT_READY', 'policies have not been loaded from the store yet');
    return m;
  }

  private run(req: EvaluateRequest): Outcome {
    const mode = modeOf(req);
    const subject = toSubject(req.subject);
    const explain = req.explain === true;
    const registry = this.options.manager?.registry;
    const input = typeInputs(registry, { subject, resource: req.resource, context: req.context });
    const opts = { explain, defaultPermissions: this.options.defaultPermissions, registry: this.options.manager?.registry };

    if (mode === 'policies') {
      const inline = compileInlineDocuments(req.policies!, this.options.parseLimits, { registry, luaBudgets: this.options.luaBudgets });
      const namespaces = [...new Set(inline.policies.map((p) => p.namespace))];
      const inlinePlan = buildPlan(inline.policies);
      checkInputBounds(inlinePlan, subject, req);
      const decision = evaluatePlan(inlinePlan, { ...input, namespaces }, { ...opts, now: new Date(this.options.clock()) });
      // Only catalogues sent along count (this mode never reads stored state), along the namespaces in the order sent.
      const catalogues = inline.catalogues.length > 0 ? new CatalogueIndex(inline.catalogues) : undefined;
      return { decision, namespaces, revision: 'inline', cached: false, stale: false, input, catalogues, messageNamespaces: inline.namespaces };
    }

    const manager = this.requireManager();
    const stale = manager.isStale();
    let namespaces: readonly string[];
    let target: string;
    let plan: PathPlan;
    let messageNamespaces: readonly string[];
    if (mode === 'namespace') {
      const parsed = parseNamespacePath(req.namespace!, this.options.namespaceLimits);
      if (!parsed.ok) throw new PolicyEngineError('NAMESPACE_INVALID', parsed.reason);
      namespaces = parsed.namespaces;
      messageNamespaces = namespaces;
      target = req.namespace!;
      const p = manager.plan(target, namespaces);
      if (p.broken !== undefined) {
        throw new PolicyEngineError('POLICY_STATE_BROKEN', `a stored document in namespace ${p.broken} does not compile; fix or delete it`);
      }
      plan = p.plan;
    } else {
      const key = req.policy!;
      if (!isValidKey(key)) throw new PolicyEngineError('KEY_INVALID', `invalid policy key ${JSON.stringify(key.slice(0, 300))}`);
      const p = manager.policyPlan(key);
      if (p === undefined) throw new PolicyEngineError('POLICY_NOT_FOUND', `no policy with key ${key}`);
      if (p === 'broken') throw new PolicyEngineError('POLICY_STATE_BROKEN', `stored policy ${key} does not compile; fix or delete it`);
      namespaces = p.namespaces;
      // One document has no path: its own namespace's texts over the global ones.
      messageNamespaces = [...new Set([REGISTRY_NAMESPACE, ...namespaces])];
      target = key;
      plan = p.plan;
    }
    const catalogues = manager.catalogues;

    checkInputBounds(plan, subject, req);
    const nowMs = this.options.clock();
    const bucketMs = this.options.timeBucketMs;
    const bucket = Math.floor(nowMs / bucketMs);
    const cacheKey = explain ? undefined : decisionKey(mode === 'namespace' ? 'perm' : 'pol', subject.id, target, identityDigest(input, plan.reads, bucket));
    const hit = cacheKey === undefined ? undefined : this.options.cache.get(cacheKey);
    const revision = manager.revision;
    if (hit) return { decision: hit.decision, namespaces, revision: hit.revision, cached: true, stale, entry: hit, input, catalogues, messageNamespaces };

    const decision = evaluatePlan(plan, { ...input, namespaces }, { ...opts, now: new Date(nowMs) });
    if (decision.default && stale) {
      throw new PolicyEngineError('STORE_UNAVAILABLE', 'the policy store is unreachable and this path has no known documents; refusing to answer with the default');
    }
    // A result that read the clock lives no longer than its time bucket.
    if (cacheKey !== undefined) this.options.cache.set(cacheKey, { decision, namespaces, revision }, plan.reads?.now ? (bucket + 1) * bucketMs - nowMs : undefined);
    return { decision, namespaces, revision, cached: false, stale, input, catalogues, messageNamespaces };
  }

  /** The reasons of this request's answer (rendered lazily, at response time). */
  private reasons(req: EvaluateRequest, meta: RequestMeta, o: Outcome): RequestReasons {
    const subject = req.subject;
    return new RequestReasons(this.negotiator, {
      language: req.language,
      acceptLanguage: meta.acceptLanguage,
      subjectAttributes: typeof subject === 'string' ? undefined : subject.attributes,
      inputs: o.input,
      catalogues: o.catalogues,
      namespaces: o.messageNamespaces,
    });
  }

  /**
   * The response object, and for a fresh cache hit the already-serialized body; the
   * decision itself for observers (decision log, metrics).
   */
  evaluate(req: EvaluateRequest, meta: RequestMeta = {}): { response: EvaluateResponse; body?: string; decision: Decision } {
    const o = this.run(req);
    if (!o.cached) this.options.samples?.record('evaluate', req);
    if (o.decision.default && o.stale) {
      throw new PolicyEngineError('STORE_UNAVAILABLE', 'the policy state is stale; refusing to answer with the default');
    }
    const response = this.response(o);
    const rendered = this.reasons(req, meta, o).deniedMessages(o.decision);
    if (rendered) response.messages = rendered.messages;
    // A body holding texts rendered for this request (language, values) is never reused.
    if (o.entry && !o.stale && !rendered?.localized) {
      o.entry.body ??= JSON.stringify(response);
      return { response, body: o.entry.body, decision: o.decision };
    }
    return { response, decision: o.decision };
  }

  private response(o: Outcome): EvaluateResponse {
    const d = o.decision;
    const r: EvaluateResponse = {
      permissions: d.permissions,
      denied: d.denied,
      default: d.default,
      namespaces: [...o.namespaces],
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
    const manager = this.requireManager();
    const key = req.policy!;
    if (!isValidKey(key)) throw new PolicyEngineError('KEY_INVALID', `invalid policy key ${JSON.stringify(key.slice(0, 300))}`);
    const p = manager.policyByKey(key);
    if (p === undefined) throw new PolicyEngineError('POLICY_NOT_FOUND', `no policy with key ${key}`);
    if (p === 'broken') throw new PolicyEngineError('POLICY_STATE_BROKEN', `stored policy ${key} does not compile; fix or delete it`);
    const rule = p.rules[0];
    if (p.kind !== 'lua' || !rule?.script) {
      throw new PolicyEngineError('REQUEST_INVALID', `${key} is not a script document: name a permission to check`);
    }
    const registry = manager.registry;
    const input = { ...typeInputs(registry, { subject: toSubject(req.subject), resource: req.resource, context: req.context }), namespaces: [p.namespace] };
    const base = { cached: false, revision: manager.revision, ...(manager.isStale() ? { stale: true } : {}) };
    const decision: Decision = { permissions: [], denied: [], exact: true, default: false, policies: [key], applied: [] };
    const deny = (text: string) => ({ response: { allowed: false, reason: { text, rule: rule.id, document: key }, ...base }, decision });
    if (p.disabled) return deny(`policy ${key} is disabled`);
    const r = new ConditionRunner(input, new Date(this.options.clock()), registry).runScript(p, rule);
    if ('error' in r) {
      decision.conditionErrors = [{ document: key, rule: rule.id, error: r.error }];
      return deny(`the script failed: ${r.error}`);
    }
    if (typeof r.value !== 'boolean') {
      throw new PolicyEngineError('SCRIPT_RESULT_INVALID', `can_execute of ${key} returned an effects table, not a boolean`);
    }
    return { response: { allowed: r.value, ...base }, decision };
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
    const seen = (o.entry.sampledChecks ??= new Set());
    if (seen.has(asked)) return;
    // Over the rate, the input was not looked at: a later check may take it.
    if (this.options.samples!.record('check', req) && seen.size < MAX_SAMPLED_CHECKS) seen.add(asked);
  }

  /** `check`, with the decision it was answered from (for observers). */
  checkDetailed(req: CheckRequest, meta: RequestMeta = {}): { response: CheckResponse; decision: Decision } {
    if (req.permission === undefined && req.permissions === undefined && req.policy !== undefined && req.namespace === undefined && req.policies === undefined) {
      return this.checkScript(req);
    }
    const single = req.permission !== undefined;
    if (single === (req.permissions !== undefined)) {
      throw new PolicyEngineError('REQUEST_INVALID', 'name exactly one of permission or permissions');
    }
    const wanted = single ? [req.permission!] : req.permissions!;
    for (const p of wanted) {
      if (!isConcretePermission(p)) {
        throw new PolicyEngineError('PERMISSION_INVALID', `${JSON.stringify(p.slice(0, 200))} is not a concrete permission (segments of [A-Za-z0-9_./-] joined by ':', no '*')`);
      }
    }
    const o = this.run(req);
    if (this.options.samples) this.sampleCheck(req, o);
    if (o.decision.default && o.stale) {
      throw new PolicyEngineError('STORE_UNAVAILABLE', 'the policy state is stale; refusing to answer with the default');
    }
    const base: CheckResponse = { cached: o.cached, revision: o.revision, ...(o.stale ? { stale: true } : {}) };
    // Reasons are rendered now, for this request, from the (possibly cached) decision.
    const describe = this.reasons(req, meta, o).describer(o.decision);
    if (single) {
      const r: CheckResult = checkPermission(o.decision, req.permission!, describe);
      return { response: { allowed: r.allowed, ...(r.reason ? { reason: r.reason } : {}), ...base }, decision: o.decision };
    }
    const results: Array<[string, boolean]> = [];
    const reasons: Array<[string, Reason]> = [];
    for (const p of wanted) {
      const r = checkPermission(o.decision, p, describe);
      results.push([p, r.allowed]);
      if (r.reason) reasons.push([p, r.reason]);
    }
    // fromEntries defines own properties: a permission such as `__proto__` stays a plain key.
    return { response: { results: Object.fromEntries(results), ...(reasons.length > 0 ? { reasons: Object.fromEntries(reasons) } : {}), ...base }, decision: o.decision };
  }
}
