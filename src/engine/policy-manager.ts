// Keeps every stored policy compiled in memory (the request path never waits on the
// database) and current: store events are applied as they come, pollable stores are
// asked what changed every `pollIntervalMs`. Tells listeners which namespaces changed
// so caches drop exactly what they must.

import { LRUCache } from 'lru-cache';
import type { ChangedNamespaces } from '../store/store.js';
import { documentKind, isTextBacked, readingDocumentOf, textBacked } from '../store/text-backed.js';
import { loadParsed } from '../core/compile/load-document.js';
import type { CompiledRegistry } from '../core/registry/types.js';
import { initLua, initLuaFor, isLuaReady, type LuaBudgets } from '../core/lua/sandbox.js';
import { mayNeedLua } from '../core/lua/needs-lua.js';
import { buildPathPlan, buildPlan, buildSegment, planBytes, segmentBytes, type PathPlan, type PlanSegment } from '../core/evaluate/plan.js';
import { comparePolicies, runsAsPolicy, type CompiledPolicy } from '../core/compile/types.js';
import type { RouteTable } from '../core/forward-auth/route-table.js';
import { CatalogueIndex, type CatalogueLookup } from '../core/messages/catalogue.js';
import type { CompiledCatalogue } from '../core/messages/types.js';
import {
  UNPLACED_NAMESPACE, isPollable, isSubscribable, type PolicyRecord, type PolicyStore, type StoreEvent, type StoredDocument,
} from '../store/store.js';
import { SyncLoop, type ManagerLogger } from './sync-loop.js';

export type { ManagerLogger } from './sync-loop.js';

export interface PolicyManagerOptions {
  store: PolicyStore;
  /** how often a pollable store is asked for changes */
  pollIntervalMs: number;
  /** after this long without a successful sync, answers are marked stale */
  staleAfterMs: number;
  /** a full reload, as a safety net behind the change feed (0 = never) */
  resyncIntervalMs: number;
  logger: ManagerLogger;
  now?: () => number;
  /** budgets of Lua chunks compiled from stored documents */
  luaBudgets?: LuaBudgets;
  /** most bytes of path plans kept, by `planBytes` (PLAN_CACHE_MAX_BYTES; default 64 MiB) */
  planCacheMaxBytes?: number;
}

interface CachedPlan {
  plan: PathPlan;
  namespaces: readonly string[];
  /** what the cache charges for it: planBytes, plus the segments it had to build */
  bytes: number;
}

/** Path plans kept at most, whatever their size. */
const PLAN_CACHE_MAX = 10_000;
export const DEFAULT_PLAN_CACHE_MAX_BYTES = 64 * 1024 * 1024;

export type { ChangedNamespaces };

/** The stored forward-auth route tables (`kind: routes`), in key order. */
export interface StoredRoutes {
  tables: ReadonlyArray<{ key: string; table: RouteTable }>;
  /** keys of stored route documents that do not compile */
  broken: readonly string[];
}

export interface Gathered {
  /** in run order, disabled ones included */
  policies: readonly CompiledPolicy[];
  /** a namespace holding a stored document that failed to compile */
  broken?: string;
}

interface Entry {
  /** text-backed once its document compiled (store/text-backed.ts): the parsed tree is not kept */
  record: PolicyRecord;
  policy: CompiledPolicy | undefined;
  /** the document's kind (undefined: a policy), read without parsing a text-backed record */
  kind: StoredDocument['kind'];
}

const EMPTY: readonly CompiledPolicy[] = Object.freeze([]);

/**
 * The documents to scan for Lua before compiling: a text-backed record (store/text-backed.ts)
 * was compiled in this process already (by the file store that read it, or by this
 * manager), so the VM was loaded then if it needed it; parsing its text again to ask would
 * only cost time.
 */
function treesOf(records: readonly PolicyRecord[]): StoredDocument[] {
  return records.flatMap((r) => (isTextBacked(r) ? [] : [r.document]));
}

/** A store revision as a number, when it is one (MongoDB sequence numbers, counters). */
function numericRevision(revision: string): number | undefined {
  if (!/^\d{1,15}$/.test(revision)) return undefined;
  return Number(revision);
}

function recordsOf(events: readonly StoreEvent[]): PolicyRecord[] {
  const out: PolicyRecord[] = [];
  for (const e of events) if (e.type === 'put') out.push(e.record);
  return out;
}

export class PolicyManager {
  private readonly entries = new Map<string, Entry>();
  /** namespace → keys of its entries, so a change rebuilds one namespace without a full scan */
  private readonly keysByNamespace = new Map<string, Set<string>>();
  private readonly byNamespace = new Map<string, CompiledPolicy[]>();
  /** message catalogues by namespace and language: never run, never "present" */
  private readonly catalogueIndex = new CatalogueIndex();
  /** namespace → keys whose stored document does not compile */
  private readonly broken = new Map<string, Set<string>>();
  /** keys of stored `kind: routes` documents, and a counter that moves when one changes */
  private readonly routeKeys = new Set<string>();
  private routesVersionValue = 0;
  private readonly listeners: Array<(changed: ChangedNamespaces) => void> = [];
  /**
   * path string → plan over the current state; dropped when one of its namespaces changes.
   * Bounded in bytes: a plan of a path with many rules is large (its pattern table), and
   * the misses of many distinct paths would otherwise fill memory with them.
   */
  private readonly plans: LRUCache<string, CachedPlan>;
  /** namespace → cached plan keys over it, so a change drops its plans without a scan */
  private readonly plansByNamespace = new Map<string, Set<string>>();
  /**
   * namespace → the plan segment of its documents, shared by every cached plan over it
   * (thousands of tenant paths share those of `global` and `org`); dropped with the
   * namespace's last cached plan, and when the namespace changes.
   */
  private readonly segments = new Map<string, PlanSegment>();
  private readonly now: () => number;
  /** the revision answers report: the newest change applied, from any source */
  private revisionValue = '';
  /** the attribute registry in force (conditions of every policy are typed against it) */
  private registryValue: CompiledRegistry | undefined;
  /** where polling continues: only what a poll or full load has seen (local writes may skip ahead) */
  private cursor = '';
  /**
   * Ordering of events that reach this state by two roads (a write this process made is
   * applied at once, and comes back later from a poll or a full load read before it):
   * `floor` is the numeric revision up to which the state is the store's state (the last
   * full load or poll); `newer` holds keys changed past it, by the revision of their
   * newest applied event (a deleted key included). An event at or below either is older
   * than what the state holds for its key, and is dropped, so a late poll or snapshot
   * never rolls a document back, nor brings a deleted one back, even for a moment.
   */
  private floor: number | undefined;
  private readonly newer = new Map<string, number>();
  private loaded = false;
  private unsubscribe: (() => void) | undefined;
  private readonly loop: SyncLoop;
  /** store events waiting for the Lua VM to load, in order (apply) */
  private deferred: StoreEvent[] = [];
  private luaWait: Promise<void> | undefined;

  constructor(private readonly options: PolicyManagerOptions) {
    this.now = options.now ?? Date.now;
    this.plans = new LRUCache<string, CachedPlan>({
      max: PLAN_CACHE_MAX,
      maxSize: options.planCacheMaxBytes ?? DEFAULT_PLAN_CACHE_MAX_BYTES,
      sizeCalculation: (v, key) => v.bytes + key.length + 64,
      dispose: (v, key) => this.unindexPlan(key, v.namespaces),
    });
    const store = options.store;
    const hint = (store as { onChangeHint?: (l: () => void) => () => void }).onChangeHint;
    this.loop = new SyncLoop({
      run: (full) => this.runSync(full),
      what: 'policy store',
      whileFailing: 'serving the last good policies',
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs,
      // A store that pushes its events is asked only until the first load works.
      shouldPoll: () => isPollable(store) || !this.loaded,
      resyncIntervalMs: options.resyncIntervalMs,
      staleAfterMs: options.staleAfterMs,
      ...(typeof hint === 'function' ? { hints: (wake: () => void) => hint.call(store, wake) } : {}),
      logContext: () => ({ revision: this.revisionValue }),
      now: this.now,
    });
  }

  get store(): PolicyStore {
    return this.options.store;
  }

  get revision(): string {
    return this.revisionValue;
  }

  /** Load once (retrying in the background until it works) and start following changes. */
  async start(): Promise<void> {
    const store = this.options.store;
    if (isSubscribable(store)) this.unsubscribe = store.subscribe((e) => this.apply([e]));
    await this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.unsubscribe?.();
  }

  onChange(listener: (changed: ChangedNamespaces) => void): void {
    this.listeners.push(listener);
  }

  /** One sync at a time: a full load until loaded, then changes since our revision. */
  async sync(full = false): Promise<void> {
    await this.loop.sync(full);
  }

  /** A sync that starts after every write made so far (waits out one in flight). */
  async syncAfterWrite(): Promise<void> {
    await this.loop.syncAfter();
  }

  /** One sync (run by the loop); throws when the store cannot be read. */
  private async runSync(full: boolean): Promise<void> {
    const store = this.options.store;
    if (!this.loaded || full) {
      const snap = await store.loadAll();
      await this.luaFor(snap.records);
      this.replaceAll(snap.records, snap.revision);
    } else if (isPollable(store)) {
      const changes = await store.changesSince(this.cursor);
      if (changes === 'reset') {
        const snap = await store.loadAll();
        await this.luaFor(snap.records);
        this.replaceAll(snap.records, snap.revision);
      } else {
        await this.luaFor(recordsOf(changes.events));
        this.apply(changes.events);
        this.cursor = changes.revision;
        this.noteRevision(changes.revision);
        this.raiseFloor(changes.revision);
      }
    }
  }

  private replaceAll(records: PolicyRecord[], revision: string): void {
    const at = numericRevision(revision);
    // Keys written past the snapshot (by this process, while the load ran) keep their
    // current state. A snapshot older than the state's floor is a store that went back
    // (restored, or dropped): it is taken whole.
    const keep = new Map<string, Entry | undefined>();
    if (at !== undefined && (this.floor === undefined || at >= this.floor)) {
      for (const [key, rev] of this.newer) if (rev > at) keep.set(key, this.entries.get(key));
    }
    this.entries.clear();
    this.keysByNamespace.clear();
    for (const r of records) if (!keep.has(r.key)) this.setEntry(this.entryOf(r));
    for (const e of keep.values()) if (e) this.setEntry(this.entryOf(e.record));
    this.recompileAll();
    this.floor = at;
    for (const [key, rev] of this.newer) if (!keep.has(key) || (at !== undefined && rev <= at)) this.newer.delete(key);
    if (keep.size === 0) this.revisionValue = revision;
    else this.noteRevision(revision);
    this.cursor = revision;
    this.loaded = true;
    this.emit('all');
  }

  /** Find the registry, then compile every entry against it and rebuild every namespace. */
  private recompileAll(): void {
    const registries = [...this.entries.values()].filter((e) => e.kind === 'registry').sort((a, b) => (a.record.key < b.record.key ? -1 : 1));
    if (registries.length > 1) this.options.logger.warn({ keys: registries.map((e) => e.record.key) }, 'several attribute registries are stored; the first by key is used');
    const first = registries[0];
    const compiledRegistry = first ? this.compile(first.record) : undefined;
    this.registryValue = compiledRegistry?.registry;
    this.byNamespace.clear();
    this.catalogueIndex.clear();
    this.broken.clear();
    this.routesVersionValue++;
    const namespaces = new Set<string>();
    for (const e of this.entries.values()) {
      this.settle(e, e === first ? compiledRegistry : this.compile(e.record));
      namespaces.add(e.record.namespace);
    }
    for (const ns of namespaces) this.rebuild(ns);
  }

  /** The attribute registry in force, if any. */
  get registry(): CompiledRegistry | undefined {
    return this.registryValue;
  }

  private compile(record: PolicyRecord): CompiledPolicy | undefined {
    // Schema first, as on every write: a field this version does not know (a newer
    // version's document) must not be silently ignored.
    let result: ReturnType<typeof loadParsed>;
    try {
      result = loadParsed({ value: record.document, text: record.text }, record.format, { registry: this.registryValue, luaBudgets: this.options.luaBudgets });
    } catch (err) {
      // A compiler that throws on what the schema let through: this document is broken,
      // the rest of the state (and polling past it) is not.
      result = { ok: false, stage: 'document', errors: [{ path: '', message: (err as Error).message }] };
    }
    if (result.ok) return result.loaded.policy;
    // Fail closed: the namespace answers 503 until the document is fixed, since running
    // the path without it could drop a deny.
    this.options.logger.error({ key: record.key, errors: result.errors }, 'stored policy does not compile');
    return undefined;
  }

  /**
   * An entry's compiled form, once compiled: a document that compiled keeps its text, not
   * its parsed tree — the record becomes text-backed and the compiled form's `document`
   * reads the record's (parsed again when read: rare). A broken one keeps its tree (its
   * errors are reported from it).
   */
  private settle(entry: Entry, policy: CompiledPolicy | undefined): void {
    if (policy === undefined) {
      entry.policy = undefined;
      return;
    }
    entry.record = textBacked(entry.record);
    entry.policy = readingDocumentOf(policy, entry.record);
  }

  private entryOf(record: PolicyRecord): Entry {
    return { record, policy: undefined, kind: documentKind(record) };
  }

  private setEntry(entry: Entry): void {
    const { key, namespace } = entry.record;
    this.entries.set(key, entry);
    if (entry.kind === 'routes') {
      this.routeKeys.add(key);
      this.routesVersionValue++;
    }
    let keys = this.keysByNamespace.get(namespace);
    if (!keys) this.keysByNamespace.set(namespace, (keys = new Set()));
    keys.add(key);
  }

  private deleteEntry(entry: Entry): void {
    const { key, namespace } = entry.record;
    this.entries.delete(key);
    if (this.routeKeys.delete(key)) this.routesVersionValue++;
    const keys = this.keysByNamespace.get(namespace);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByNamespace.delete(namespace);
  }

  private rebuild(ns: string): void {
    const list: CompiledPolicy[] = [];
    const catalogues: CompiledCatalogue[] = [];
    const broken = new Set<string>();
    for (const key of this.keysByNamespace.get(ns) ?? []) {
      const { record, policy, kind } = this.entries.get(key)!;
      // A catalogue that does not compile only loses its texts (fallbacks answer), a
      // stored suite only its cases: neither can drop a deny. A broken route table fails
      // forward-auth closed instead (storedRoutes().broken), not every decision.
      if (!policy) {
        if (kind !== 'messages' && kind !== 'tests' && kind !== 'routes') broken.add(record.key);
      } else if (policy.catalogue) catalogues.push(policy.catalogue);
      else if (runsAsPolicy(policy)) list.push(policy);
    }
    this.catalogueIndex.setNamespace(ns, catalogues);
    list.sort(comparePolicies);
    if (list.length > 0) this.byNamespace.set(ns, list);
    else this.byNamespace.delete(ns);
    if (broken.size > 0) this.broken.set(ns, broken);
    else this.broken.delete(ns);
  }

  /** Load the Lua VM first when a record may hold Lua (it loads on demand: needs-lua.ts). */
  private async luaFor(records: readonly PolicyRecord[]): Promise<void> {
    await this.luaWait;
    if (!isLuaReady()) await initLuaFor(treesOf(records)).catch(() => {});
  }

  /**
   * Apply store events (from a subscription, a poll, or a write this process made). Events
   * that may hold Lua while the VM is not loaded yet wait for it, and every later event
   * waits behind them (order kept); a write this process made has loaded it already.
   */
  apply(events: readonly StoreEvent[]): void {
    if (this.luaWait !== undefined || (!isLuaReady() && mayNeedLua(treesOf(recordsOf(events))))) {
      for (const e of events) this.deferred.push(e);
      // A VM that fails to load leaves those documents broken (they fail closed).
      this.luaWait ??= initLua().catch(() => {}).then(() => {
        const deferred = this.deferred;
        this.deferred = [];
        this.luaWait = undefined;
        this.applyNow(deferred);
      });
      return;
    }
    this.applyNow(events);
  }

  /** A poll applied every change up to `revision`: the state is the store's up to there. */
  private raiseFloor(revision: string): void {
    const at = numericRevision(revision);
    if (at === undefined || (this.floor !== undefined && at <= this.floor)) return;
    this.floor = at;
    for (const [key, rev] of this.newer) if (rev <= at) this.newer.delete(key);
  }

  /** False for an event older than what the state holds for its key (see `floor`); else notes it. */
  private isNewest(key: string, revision: string): boolean {
    const at = numericRevision(revision);
    if (at === undefined) return true;
    if (this.floor !== undefined && at <= this.floor) return false;
    const seen = this.newer.get(key);
    if (seen !== undefined && at <= seen) return false;
    this.newer.set(key, at);
    return true;
  }

  private applyNow(events: readonly StoreEvent[]): void {
    const changed = new Set<string>();
    let registryChanged = false;
    for (const e of events) {
      if (e.type === 'reset') {
        void this.sync(true);
        continue;
      }
      if (!this.isNewest(e.type === 'put' ? e.record.key : e.key, e.revision)) continue;
      if (e.type === 'put') {
        const prev = this.entries.get(e.record.key);
        if (prev && prev.record.etag === e.record.etag && prev.record.namespace === e.record.namespace) continue;
        if (prev) changed.add(prev.record.namespace);
        const entry = this.entryOf(e.record);
        if (entry.kind === 'registry' || prev?.kind === 'registry') registryChanged = true;
        if (prev) this.deleteEntry(prev);
        if (!registryChanged) this.settle(entry, this.compile(entry.record));
        this.setEntry(entry);
        changed.add(e.record.namespace);
      } else {
        const prev = this.entries.get(e.key);
        if (!prev) continue;
        if (prev.kind === 'registry') registryChanged = true;
        this.deleteEntry(prev);
        changed.add(prev.record.namespace);
      }
      this.noteRevision(e.revision);
    }
    if (registryChanged) {
      // Every condition is typed against the registry: recompile everything.
      this.recompileAll();
      this.emit('all');
      return;
    }
    for (const ns of changed) this.rebuild(ns);
    // A document without a readable namespace affects every path.
    if (changed.has(UNPLACED_NAMESPACE)) this.emit('all');
    else if (changed.size > 0) this.emit(changed);
  }

  private noteRevision(revision: string): void {
    const n = Number(revision);
    const cur = Number(this.revisionValue);
    // Numeric revisions (Mongo seq, counters) only move forward; others are taken as given.
    if (Number.isFinite(n) && Number.isFinite(cur) && this.revisionValue !== '' && n <= cur) return;
    this.revisionValue = revision;
  }

  private emit(changed: ChangedNamespaces): void {
    if (changed === 'all') {
      this.plans.clear();
      this.segments.clear();
    } else {
      for (const ns of changed) {
        const keys = this.plansByNamespace.get(ns);
        if (keys) for (const key of [...keys]) this.plans.delete(key);
        this.segments.delete(ns);
      }
    }
    for (const l of this.listeners) l(changed);
  }

  /** Namespaces holding stored documents that run (or would, disabled ones included), and those holding broken ones. */
  storedNamespaces(): string[] {
    return [...new Set([...this.byNamespace.keys(), ...this.broken.keys()])];
  }

  /** The documents of a namespace path, in run order. */
  gather(namespaces: readonly string[]): Gathered {
    const broken = this.brokenIn(namespaces);
    if (namespaces.length === 1) {
      return { policies: this.byNamespace.get(namespaces[0]!) ?? EMPTY, broken };
    }
    const out: CompiledPolicy[] = [];
    for (const ns of namespaces) {
      const list = this.byNamespace.get(ns);
      if (list) for (const p of list) out.push(p);
    }
    return { policies: out, broken };
  }

  /** The namespace of a broken document that can change this path's answers, if any. */
  private brokenIn(namespaces: readonly string[]): string | undefined {
    if (this.broken.size === 0) return undefined;
    // A broken document whose namespace is unknown could hold a deny for any path.
    return namespaces.find((ns) => this.broken.has(ns)) ?? (this.broken.has(UNPLACED_NAMESPACE) ? UNPLACED_NAMESPACE : undefined);
  }

  /** The evaluation plan of a namespace path (`path` is its text, the plan cache's key). */
  plan(path: string, namespaces: readonly string[]): { plan: PathPlan; broken?: string } {
    // A path with a broken document is never cached, so a cached plan is a good one.
    const known = this.plans.get(path);
    if (known) return { plan: known.plan };
    // Asked first, so a good path's miss does not also build the flat list of its documents.
    const broken = this.brokenIn(namespaces);
    if (broken !== undefined) return { plan: buildPlan(this.gather(namespaces).policies), broken };
    // One segment per namespace holding documents, in path order: the same rules in the
    // same order as gather's, built once per namespace instead of once per path.
    const segments: PlanSegment[] = [];
    const used: Array<[string, PlanSegment]> = [];
    let bytes = 0;
    for (const ns of namespaces) {
      let segment = this.segments.get(ns);
      if (!segment) {
        const list = this.byNamespace.get(ns);
        if (!list) continue;
        segment = buildSegment(list);
        this.segments.set(ns, segment);
        bytes += segmentBytes(segment);
      }
      segments.push(segment);
      used.push([ns, segment]);
    }
    const plan = buildPathPlan(segments);
    this.keepPlan(path, { plan, namespaces, bytes: bytes + planBytes(plan) });
    // Keep a segment while a cached plan holds its namespace (keeping this plan may have
    // evicted the last other one over it), not otherwise.
    for (const [ns, segment] of used) {
      if (!this.plansByNamespace.has(ns)) this.segments.delete(ns);
      else if (!this.segments.has(ns)) this.segments.set(ns, segment);
    }
    return { plan };
  }

  /** The plan of a single stored document (the `policy` mode). */
  policyPlan(key: string): { plan: PathPlan; namespaces: readonly string[] } | 'broken' | undefined {
    const cacheKey = `#${key}`;
    const known = this.plans.get(cacheKey);
    if (known) return known;
    const p = this.policyByKey(key);
    if (p === undefined || p === 'broken') return p;
    const plan = buildPlan([p]);
    const entry = { plan, namespaces: [p.namespace], bytes: planBytes(plan) + plan.segments.reduce((n, s) => n + segmentBytes(s), 0) };
    this.keepPlan(cacheKey, entry);
    return { plan, namespaces: entry.namespaces };
  }

  /** Number and estimated bytes of the cached path plans. */
  planCacheSize(): { entries: number; bytes: number } {
    return { entries: this.plans.size, bytes: this.plans.calculatedSize };
  }

  private keepPlan(key: string, entry: CachedPlan): void {
    this.plans.set(key, entry);
    // A plan larger than the whole budget is not kept.
    if (!this.plans.has(key)) return;
    for (const ns of entry.namespaces) {
      let keys = this.plansByNamespace.get(ns);
      if (!keys) this.plansByNamespace.set(ns, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindexPlan(key: string, namespaces: readonly string[]): void {
    for (const ns of namespaces) {
      const keys = this.plansByNamespace.get(ns);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) {
        this.plansByNamespace.delete(ns);
        this.segments.delete(ns);
      }
    }
  }

  /** The compiled policy of one key (undefined when absent or not a policy), or 'broken'. */
  policyByKey(key: string): CompiledPolicy | 'broken' | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (!e.policy) return 'broken';
    return runsAsPolicy(e.policy) ? e.policy : undefined;
  }

  /** The message catalogues of every namespace. */
  get catalogues(): CatalogueLookup {
    return this.catalogueIndex;
  }

  /** Every stored document that compiles, catalogues and the registry included. */
  compiledDocuments(): CompiledPolicy[] {
    return [...this.entries.values()].flatMap((e) => (e.policy ? [e.policy] : []));
  }

  /** Moves whenever a stored route document is written, deleted or recompiled. */
  get routesVersion(): number {
    return this.routesVersionValue;
  }

  /** The stored forward-auth route tables in key order, and the keys of those that do not compile. */
  storedRoutes(): StoredRoutes {
    const tables: Array<{ key: string; table: RouteTable }> = [];
    const broken: string[] = [];
    for (const key of [...this.routeKeys].sort()) {
      const routes = this.entries.get(key)?.policy?.routes;
      if (routes) tables.push({ key, table: routes });
      else broken.push(key);
    }
    return { tables, broken };
  }

  /** Keys of stored documents that do not compile, by namespace (their paths answer 503). */
  brokenDocuments(): ReadonlyMap<string, ReadonlySet<string>> {
    return new Map([...this.broken].map(([ns, keys]) => [ns, new Set(keys)]));
  }

  /** Every stored policy document (not the registry), for checks that span them all. */
  policyDocuments(): Array<{ key: string; record: PolicyRecord }> {
    return [...this.entries.values()].filter((e) => e.kind !== 'registry').map((e) => ({ key: e.record.key, record: e.record }));
  }

  isLoaded(): boolean {
    return this.loaded;
  }

  /** True while the in-memory state may be older than its freshness bound. */
  isStale(): boolean {
    if (!this.loaded) return true;
    if (!isPollable(this.options.store)) return this.loop.lastError !== undefined;
    return this.loop.isStale();
  }

  status(): { loaded: boolean; stale: boolean; revision: string; documents: number; lastSyncAt: number; lastError?: string; brokenDocuments: number } {
    let brokenDocuments = 0;
    for (const s of this.broken.values()) brokenDocuments += s.size;
    return {
      loaded: this.loaded,
      stale: this.isStale(),
      revision: this.revisionValue,
      documents: this.entries.size,
      lastSyncAt: this.loop.lastSyncAt,
      brokenDocuments,
      ...(this.loop.lastError !== undefined ? { lastError: this.loop.lastError } : {}),
    };
  }
}
