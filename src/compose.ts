// The composition root's wiring: configuration in, ready services out. main.ts and
// the tests call this; nothing deeper reads configuration.

import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { DEFAULT_PARSE_LIMITS } from './core/document/parse.js';
import { initLua } from './core/lua/sandbox.js';
import { DecisionCache } from './cache/decision-cache.js';
import { DecisionService } from './engine/decision-service.js';
import { PolicyManager } from './engine/policy-manager.js';
import { PolicyService } from './engine/policy-service.js';
import type { DecisionLogOptions } from './observability/decision-log.js';
import { InstrumentedStore } from './observability/instrumented-store.js';
import { Metrics } from './observability/metrics.js';
import type { PolicyStore } from './store/store.js';

export interface Services {
  /** the store every service uses: the configured one, wrapped to time its calls */
  store?: PolicyStore;
  manager?: PolicyManager;
  cache: DecisionCache;
  decisions: DecisionService;
  policies?: PolicyService;
  /** this service's own registry: several services in one process never share series */
  metrics: Metrics;
  close(): Promise<void>;
}

export function decisionLogOptions(config: Config): DecisionLogOptions {
  return {
    enabled: config.decisionLog,
    sample: config.decisionLogSample,
    redact: config.decisionLogRedact,
    attributes: config.decisionLogAttributes,
  };
}

/** The configured store; each is imported only when chosen (the file store never loads the driver). */
export async function createStore(config: Config, logger: Logger): Promise<PolicyStore | undefined> {
  switch (config.store) {
    case 'none':
      return undefined;
    case 'file': {
      const { FileStore } = await import('./store/file/file-store.js');
      return new FileStore({ dir: config.policyDir, logger });
    }
    case 'mongo': {
      const { MongoStore } = await import('./store/mongo/mongo-store.js');
      return new MongoStore({ url: config.mongoUrl!, dbName: config.mongoDb, serverSelectionTimeoutMS: config.storeTimeoutMs });
    }
  }
}

/** Build every service around a store (the configured one unless given). */
export async function createServices(config: Config, logger: Logger, storeOverride?: PolicyStore): Promise<Services> {
  const parseLimits = { ...DEFAULT_PARSE_LIMITS, maxBytes: config.bodyLimit };
  const luaBudgets = { instructions: config.luaInstructions, timeMs: config.luaTimeMs, memoryBytes: config.luaMemoryBytes };
  // The Lua WebAssembly module loads once, before any document is compiled.
  await initLua();
  const metrics = new Metrics();
  const raw = storeOverride ?? (await createStore(config, logger));
  const store = raw ? new InstrumentedStore(raw, metrics) : undefined;
  const cache = new DecisionCache({ max: config.cacheMax, ttlMs: config.cacheTtlMs });
  metrics.watchCache(cache);
  let manager: PolicyManager | undefined;
  if (store) {
    await store.open();
    manager = new PolicyManager({
      store,
      pollIntervalMs: config.pollIntervalMs,
      staleAfterMs: config.staleAfterMs,
      resyncIntervalMs: config.resyncIntervalMs,
      logger,
      luaBudgets,
    });
    manager.onChange((changed) => cache.invalidate(changed));
    metrics.watchPolicies(manager);
    await manager.start();
  }
  const decisions = new DecisionService({
    manager,
    cache,
    defaultPermissions: config.defaultPermissions,
    namespaceLimits: { maxDepth: config.maxNamespaceDepth, maxLength: config.maxNamespaceLength },
    parseLimits,
    timeBucketMs: config.timeBucketMs,
    clock: Date.now,
    luaBudgets,
  });
  const policies = store && manager ? new PolicyService({ store, manager, parseLimits, luaBudgets }) : undefined;
  return {
    store,
    manager,
    cache,
    decisions,
    policies,
    metrics,
    async close() {
      manager?.stop();
      await store?.close();
    },
  };
}
