// The composition root's wiring: configuration in, ready services out. main.ts and
// the tests call this; nothing deeper reads configuration.

import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { DEFAULT_PARSE_LIMITS } from './core/document/parse.js';
import { configureCelLimits } from './core/condition/budget.js';
import { setLuaTurnBudget } from './core/lua/sandbox.js';
import { DecisionCache } from './cache/decision-cache.js';
import { PlanResults } from './cache/plan-results.js';
import { DecisionService } from './engine/decision-service.js';
import { PolicyManager } from './engine/policy-manager.js';
import { PolicyService } from './engine/policy-service.js';
import type { DecisionLogOptions } from './observability/decision-log.js';
import { InstrumentedStore } from './observability/instrumented-store.js';
import { Metrics } from './observability/metrics.js';
import { createRelationServices } from './compose-relations.js';
import type { RelationService } from './engine/relation-service.js';
import { createEntityServices } from './compose-entities.js';
import { createJwtSubjects, type JwtSubjects } from './engine/tokens/jwt-subjects.js';
import type { EntityService } from './engine/entity-service.js';
import type { EntityManager } from './engine/entity-manager.js';
import { StoreUnavailableError, hasSampleStore, type PolicyStore } from './store/store.js';
import { SharedSamples } from './engine/shared-samples.js';
import { RequestSamples } from './engine/request-samples.js';
import type { FileStore } from './store/file/file-store.js';
import { ImpactPreview } from './engine/preview/impact-preview.js';
import { HistoryService } from './engine/history-service.js';
import { DecisionShipper } from './observability/decision-shipping.js';
import { httpTransport, natsTransport } from './observability/ship-transports.js';
import { planAnswerBytes, PlanService, type PlanRequest, type PlanResponse } from './engine/plan-service.js';
import { AuthzenService, type SearchSources } from './engine/authzen-service.js';
import { PolicyEngineError, statusOf } from './errors.js';
import { ForwardAuthService, headerSubject, jwtSubject, loadRouteTable, noSubject } from './engine/forward-auth-service.js';

export interface Services {
  /** the store every service uses: the configured one, wrapped to time its calls */
  store?: PolicyStore;
  manager?: PolicyManager;
  cache: DecisionCache;
  decisions: DecisionService;
  policies?: PolicyService;
  /** this service's own registry: several services in one process never share series */
  metrics: Metrics;
  /** relationships (SPEC §9); absent with STORE=none */
  relations?: RelationService;
  /** recent request inputs (SAMPLES_ENABLED); absent when disabled or with STORE=none */
  samples?: RequestSamples;
  /** POST /v1/preview; absent with STORE=none */
  preview?: ImpactPreview;
  /** the directory (SPEC §12): in every store, in memory with STORE=none */
  entities: EntityService;
  /** JWT subjects (docs/jwt.md); absent when no JWKS is configured */
  tokens?: JwtSubjects;
  /** history, change feed, rollback; absent with STORE=none */
  history?: HistoryService;
  /** decision-log shipping to NATS JetStream / HTTP (empty when not configured) */
  shippers: DecisionShipper[];
  /** POST /v1/plan and /v1/relations/plan */
  plans: PlanService;
  /** PLAN_MAX_IDS */
  planMaxIds: number;
  /** AuthZEN 1.0 over the decision service */
  authzen: AuthzenService;
  /** /v1/forward-auth over the route table of FORWARD_AUTH_ROUTES (none: every request is denied) */
  forwardAuth: ForwardAuthService;
  close(): Promise<void>;
}

/** how often a replica writes its new request samples to the shared collection */
const SAMPLE_FLUSH_MS = 2000;

export function decisionLogOptions(config: Config): DecisionLogOptions {
  return {
    enabled: config.decisionLog,
    sample: config.decisionLogSample,
    redact: config.decisionLogRedact,
    attributes: config.decisionLogAttributes,
  };
}

/** The sinks decision records are shipped to besides stdout (docs/audit.md). */
export function createDecisionShippers(config: Config, logger: Logger): DecisionShipper[] {
  const options = (sink: string) => ({
    batch: config.decisionShipBatch,
    batchBytes: config.decisionShipBatchBytes,
    flushMs: config.decisionShipFlushMs,
    buffer: config.decisionShipBuffer,
    onStateChange: (up: boolean, err?: unknown) => (up
      ? logger.warn({ sink }, 'decision shipping resumed')
      : logger.warn({ sink, err: err instanceof Error ? err.message : String(err) }, 'decision shipping failed; retrying with back-off, dropping (and counting) records past DECISION_SHIP_BUFFER')),
  });
  const out: DecisionShipper[] = [];
  if (config.decisionShipNatsUrl) out.push(new DecisionShipper(natsTransport({ servers: config.decisionShipNatsUrl, subject: config.decisionShipNatsSubject }), options('nats')));
  if (config.decisionShipHttpUrl) out.push(new DecisionShipper(httpTransport({ url: config.decisionShipHttpUrl }), options('http')));
  return out;
}

/** HISTORY_RETENTION_DAYS in milliseconds. */
export function historyRetentionMs(config: Config): number {
  return Math.round(config.historyRetentionDays * 24 * 3600_000);
}

/** The configured store; each is imported only when chosen (the file store never loads the driver). */
export async function createStore(config: Config, logger: Logger): Promise<PolicyStore | undefined> {
  switch (config.store) {
    case 'none':
      return undefined;
    case 'file': {
      const { FileStore } = await import('./store/file/file-store.js');
      return new FileStore({ dir: config.policyDir, logger, historyRetentionMs: historyRetentionMs(config) });
    }
    case 'mongo': {
      const { MongoStore } = await import('./store/mongo/mongo-store.js');
      return new MongoStore({ url: config.mongoUrl!, dbName: config.mongoDb, serverSelectionTimeoutMS: config.storeTimeoutMs, changeRetentionMs: historyRetentionMs(config) });
    }
  }
}

/** An empty store with a default that grants everything answers every path with `*`: say so at start. */
function warnIfOpenByDefault(config: Config, manager: PolicyManager, logger: Logger): void {
  const status = manager.status();
  if (!status.loaded || status.documents > 0 || !config.defaultPermissions.includes('*')) return;
  logger.warn(
    { store: config.store, ...(config.store === 'file' ? { dir: config.policyDir } : {}), defaultPermissions: config.defaultPermissions },
    'the policy store holds no documents and DEFAULT_PERMISSIONS grants "*": every path is allowed everything until policies are added',
  );
}

/** Where AuthZEN searches find candidates: the policies of the path, the directory, and the relationship graph. */
function authzenSearchSources(manager: PolicyManager | undefined, relations: RelationService | undefined, plans: PlanService | undefined, directory: Pick<EntityManager, 'get' | 'page'>): SearchSources {
  return {
    ...(plans ? { plan: (req: PlanRequest) => plans.plan(req) } : {}),
    // From memory, like the directory an evaluation merges in (NOT_READY before its first load).
    directoryIds(type: string, limit: number) {
      return Promise.resolve(directory.page({ type, limit }).entities.map((e) => e.ref.slice(type.length + 1)));
    },
    directoryEntity: (ref: string) => directory.get(ref),
    ...(manager ? {
      pathRules(path: string, namespaces: readonly string[]) {
        const p = manager.plan(path, namespaces);
        if (p.broken !== undefined) throw new PolicyEngineError('POLICY_STATE_BROKEN', `a stored document in namespace ${p.broken} does not compile; fix or delete it`);
        return p.plan.rules;
      },
    } : {}),
    ...(relations ? {
      relationPermissions(type: string) {
        const defs = relations.manager.engine.schema?.types.get(type)?.defs.values() ?? [];
        return [...defs].filter((d) => d.kind === 'permission').map((d) => d.name);
      },
      async relatedSubjects(resource: string, permission: string, subjectType: string, limit: number) {
        try {
          const ids: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await relations.lookupSubjects({ resource, permission, subjectType, limit: 1000, ...(cursor ? { cursor } : {}) });
            for (const s of page.subjects) if (!s.endsWith(':*')) ids.push(s.slice(subjectType.length + 1));
            cursor = page.cursor ?? undefined;
          } while (cursor !== undefined && ids.length < limit);
          return ids;
        } catch (err) {
          // A permission or type the relationship schema does not know (or no schema) names no candidate.
          if (err instanceof PolicyEngineError && statusOf(err.code) < 500) return [];
          throw err;
        }
      },
      async relatedResources(type: string, limit: number) {
        const ids = new Set<string>();
        let cursor: string | undefined;
        try {
          do {
            const page = await relations.read({ resource: type, limit: 1000, ...(cursor ? { cursor } : {}) });
            for (const t of page.relationships) ids.add(t.resource.slice(type.length + 1));
            cursor = page.cursor ?? undefined;
          } while (cursor !== undefined && ids.size < limit);
        } catch (err) {
          if (err instanceof PolicyEngineError && statusOf(err.code) < 500) return [];
          throw err;
        }
        return [...ids];
      },
    } : {}),
  };
}

/** Build every service around a store (the configured one unless given). */
/** Seams for tests: a monotonic clock (milliseconds) for the preview's deadline. */
export interface ServiceClocks {
  monotonic?: () => number;
}

export async function createServices(config: Config, logger: Logger, storeOverride?: PolicyStore, clocks: ServiceClocks = {}): Promise<Services> {
  // A bad route table stops the start before anything is opened.
  const routeTable = config.forwardAuthRoutes ? loadRouteTable(config.forwardAuthRoutes) : { routes: [] };
  const parseLimits = { ...DEFAULT_PARSE_LIMITS, maxBytes: config.bodyLimit };
  const luaBudgets = { instructions: config.luaInstructions, timeMs: config.luaTimeMs, memoryBytes: config.luaMemoryBytes };
  configureCelLimits({ steps: config.celSteps, allocation: config.celAllocation });
  setLuaTurnBudget(config.luaTurnMs > 0 ? config.luaTurnMs : Number.POSITIVE_INFINITY);
  // The Lua WebAssembly module loads on demand, before the first document that may hold
  // Lua is compiled (core/lua/needs-lua.ts): the policy manager, the file store and the
  // HTTP routes that take documents (server/lazy-lua.ts) wait for it.
  const metrics = new Metrics();
  const raw = storeOverride ?? (await createStore(config, logger));
  const store = raw ? new InstrumentedStore(raw, metrics) : undefined;
  const cache = new DecisionCache({ max: config.cacheMax, maxBytes: config.cacheMaxBytes, ttlMs: config.cacheTtlMs, admission: config.cacheAdmission });
  metrics.watchCache(cache);
  let manager: PolicyManager | undefined;
  if (store) {
    try {
      await store.open();
    } catch (err) {
      // The database may be down at start-up: serve NOT_READY and let the manager's
      // background sync pick it up, instead of exiting.
      if (!(err instanceof StoreUnavailableError)) throw err;
      logger.warn({ err: (err as Error).message }, 'policy store unreachable at start-up; retrying in the background');
    }
    manager = new PolicyManager({
      store,
      pollIntervalMs: config.pollIntervalMs,
      staleAfterMs: config.staleAfterMs,
      resyncIntervalMs: config.resyncIntervalMs,
      logger,
      luaBudgets,
      planCacheMaxBytes: config.planCacheMaxBytes,
    });
    manager.onChange((changed) => cache.invalidate(changed));
    metrics.watchPolicies(manager);
    await manager.start();
    warnIfOpenByDefault(config, manager, logger);
  }
  const samples = config.samples && manager ? new RequestSamples({ max: config.samplesMax, maxBytes: config.samplesMaxBytes, perSecond: config.samplesPerSecond, redact: config.decisionLogRedact, attributes: config.decisionLogAttributes }) : undefined;
  if (samples) metrics.watchSamples(samples);
  let shared: SharedSamples | undefined;
  if (samples && config.samplesShared) {
    if (raw && hasSampleStore(raw)) {
      shared = new SharedSamples({ local: samples, store: raw.sampleStore(), flushMs: SAMPLE_FLUSH_MS, logger });
      shared.start();
    } else logger.warn({ store: config.store }, 'SAMPLES_SHARED needs the MongoDB store; samples stay on this replica');
  }
  // With the file store, relationships are kept beside its files (wherever they are).
  const fileDir = raw?.kind === 'file' ? (raw as FileStore).dir : undefined;
  const relations = await createRelationServices(config, logger, raw?.kind, parseLimits, fileDir);
  if (relations) metrics.watchRelations(relations.service.manager);
  // What conditions' related() asks: this service's relationships, passed to each evaluation (never a global).
  const relationships = relations?.service.checker();
  // The directory: merged into every decision (decide.ts); a change drops its subjects' cached entries.
  const entities = await createEntityServices(config, logger, raw?.kind, parseLimits, fileDir);
  entities.manager.onChange((refs) => cache.invalidateSubjects(refs));
  const tokens = createJwtSubjects(config);
  const namespaceLimits = { maxDepth: config.maxNamespaceDepth, maxLength: config.maxNamespaceLength };
  const decisions = new DecisionService({
    manager,
    cache,
    defaultPermissions: config.defaultPermissions,
    namespaceLimits,
    parseLimits,
    timeBucketMs: config.timeBucketMs,
    clock: Date.now,
    luaBudgets,
    languages: { defaultLanguage: config.defaultLanguage, languageAttribute: config.languageAttribute },
    ...(samples ? { samples } : {}),
    ...(relationships ? { relationships } : {}),
    entities: entities.manager,
  });
  const relatedIds = relations ? relations.service.planIds(config.planMaxIds) : undefined;
  // Plan answers by revisions and request; a policy change clears them all (a new revision misses anyway).
  const planResults = new PlanResults<PlanResponse>(config.planResultsMax, planAnswerBytes);
  manager?.onChange(() => planResults.clear());
  metrics.watchPlanResults(planResults);
  const plans = new PlanService({
    manager, sources: decisions.decisionSources, defaultPermissions: config.defaultPermissions, namespaceLimits, clock: Date.now,
    results: planResults, directoryRevision: () => entities.manager.revision,
    ...(relationships ? { relationships } : {}),
    ...(relatedIds ? { relatedIds } : {}),
  });
  const preview = manager ? new ImpactPreview({
    manager,
    ...(shared ? { samples: shared } : samples ? { samples: { samples: () => samples.list() } } : {}),
    parseLimits,
    luaBudgets,
    settings: {
      defaultPermissions: config.defaultPermissions, namespaceLimits, entities: entities.manager,
      ...(relationships ? { relationships } : {}), ...(relatedIds ? { relatedIds } : {}),
    },
    defaultLanguage: config.defaultLanguage,
    timeoutMs: config.previewTimeoutMs,
    ...(clocks.monotonic ? { monotonic: clocks.monotonic } : {}),
  }) : undefined;
  const messageLanguages = config.messageLanguages.length > 0 ? config.messageLanguages : [config.defaultLanguage];
  const policies = store && manager ? new PolicyService({ store, manager, parseLimits, luaBudgets, messageLanguages, fileRoutes: routeTable }) : undefined;
  const history = store && manager && policies
    ? new HistoryService({ store, manager, policies, entities: entities.manager.store, ...(relations ? { relations: relations.service.manager.store } : {}) })
    : undefined;
  const shippers = config.decisionLog ? createDecisionShippers(config, logger) : [];
  metrics.watchShipping(shippers);
  return {
    history,
    shippers,
    store,
    manager,
    cache,
    decisions,
    policies,
    metrics,
    relations: relations?.service,
    samples,
    preview,
    entities: entities.service,
    ...(tokens ? { tokens } : {}),
    plans,
    planMaxIds: config.planMaxIds,
    authzen: new AuthzenService({ decisions, defaultNamespace: config.authzenNamespace, search: authzenSearchSources(manager, relations?.service, manager ? plans : undefined, entities.manager) }),
    forwardAuth: new ForwardAuthService({
      decisions,
      table: routeTable,
      ...(manager ? { stored: manager } : {}),
      subject: tokens
        ? jwtSubject(tokens, config.forwardAuthSubjectHeader ? headerSubject(config.forwardAuthSubjectHeader) : noSubject)
        : config.forwardAuthSubjectHeader ? headerSubject(config.forwardAuthSubjectHeader) : noSubject,
      namespaceLimits,
    }),
    async close() {
      await entities.close();
      manager?.stop();
      await shared?.stop();
      await relations?.close();
      await store?.close();
      await Promise.all(shippers.map((s) => s.close()));
    },
  };
}
