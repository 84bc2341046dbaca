// The one way a decision is made (SPEC §2, §3), shared by the decision service, the
// preview's policy states, the policy test runner and `policy-engine eval`:
//
//   request → mode and subject → typed inputs → compiled plan → decision (result,
//   reasons, trace; script checks included)
//
// Each caller only supplies where compiled documents come from (`DecisionSources`):
// the policy manager's snapshot, a preview's proposed state, a suite's documents or
// local files. What differs between callers stays with them: the service's cache and
// its stale-state refusal, the preview's error-as-answer, the runner's comparison.
// Preparing and evaluating are two steps so the service can look up its cache in
// between (the plan says what the cache key must include).

import { isConcretePermission } from '../pattern.js';
import { isValidKey, parseNamespacePath, type NamespaceLimits } from '../namespace.js';
import { modeOf, toSubject, type EvaluateRequest, type RequestMode } from '../request.js';
import { REGISTRY_NAMESPACE } from '../registry/compile-registry.js';
import type { CompiledPolicy } from '../compile/types.js';
import type { CompiledRegistry } from '../registry/types.js';
import type { CatalogueLookup } from '../messages/catalogue.js';
import type { RelationshipCheck } from '../condition/related.js';
import { mergeEntities, type EntityLookup } from '../entities/entity.js';
import { PolicyEngineError } from '../../errors.js';
import { buildPlan, evaluatePlan, type PathPlan } from './plan.js';
import { checkPermission, type DescribeRule } from './check.js';
import { ConditionRunner, inputBoundsProblem } from './conditions.js';
import { typeInputs } from './typed-inputs.js';
import { RequestReasons, type LanguageNegotiator } from './request-reasons.js';
import type { CheckResult, Decision, EvaluationInput, Subject } from './types.js';

/** A request's subject, resource and context as conditions read them. */
export type RequestInputs = Omit<EvaluationInput, 'namespaces'>;

/** Compiled documents to answer `namespace` and `policy` requests from. */
export interface DocumentSource {
  /** texts of messages, by namespace and language */
  readonly catalogues: CatalogueLookup | undefined;
  /** The plan of a namespace path; throws POLICY_STATE_BROKEN when a document on it does not compile. */
  pathPlan(path: string, namespaces: readonly string[]): PathPlan;
  /** One document and its plan; undefined when there is none with this key, 'broken' when it does not compile. */
  document(key: string): { policy: CompiledPolicy; plan: PathPlan } | 'broken' | undefined;
}

/** The documents a `policies` request sent along, compiled. */
export interface InlineDocuments {
  /** in run order */
  readonly policies: readonly CompiledPolicy[];
  readonly catalogues: CatalogueLookup | undefined;
  /** every document's namespace in the order sent (the path messages are looked up along) */
  readonly namespaces: readonly string[];
}

/** Where a caller's compiled documents come from. */
export interface DecisionSources {
  /** the attribute registry request inputs are checked against (none: taken as sent) */
  readonly registry: CompiledRegistry | undefined;
  /** the documents `namespace` and `policy` requests read; may throw (no store, not loaded) */
  stored(): DocumentSource;
  /** compiles the documents of a `policies` request; absent: that mode is refused */
  inline?(documents: NonNullable<EvaluateRequest['policies']>): InlineDocuments;
  /**
   * The directory (SPEC §12): stored roles, groups and attributes of the request's
   * subject and resource are merged in here, for every mode and every caller; absent:
   * taken as sent.
   */
  readonly entities?: EntityLookup;
}

/** What a decision is made from: everything up to the evaluation itself. */
export interface PreparedDecision {
  readonly mode: RequestMode;
  /** the subject with what the directory stores for it merged in */
  readonly subject: Subject;
  /** the highest directory revision of the entities merged in (none stored: undefined) */
  readonly entityRevision?: string;
  /** the inputs as conditions see them (typed by the registry); `namespaces` joins them at evaluation */
  readonly inputs: RequestInputs;
  readonly plan: PathPlan;
  /** the namespace path or the document key asked about ('inline' for `policies`) */
  readonly target: string;
  /** the namespaces evaluated */
  readonly namespaces: readonly string[];
  /** whose message catalogues count, most general first */
  readonly messageNamespaces: readonly string[];
  readonly catalogues: CatalogueLookup | undefined;
  readonly registry: CompiledRegistry | undefined;
  /** the document a `policy` request names */
  readonly document?: CompiledPolicy;
}

export interface DecisionOptions {
  /** the answer when no document is gathered (DEFAULT_PERMISSIONS) */
  defaultPermissions: readonly string[];
  /** the clock conditions see */
  now: Date;
  explain?: boolean;
  /** what conditions' `related()` asks; absent: related() fails and its rule does not apply */
  relationships?: RelationshipCheck;
}

/**
 * Inputs that conditions read must be within the bounds conditions accept: beyond them,
 * every condition would fail (its grants silently dropped) and the cache-key digest would
 * overflow the stack on deep nesting. A 400 says so instead.
 */
function checkInputBounds(plan: PathPlan, input: RequestInputs): void {
  if (plan.reads === undefined || plan.reads.paths.size === 0) return;
  const problem = inputBoundsProblem([input.subject.attributes, input.context ?? {}, input.resource?.attributes ?? {}]);
  if (problem !== undefined) throw new PolicyEngineError('REQUEST_INVALID', problem);
}

/** Mode, subject, typed inputs and the compiled plan of a request; every refusal is a PolicyEngineError. */
/**
 * Parsed namespace paths, by text, for the limits they were checked against: a sidecar
 * sees few distinct paths, and every request (hit or miss) would split and test each
 * namespace again. Bounded; cleared when full. The arrays are frozen (shared).
 */
const PATH_MEMO_MAX = 4096;
const pathMemo = new Map<string, readonly string[]>();
let pathMemoLimits: NamespaceLimits | undefined;

function namespacesOf(path: string, limits: NamespaceLimits | undefined): readonly string[] {
  if (limits !== pathMemoLimits) {
    pathMemo.clear();
    pathMemoLimits = limits;
  }
  const known = pathMemo.get(path);
  if (known !== undefined) return known;
  const parsed = parseNamespacePath(path, limits);
  if (!parsed.ok) throw new PolicyEngineError('NAMESPACE_INVALID', parsed.reason);
  if (pathMemo.size >= PATH_MEMO_MAX) pathMemo.clear();
  const namespaces = Object.freeze(parsed.namespaces);
  pathMemo.set(path, namespaces);
  return namespaces;
}

export function prepareDecision(req: EvaluateRequest, sources: DecisionSources, namespaceLimits?: NamespaceLimits): PreparedDecision {
  const mode = modeOf(req);
  // The one place the directory joins a request: before typing, so stored attributes are typed as sent ones are.
  const merged = mergeEntities(sources.entities, toSubject(req.subject), req.resource);
  const subject = merged.subject;
  const registry = sources.registry;
  const typed = typeInputs(registry, { subject, resource: merged.resource, context: req.context });
  let prepared: PreparedDecision;
  if (mode === 'policies') {
    if (!sources.inline) throw new PolicyEngineError('MODE_INVALID', 'documents sent along (policies) are not accepted here: name a namespace or a policy');
    const inline = sources.inline(req.policies!);
    const namespaces = [...new Set(inline.policies.map((p) => p.namespace))];
    prepared = {
      mode, subject, inputs: typed, plan: buildPlan(inline.policies), target: 'inline', namespaces,
      // Only catalogues sent along count (this mode never reads stored state), along the namespaces in the order sent.
      messageNamespaces: inline.namespaces, catalogues: inline.catalogues, registry,
    };
  } else if (mode === 'namespace') {
    const source = sources.stored();
    const path = req.namespace!;
    const namespaces = namespacesOf(path, namespaceLimits);
    prepared = {
      mode, subject, inputs: typed, plan: source.pathPlan(path, namespaces), target: path, namespaces,
      messageNamespaces: namespaces, catalogues: source.catalogues, registry,
    };
  } else {
    const source = sources.stored();
    const key = req.policy!;
    if (!isValidKey(key)) throw new PolicyEngineError('KEY_INVALID', `invalid policy key ${JSON.stringify(key.slice(0, 300))}`);
    const found = source.document(key);
    if (found === undefined) throw new PolicyEngineError('POLICY_NOT_FOUND', `no policy with key ${key}`);
    if (found === 'broken') throw new PolicyEngineError('POLICY_STATE_BROKEN', `stored policy ${key} does not compile; fix or delete it`);
    const namespaces = [found.policy.namespace];
    prepared = {
      mode, subject, inputs: typed, plan: found.plan, target: key, namespaces,
      // One document has no path: its own namespace's texts over the global ones.
      messageNamespaces: [...new Set([REGISTRY_NAMESPACE, ...namespaces])], catalogues: source.catalogues, registry, document: found.policy,
    };
  }
  checkInputBounds(prepared.plan, prepared.inputs);
  return merged.revision === undefined ? prepared : { ...prepared, entityRevision: merged.revision };
}

/** What conditions see: the request's inputs and the evaluated path (built only when evaluating: cache hits skip it). */
function inputOf(p: PreparedDecision): EvaluationInput {
  const i = p.inputs;
  // Written out rather than spread: one object shape for every request, a cheap copy.
  return i.typedInputs === undefined
    ? { subject: i.subject, resource: i.resource, context: i.context, namespaces: p.namespaces }
    : { subject: i.subject, resource: i.resource, context: i.context, namespaces: p.namespaces, typedInputs: i.typedInputs };
}

/** The decision of a prepared request. */
export function evaluatePrepared(p: PreparedDecision, options: DecisionOptions): Decision {
  return evaluatePlan(p.plan, inputOf(p), {
    explain: options.explain === true,
    now: options.now,
    defaultPermissions: options.defaultPermissions,
    registry: p.registry,
    relationships: options.relationships,
  });
}

/** Prepare and evaluate in one step (callers without a cache). */
export function decide(req: EvaluateRequest, sources: DecisionSources, options: DecisionOptions & { namespaceLimits?: NamespaceLimits }): { prepared: PreparedDecision; decision: Decision } {
  const prepared = prepareDecision(req, sources, options.namespaceLimits);
  return { prepared, decision: evaluatePrepared(prepared, options) };
}

/** The permissions a check request asks about: exactly one of `permission` or `permissions`, each concrete. */
export function askedPermissions(req: { permission?: string; permissions?: string[] }): { single: boolean; permissions: string[] } {
  const single = req.permission !== undefined;
  if (single === (req.permissions !== undefined)) throw new PolicyEngineError('REQUEST_INVALID', 'name exactly one of permission or permissions');
  const permissions = single ? [req.permission!] : req.permissions!;
  for (const p of permissions) {
    if (!isConcretePermission(p)) {
      throw new PolicyEngineError('PERMISSION_INVALID', `${JSON.stringify(p.slice(0, 200))} is not a concrete permission (segments of [A-Za-z0-9_./-] joined by ':', no '*')`);
    }
  }
  return { single, permissions };
}

/** Each permission checked against a decision, in the order asked. */
export function checkAll(decision: Decision, permissions: readonly string[], describe?: DescribeRule): Array<[string, CheckResult]> {
  return permissions.map((p) => [p, checkPermission(decision, p, describe)]);
}

/** How reasons pick their language (DEFAULT_LANGUAGE, LANGUAGE_ATTRIBUTE). */
export const DEFAULT_LANGUAGE_SETTINGS = { defaultLanguage: 'en', languageAttribute: 'language' } as const;

/** The reasons of a prepared request's answer, rendered for it (lazily). */
export function reasonsFor(
  negotiator: LanguageNegotiator, p: PreparedDecision,
  req: Pick<EvaluateRequest, 'language' | 'subject'>, acceptLanguage?: string,
): RequestReasons {
  // The merged subject: a language stored in the directory counts like a sent one.
  const attributes = p.subject.attributes;
  return new RequestReasons(negotiator, {
    language: req.language,
    acceptLanguage,
    subjectAttributes: typeof req.subject === 'string' && Object.keys(attributes).length === 0 ? undefined : attributes,
    inputs: p.inputs,
    catalogues: p.catalogues,
    namespaces: p.messageNamespaces,
  });
}

/** What a script document's can_execute answered. */
export type ScriptResult =
  | { value: boolean }
  | { error: string }
  /** the document is disabled: it did not run */
  | { disabled: true }
  /** it returned an effects table, or neither a boolean nor a table: a check by key cannot answer */
  | { invalid: string };

/**
 * `check` with `policy` and no permission (SPEC §8): run that script document's
 * can_execute. The decision lists the document and any failure (for observers).
 */
export function runScriptCheck(p: PreparedDecision, options: Pick<DecisionOptions, 'now' | 'relationships'>): { result: ScriptResult; facts: Record<string, unknown>; decision: Decision; rule: string } {
  const policy = p.document;
  const rule = policy?.rules[0];
  if (!policy || policy.kind !== 'lua' || !rule?.script) {
    throw new PolicyEngineError('REQUEST_INVALID', `${p.target} is not a script document: name a permission to check`);
  }
  const decision: Decision = { permissions: [], denied: [], exact: true, default: false, policies: [policy.key], applied: [] };
  if (policy.disabled) return { result: { disabled: true }, facts: {}, decision, rule: rule.id };
  const runner = new ConditionRunner(inputOf(p), options.now, p.registry, options.relationships);
  const r = runner.runScript(policy, rule);
  const facts = { ...runner.facts };
  if ('error' in r && r.invalidResult) return { result: { invalid: r.error }, facts, decision, rule: rule.id };
  if ('error' in r) {
    decision.conditionErrors = [{ document: policy.key, rule: rule.id, error: r.error }];
    return { result: { error: r.error }, facts, decision, rule: rule.id };
  }
  return { result: typeof r.value === 'boolean' ? { value: r.value } : { invalid: 'can_execute returned an effects table, not a boolean' }, facts, decision, rule: rule.id };
}
