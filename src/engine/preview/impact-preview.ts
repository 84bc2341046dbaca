// Impact preview (issue 11): proposed changes (documents to put, keys to delete) are
// validated like writes, then request samples, explicit requests and the stored test
// suites are answered under the current and the proposed state, and the differences
// reported. Nothing is written and the live state, its cache and its plans are never
// touched: the preview builds its own states from compiled documents.

import { loadParsed, compileDocument } from '../../core/compile/load-document.js';
import { kindOf } from '../../core/document/schema.js';
import type { CompiledPolicy } from '../../core/compile/types.js';
import { parseText, type ParseLimits, type ParsedText } from '../../core/document/parse.js';
import type { DocumentError } from '../../core/document/types.js';
import type { LuaBudgets } from '../../core/lua/sandbox.js';
import type { CompiledRegistry } from '../../core/registry/types.js';
import { isValidKey } from '../../core/namespace.js';
import { PolicyEngineError } from '../../errors.js';
import type { PolicyManager } from '../policy-manager.js';
import type { RequestSample } from '../request-samples.js';
import { diffAnswers, type AnswerDiff } from './answer-diff.js';
import { PolicyState, type StateAnswer, type StateInput, type StatePlan, type StateSettings } from './policy-state.js';
import type { PlanRequest } from '../plan-service.js';
import { runStoredSuites, type StoredSuiteResult } from './stored-tests.js';

export interface PreviewRequest {
  /** documents to create or replace: objects, or JSON / YAML text */
  put?: Array<Record<string, unknown> | string>;
  /** keys to delete */
  delete?: string[];
  /** requests answered under both states, always listed (with traces when `explain`) */
  requests?: Array<StateInput & { permission?: string }>;
  explain?: boolean;
  /** re-evaluate the recorded request samples (default true) */
  samples?: boolean;
  /** run the stored test suites (default true) */
  tests?: boolean;
  /** the clock conditions see (default: the time of the preview) */
  now?: string;
  /** query plans (POST /v1/plan requests) answered under both states, in this order */
  plans?: PlanRequest[];
}

export interface ChangeSummary {
  key: string;
  namespace: string;
  kind: string;
  action: 'create' | 'replace' | 'delete' | 'unchanged';
}

export interface SampleImpact extends AnswerDiff {
  endpoint: 'evaluate' | 'check' | 'request';
  subject: StateInput['subject'];
  namespace: string;
  resource?: StateInput['resource'];
  context?: StateInput['context'];
  permissions?: string[];
  before: StateAnswer;
  after: StateAnswer;
}

/** A plan under the current and the proposed state; `changed` compares kind, filter, exactness, recheck, default and error. */
export interface PlanImpact {
  changed: boolean;
  before: StatePlan;
  after: StatePlan;
}

export interface CaseChange {
  suite: string;
  key: string;
  case: string;
  diff?: string[];
}

export interface PreviewResult {
  revision: string;
  stale: boolean;
  now: string;
  complete: boolean;
  durationMs: number;
  changes: ChangeSummary[];
  summary: {
    samples: number;
    evaluated: number;
    changed: number;
    gained: number;
    lost: number;
    /** samples with patterns newly revoked or denied (their permission list may stay the same) */
    restricted: number;
    checksChanged: number;
    listed: number;
    testsBefore: { passed: number; failed: number };
    testsAfter: { passed: number; failed: number };
    testsBroken: number;
    testsFixed: number;
  };
  samples: SampleImpact[];
  requests: SampleImpact[];
  plans: PlanImpact[];
  tests: { broken: CaseChange[]; fixed: CaseChange[]; suites: StoredSuiteResult[] };
}

export interface SampleSource {
  /** every sample, in any order (the preview sorts them) */
  samples(): Promise<RequestSample[]> | RequestSample[];
}

export interface ImpactPreviewOptions {
  manager: PolicyManager;
  samples?: SampleSource;
  parseLimits: ParseLimits;
  luaBudgets?: LuaBudgets;
  settings: StateSettings;
  defaultLanguage: string;
  /** after this long, stop and answer `complete: false` */
  timeoutMs: number;
  /** most changed samples listed (all are counted) */
  maxListed?: number;
  /** most documents put plus keys deleted */
  maxChanges?: number;
  /** most explicit requests */
  maxRequests?: number;
  /** most plans */
  maxPlans?: number;
  clock?: () => number;
  /** milliseconds on a monotonic clock, for the deadline and the slices (default performance.now; tests inject one) */
  monotonic?: () => number;
}

const DEFAULTS = { maxListed: 1000, maxChanges: 200, maxRequests: 100, maxPlans: 20 };
/** the deadline is checked, and the event loop given a turn, once per this many samples */
const DEADLINE_STRIDE = 64;
/** a preview's work runs in slices of about this long, so decisions keep flowing meanwhile */
const SLICE_MS = 8;
/** most script documents one preview compiles */
const MAX_SCRIPTS = 20;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class ImpactPreview {
  constructor(private readonly options: ImpactPreviewOptions) {}

  async preview(req: PreviewRequest): Promise<PreviewResult> {
    const o = this.options;
    const elapsed = o.monotonic ?? (() => performance.now());
    const started = elapsed();
    const puts = req.put ?? [];
    const deletes = req.delete ?? [];
    const requests = req.requests ?? [];
    const plans = req.plans ?? [];
    if (puts.length + deletes.length > (o.maxChanges ?? DEFAULTS.maxChanges)) {
      throw new PolicyEngineError('PREVIEW_LIMIT_EXCEEDED', `a preview takes at most ${o.maxChanges ?? DEFAULTS.maxChanges} changes (documents put plus keys deleted)`);
    }
    if (requests.length > (o.maxRequests ?? DEFAULTS.maxRequests)) {
      throw new PolicyEngineError('PREVIEW_LIMIT_EXCEEDED', `a preview answers at most ${o.maxRequests ?? DEFAULTS.maxRequests} explicit requests`);
    }
    if (plans.length > (o.maxPlans ?? DEFAULTS.maxPlans)) {
      throw new PolicyEngineError('PREVIEW_LIMIT_EXCEEDED', `a preview answers at most ${o.maxPlans ?? DEFAULTS.maxPlans} plans`);
    }
    const manager = o.manager;
    if (!manager.isLoaded()) throw new PolicyEngineError('NOT_READY', 'policies have not been loaded from the store yet');
    const nowMs = req.now !== undefined ? Date.parse(req.now) : (o.clock ?? Date.now)();
    if (Number.isNaN(nowMs)) throw new PolicyEngineError('REQUEST_INVALID', '`now` is not a valid time');
    const now = new Date(nowMs);

    // Taken together, before any await: the state previewed is one revision.
    const revision = manager.revision;
    const stale = manager.isStale();
    const currentDocs = manager.compiledDocuments();
    const broken = manager.brokenDocuments();
    const { proposedDocs, proposedRegistry, proposedBroken, changes } = this.applyChanges(puts, deletes, currentDocs, manager.registry, broken);

    const before = new PolicyState(currentDocs, manager.registry, broken, o.settings);
    const after = new PolicyState(proposedDocs, proposedRegistry, proposedBroken, o.settings);
    const deadline = started + o.timeoutMs;

    // Explicit requests: always answered and listed.
    const explain = req.explain === true;
    const requestImpacts = requests.map((r) => {
      const input = toInput(r);
      const b = before.answer(input, now, explain);
      const a = after.answer(input, now, explain);
      return impact('request', input, b, a, explain);
    });

    // Plans: the current state reports the stored revision; the proposed one, that revision with the preview's changes.
    const planImpacts: PlanImpact[] = [];
    if (plans.length > 0) {
      const was = before.plans(plans, now, revision, stale);
      const is = after.plans(plans, now, `${revision}+preview`, stale);
      was.forEach((b, i) => planImpacts.push({ changed: planShape(b) !== planShape(is[i]!), before: b, after: is[i]! }));
    }

    // Samples: sorted by their text so the answer is the same whatever order they were seen in.
    const summary = {
      samples: 0, evaluated: 0, changed: 0, gained: 0, lost: 0, restricted: 0, checksChanged: 0, listed: 0,
      testsBefore: { passed: 0, failed: 0 }, testsAfter: { passed: 0, failed: 0 }, testsBroken: 0, testsFixed: 0,
    };
    const listed: SampleImpact[] = [];
    let complete = true;
    if (req.samples !== false && o.samples) {
      const all = (await o.samples.samples()).map((s) => [JSON.stringify(s), s] as const).sort((x, y) => compareText(x[0], y[0]));
      summary.samples = all.length;
      // Only paths through a changed namespace can answer differently (unless the registry changed).
      const touched = new Set(changes.filter((c) => c.action !== 'unchanged').map((c) => c.namespace));
      const registryChanged = proposedRegistry !== manager.registry;
      const maxListed = o.maxListed ?? DEFAULTS.maxListed;
      let sliceStarted = elapsed();
      for (let i = 0; i < all.length; i++) {
        if (i % DEADLINE_STRIDE === 0) {
          const t = elapsed();
          if (t > deadline) {
            complete = false;
            break;
          }
          if (t - sliceStarted > SLICE_MS) {
            // The states are snapshots of immutable compiled documents: the live state may move meanwhile.
            await new Promise((resolve) => setImmediate(resolve));
            sliceStarted = elapsed();
          }
        }
        const sample = all[i]![1];
        summary.evaluated++;
        if (!registryChanged && !sample.namespace.split('.').some((ns) => touched.has(ns))) continue;
        const input = toInput(sample);
        const d = impact(sample.endpoint, input, before.answer(input, now), after.answer(input, now), false);
        if (!d.changed) continue;
        summary.changed++;
        if (d.gained.length > 0) summary.gained++;
        if (d.lost.length > 0) summary.lost++;
        if (d.deniedAdded.length > 0) summary.restricted++;
        if (d.checks) summary.checksChanged++;
        if (listed.length < maxListed) listed.push(d);
      }
      summary.listed = listed.length;
    }

    let tests: PreviewResult['tests'] = { broken: [], fixed: [], suites: [] };
    if (req.tests !== false && complete) {
      const testOptions = { now, defaultPermissions: o.settings.defaultPermissions, defaultLanguage: o.defaultLanguage, relationships: o.settings.relationships, ...(o.settings.entities ? { entities: o.settings.entities } : {}) };
      const was = runStoredSuites(before, testOptions, deadline, elapsed);
      const is = was && runStoredSuites(after, testOptions, deadline, elapsed);
      if (!was || !is) complete = false;
      else tests = compareSuites(was, is, summary);
    }

    return {
      revision, stale, now: now.toISOString(), complete, durationMs: Math.round((elapsed() - started) * 1000) / 1000,
      changes, summary, samples: listed, requests: requestImpacts, plans: planImpacts, tests,
    };
  }

  /** Validate the changes as writes would be, and build the proposed document set. */
  private applyChanges(puts: ReadonlyArray<Record<string, unknown> | string>, deletes: readonly string[], current: readonly CompiledPolicy[],
    registry: CompiledRegistry | undefined, broken: ReadonlyMap<string, ReadonlySet<string>>) {
    const o = this.options;
    const errors: DocumentError[] = [];
    const byKey = new Map(current.map((d) => [d.key, d]));
    const brokenKeys = new Map<string, string>();
    for (const [ns, keys] of broken) for (const k of keys) brokenKeys.set(k, ns);

    // Parsed first (cheap), so that the bounds are checked before anything is compiled.
    const parsed: Array<ParsedText | undefined> = puts.map((item, i) => {
      if (typeof item !== 'string') return { value: item, text: '' };
      const r = parseText(item, 'yaml', o.parseLimits, false);
      if (r.ok) return r.documents[0];
      errors.push(...r.errors.map((e) => ({ ...e, path: `put[${i}]${e.path === '' ? '' : '.' + e.path}` })));
      return undefined;
    });
    const scripts = parsed.filter((p) => p !== undefined && kindOf(p.value) === 'lua').length;
    if (scripts > MAX_SCRIPTS) throw new PolicyEngineError('PREVIEW_LIMIT_EXCEEDED', `a preview compiles at most ${MAX_SCRIPTS} script documents (each is a Lua state)`);
    const format = (i: number) => (typeof puts[i] === 'string' ? 'yaml' : 'json');

    // A registry among the puts types every other document (stored ones included).
    const registries = parsed.flatMap((p, i) => {
      if (p === undefined || kindOf(p.value) !== 'registry') return [];
      const r = loadParsed(p, format(i));
      return r.ok ? [r.loaded.policy] : [];
    });
    if (registries.length > 1) throw new PolicyEngineError('REGISTRY_CONFLICT', 'a preview may put at most one attribute registry');
    const deletingRegistry = registry !== undefined && deletes.includes(registry.key);
    const proposedRegistry = registries[0]?.registry ?? (deletingRegistry ? undefined : registry);
    const registryChanged = proposedRegistry !== registry;

    const incoming = new Map<string, CompiledPolicy>();
    parsed.forEach((p, i) => {
      if (p === undefined) return;
      const r = loadParsed(p, format(i), { registry: proposedRegistry, luaBudgets: o.luaBudgets });
      if (!r.ok) {
        errors.push(...r.errors.map((e) => ({ ...e, path: `put[${i}]${e.path === '' ? '' : '.' + e.path}` })));
        return;
      }
      const key = r.loaded.policy.key;
      if (incoming.has(key)) errors.push({ document: key, path: `put[${i}].key`, message: 'two documents put have this key' });
      incoming.set(key, r.loaded.policy);
    });
    deletes.forEach((key, i) => {
      if (!isValidKey(key)) errors.push({ path: `delete[${i}]`, message: 'is not a policy key' });
      else if (incoming.has(key)) errors.push({ document: key, path: `delete[${i}]`, message: 'is both put and deleted' });
      else if (!byKey.has(key) && !brokenKeys.has(key)) errors.push({ document: key, path: `delete[${i}]`, message: 'no stored document has this key' });
    });
    if (errors.length > 0) {
      throw new PolicyEngineError('POLICY_INVALID', `the proposed changes are invalid (${errors.length} error${errors.length === 1 ? '' : 's'})`, errors.slice(0, 50));
    }

    const changes: ChangeSummary[] = [];
    const proposed = new Map(byKey);
    for (const key of deletes) {
      const was = byKey.get(key);
      proposed.delete(key);
      changes.push({ key, namespace: was?.namespace ?? brokenKeys.get(key) ?? '', kind: was?.kind ?? 'policy', action: 'delete' });
    }
    for (const [key, policy] of incoming) {
      const was = byKey.get(key);
      const same = was !== undefined && JSON.stringify(was.document) === JSON.stringify(policy.document);
      proposed.set(key, policy);
      changes.push({ key, namespace: policy.namespace, kind: policy.kind, action: same ? 'unchanged' : was || brokenKeys.has(key) ? 'replace' : 'create' });
      // A document moved to another namespace changes its old one too.
      if (was && was.namespace !== policy.namespace) changes.push({ key, namespace: was.namespace, kind: was.kind, action: 'delete' });
    }
    if (registryChanged) {
      // Stored documents are re-typed against the proposed registry; one it breaks is refused, as a write is.
      const retyped: DocumentError[] = [];
      for (const [key, p] of proposed) {
        if (incoming.has(key) || p.kind === 'registry') continue;
        const r = compileDocument(p.document, { registry: proposedRegistry, luaBudgets: o.luaBudgets });
        if (r.ok) proposed.set(key, r.policy);
        else retyped.push(...r.errors.map((e) => ({ ...e, document: key })));
      }
      if (retyped.length > 0) {
        throw new PolicyEngineError('POLICY_INVALID', `the proposed registry would make ${new Set(retyped.map((e) => e.document)).size} stored document(s) invalid`, retyped.slice(0, 50));
      }
    }
    // A broken stored document that is replaced or deleted no longer breaks its namespace.
    const proposedBroken = new Map<string, Set<string>>();
    for (const [key, ns] of brokenKeys) {
      if (incoming.has(key) || deletes.includes(key)) continue;
      let set = proposedBroken.get(ns);
      if (!set) proposedBroken.set(ns, (set = new Set()));
      set.add(key);
    }
    changes.sort((a, b) => compareText(a.key, b.key) || compareText(a.action, b.action));
    return { proposedDocs: [...proposed.values()], proposedRegistry, proposedBroken, changes };
  }
}

/** Which cases break or pass again, and the counts before and after (into `summary`). */
function compareSuites(was: StoredSuiteResult[], is: StoredSuiteResult[], summary: PreviewResult['summary']): PreviewResult['tests'] {
  const broken: CaseChange[] = [];
  const fixed: CaseChange[] = [];
  const outcome = new Map<string, boolean>();
  for (const s of was) {
    summary.testsBefore.passed += s.counts.passed;
    summary.testsBefore.failed += s.counts.failed;
    for (const c of s.cases) outcome.set(`${s.key}\u0000${c.name}`, c.passed);
  }
  for (const s of is) {
    summary.testsAfter.passed += s.counts.passed;
    summary.testsAfter.failed += s.counts.failed;
    for (const c of s.cases) {
      const prior = outcome.get(`${s.key}\u0000${c.name}`);
      // A new case that fails counts as broken: the change ships with it failing.
      if (!c.passed && prior !== false) broken.push({ suite: s.name, key: s.key, case: c.name, ...(c.diff ? { diff: c.diff } : {}) });
      if (c.passed && prior === false) fixed.push({ suite: s.name, key: s.key, case: c.name });
    }
  }
  summary.testsBroken = broken.length;
  summary.testsFixed = fixed.length;
  return { broken, fixed, suites: is };
}

/** What a plan says, without the revision it was answered at. */
function planShape(p: StatePlan): string {
  if ('error' in p) return JSON.stringify({ error: p.error });
  return JSON.stringify({ kind: p.kind, exact: p.exact, filter: p.filter, recheck: p.recheck ?? [], default: p.default === true });
}

function toInput(r: StateInput & { permission?: string; endpoint?: string }): StateInput {
  const input: StateInput = { subject: r.subject, namespace: r.namespace };
  if (r.resource !== undefined) input.resource = r.resource;
  if (r.context !== undefined) input.context = r.context;
  const perms = r.permission !== undefined ? [r.permission, ...(r.permissions ?? [])] : r.permissions;
  if (perms && perms.length > 0) input.permissions = perms;
  return input;
}

function impact(endpoint: SampleImpact['endpoint'], input: StateInput, before: StateAnswer, after: StateAnswer, keepTraces: boolean): SampleImpact {
  const d = diffAnswers(before, after);
  const strip = (a: StateAnswer): StateAnswer => {
    if (keepTraces || a.trace === undefined) return a;
    const { trace: _t, ...rest } = a;
    return rest;
  };
  return { endpoint, ...input, ...d, before: strip(before), after: strip(after) };
}
