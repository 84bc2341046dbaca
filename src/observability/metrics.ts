// Prometheus metrics (SPEC §7), one prom-client Registry per service so tests can build
// many apps. The request path only bumps plain fields (hot-metrics.ts); everything that
// can be read from a component's own state (cache counts, policy status) is read at
// scrape time instead. Labels never carry user input: routes are patterns, modes and
// outcomes are fixed sets.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter, HotHistogram, registerDerivedCounter, type CounterSeries, type HistogramSeries } from './hot-metrics.js';
import { isPollable, type PolicyStore } from '../store/store.js';

/** authzen: each AuthZEN evaluation; forward-auth: each gateway sub-request that reached a decision */
export type DecisionEndpoint = 'evaluate' | 'check' | 'authzen' | 'forward-auth';
export type DecisionMode = 'namespace' | 'policy' | 'policies' | 'invalid';
/**
 * evaluate: `granted` (some permission), `none` (no permission), `default` (no document on the path);
 * check: `allowed` / `denied` (all / none of the permissions asked), `partial`; both: `error`.
 */
export type DecisionOutcome = 'granted' | 'none' | 'default' | 'allowed' | 'denied' | 'partial' | 'error';

/** What the cache exposes; read at scrape time, never counted twice on the hot path. */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

/** What the policy manager exposes (its `status()`, and the store it follows); read at scrape time. */
export interface PolicyStatusSource {
  status(): { loaded: boolean; stale: boolean; documents: number; brokenDocuments: number; lastSyncAt: number; lastError?: string };
  /**
   * The store the state follows. A store that pushes its changes instead of being polled
   * (file, memory) keeps the state current for as long as it reports no error, so its
   * sync age is 0 then: only a polled store's age grows between syncs.
   */
  readonly store?: PolicyStore;
}

export interface MetricsOptions {
  /** ms since the epoch; injectable for tests */
  now?: () => number;
}

const PREFIX = 'policy_engine_';
// Decisions are answered in tens of µs from the cache: the buckets start well below 1 ms.
const HTTP_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly httpDuration: HotHistogram<'method' | 'route' | 'status_code'>;
  private readonly evaluations: HotCounter<'endpoint' | 'mode' | 'outcome'>;
  private readonly conditionErrors: HotCounter<'endpoint'>;
  private readonly storeDuration: Histogram<'operation'>;
  private readonly storeErrors: Counter<'operation'>;

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    const registers = [this.registry];
    this.httpDuration = new HotHistogram(this.registry, `${PREFIX}http_request_duration_seconds`,
      'time from receiving a request to sending its response, by method, route pattern and status code', HTTP_BUCKETS);
    registerDerivedCounter(this.registry, `${PREFIX}http_requests_total`, 'HTTP requests answered, by method, route pattern and status code',
      () => this.httpDuration.counts());
    this.evaluations = new HotCounter(this.registry, `${PREFIX}evaluations_total`, 'evaluate and check requests answered, by endpoint, mode and outcome');
    this.conditionErrors = new HotCounter(this.registry, `${PREFIX}condition_errors_total`,
      'answers in which at least one rule condition failed at run time (its rule did not apply)');
    this.storeDuration = new Histogram({
      name: `${PREFIX}store_operation_duration_seconds`, help: 'policy store calls, by operation (failed ones included)',
      labelNames: ['operation'], buckets: STORE_BUCKETS, registers,
    });
    this.storeErrors = new Counter({
      name: `${PREFIX}store_operation_errors_total`, help: 'policy store calls that failed, by operation',
      labelNames: ['operation'], registers,
    });
  }

  /** Node.js process metrics (CPU, memory, event-loop lag, GC): for the real server, once per process. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  /** One answered HTTP request; `route` is the matched pattern (never the raw URL). */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.requestObserver(route)(method, statusCode, seconds);
  }

  /**
   * The observer of one route's requests, for a caller that knows its route once (the
   * metrics plugin, per route): its series are found by method and status code, with no
   * key text or label object built per request.
   */
  requestObserver(route: string): (method: string, statusCode: number, seconds: number) => void {
    const byMethod = new Map<string, Map<number, HistogramSeries>>();
    const histogram = this.httpDuration;
    return (method, statusCode, seconds) => {
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
      let series = byStatus.get(statusCode);
      if (series === undefined) {
        series = histogram.series(`${method} ${statusCode} ${route}`, { method, route, status_code: String(statusCode) });
        byStatus.set(statusCode, series);
      }
      histogram.observe(series, seconds);
    };
  }

  /** Series by endpoint, mode and outcome, found without building a key per decision. */
  private readonly decisionSeries = new Map<DecisionEndpoint, Map<DecisionMode, Map<DecisionOutcome, CounterSeries>>>();

  countDecision(endpoint: DecisionEndpoint, mode: DecisionMode, outcome: DecisionOutcome, conditionErrors: boolean): void {
    let byMode = this.decisionSeries.get(endpoint);
    if (byMode === undefined) this.decisionSeries.set(endpoint, (byMode = new Map()));
    let byOutcome = byMode.get(mode);
    if (byOutcome === undefined) byMode.set(mode, (byOutcome = new Map()));
    let series = byOutcome.get(outcome);
    if (series === undefined) byOutcome.set(outcome, (series = this.evaluations.series(`${endpoint} ${mode} ${outcome}`, { endpoint, mode, outcome })));
    series.value++;
    if (conditionErrors) this.conditionErrors.series(endpoint, { endpoint }).value++;
  }

  /** One store call: its duration, and whether it failed. */
  observeStoreCall(operation: string, seconds: number, failed: boolean): void {
    this.storeDuration.labels({ operation }).observe(seconds);
    if (failed) this.storeErrors.labels({ operation }).inc();
  }

  /** Export the decision cache's own counters (hits and misses only grow). */
  watchCache(cache: CacheCounts): void {
    this.watchCounts('decision_cache', 'decision cache lookups', 'decisions held in the cache', cache);
  }

  /** Export the plan answer cache's counters (POST /v1/plan; src/cache/plan-results.ts). */
  watchPlanResults(cache: CacheCounts): void {
    this.watchCounts('plan_results', 'plan answer cache lookups', 'plan answers held in the cache', cache);
  }

  private watchCounts(name: string, lookups: string, entries: string, cache: CacheCounts): void {
    const registers = [this.registry];
    let hitsSeen = 0;
    let missesSeen = 0;
    new Counter({
      name: `${PREFIX}${name}_hits_total`, help: `${lookups} that found an entry`, registers,
      collect() {
        const hits = cache.hits;
        this.inc(Math.max(0, hits - hitsSeen));
        hitsSeen = hits;
      },
    });
    new Counter({
      name: `${PREFIX}${name}_misses_total`, help: `${lookups} that found none`, registers,
      collect() {
        const misses = cache.misses;
        this.inc(Math.max(0, misses - missesSeen));
        missesSeen = misses;
      },
    });
    new Gauge({
      name: `${PREFIX}${name}_entries`, help: entries, registers,
      collect() { this.set(cache.size); },
    });
  }

  /** Export the policy state: documents, freshness, stale mode. */
  /** The relationship state in memory (SPEC §9). */
  watchRelations(source: { status(): { loaded: boolean; revision: string; tuples: number } }): void {
    const registers = [this.registry];
    new Gauge({ name: `${PREFIX}relations_loaded`, help: '1 once relationships have been loaded from the store', registers, collect() { this.set(source.status().loaded ? 1 : 0); } });
    new Gauge({ name: `${PREFIX}relation_tuples`, help: 'relationship tuples held in memory', registers, collect() { this.set(source.status().tuples); } });
    new Gauge({ name: `${PREFIX}relations_revision`, help: 'the relationship revision this replica has applied', registers, collect() { this.set(Number(source.status().revision) || 0); } });
  }

  /** The request samples impact previews re-evaluate (issue 11). */
  /** Decision-record shipping (decision-shipping.ts), per sink; read at scrape time. */
  watchShipping(shippers: ReadonlyArray<{ stats(): { sink: string; queued: number; shipped: number; dropped: number; failures: number } }>): void {
    if (shippers.length === 0) return;
    const registers = [this.registry];
    const each = (pick: (s: ReturnType<(typeof shippers)[number]['stats']>) => number) => () => shippers.map((sh) => {
      const s = sh.stats();
      return { labels: { sink: s.sink }, value: pick(s) };
    });
    registerDerivedCounter(this.registry, `${PREFIX}decision_ship_shipped_total`, 'decision records accepted by a sink', each((s) => s.shipped));
    registerDerivedCounter(this.registry, `${PREFIX}decision_ship_dropped_total`, 'decision records dropped: the buffer was full (sink slow or down) or the sink refused the batch', each((s) => s.dropped));
    registerDerivedCounter(this.registry, `${PREFIX}decision_ship_failures_total`, 'batch sends that failed and were retried', each((s) => s.failures));
    const queued = each((s) => s.queued);
    new Gauge({
      name: `${PREFIX}decision_ship_queued`, help: 'decision records waiting for their sink', labelNames: ['sink'], registers,
      collect() {
        for (const q of queued()) this.set(q.labels, q.value);
      },
    });
  }

  watchSamples(source: { readonly size: number; readonly max: number }): void {
    const registers = [this.registry];
    new Gauge({ name: `${PREFIX}request_samples`, help: 'distinct recent request inputs kept for impact previews', registers, collect() { this.set(source.size); } });
    new Gauge({ name: `${PREFIX}request_samples_max`, help: 'most request samples kept (SAMPLES_MAX)', registers, collect() { this.set(source.max); } });
  }

  watchPolicies(source: PolicyStatusSource): void {
    const registers = [this.registry];
    const now = this.now;
    const startedAt = this.startedAt;
    new Gauge({
      name: `${PREFIX}policy_documents`, help: 'policy documents held in memory (disabled and broken ones included)', registers,
      collect() { this.set(source.status().documents); },
    });
    new Gauge({
      name: `${PREFIX}policy_documents_broken`, help: 'stored documents that do not compile (their namespaces answer 503)', registers,
      collect() { this.set(source.status().brokenDocuments); },
    });
    new Gauge({
      name: `${PREFIX}policy_sync_age_seconds`,
      help: 'seconds since the in-memory policies were last known to match the store (since start while they never were); 0 while a store that pushes its changes (file, memory) reports no error', registers,
      collect() {
        const status = source.status();
        if (source.store !== undefined && !isPollable(source.store) && status.loaded && status.lastError === undefined) {
          this.set(0);
          return;
        }
        const last = status.lastSyncAt;
        this.set(Math.max(0, (now() - (last > 0 ? last : startedAt)) / 1000));
      },
    });
    new Gauge({
      name: `${PREFIX}policy_stale`, help: '1 while answers come from policy state older than STALE_AFTER_MS (or none is loaded)', registers,
      collect() { this.set(source.status().stale ? 1 : 0); },
    });
    new Gauge({
      name: `${PREFIX}policy_loaded`, help: '1 once policies have been loaded from the store', registers,
      collect() { this.set(source.status().loaded ? 1 : 0); },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
