// Wiring of the relationship feature, called once by the composition root: the store
// beside the policy store (MongoDB when policies are in MongoDB; a journal beside the
// policy files with STORE=file; in memory otherwise), the manager that keeps the graph
// in memory, and the service (whose checker the composition root hands to evaluations).

import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import type { ParseLimits } from './core/document/parse.js';
import { RelationManager } from './engine/relation-manager.js';
import { RelationService } from './engine/relation-service.js';
import { MemoryRelationStore } from './store/memory/memory-relation-store.js';
import { FileRelationStore } from './store/file/file-relation-store.js';
import { join } from 'node:path';
import type { RelationStore } from './store/relation-store.js';

export interface RelationServices {
  service: RelationService;
  close(): Promise<void>;
}

/**
 * Beside the policy files, in `<POLICY_DIR>/.relations/` (the file store reads neither
 * dot-names nor subdirectories). A directory that cannot be written (a read-only
 * ConfigMap) keeps them in memory, with a warning.
 */
async function fileOrMemory(policyDir: string, logger: Logger): Promise<RelationStore> {
  const dir = join(policyDir, '.relations');
  const store = new FileRelationStore({ dir, onRepair: (message) => logger.warn(message) });
  try {
    await store.open();
    return store;
  } catch (err) {
    logger.warn({ dir, err: (err as Error).message }, 'relationships are kept in memory: their directory cannot be used (they do not survive a restart)');
    return new MemoryRelationStore();
  }
}

/** `policyStoreKind` undefined (STORE=none): no relationship feature at all. */
export async function createRelationServices(
  config: Config, logger: Logger, policyStoreKind: 'memory' | 'file' | 'mongo' | undefined, parseLimits: ParseLimits,
  /** the file store's directory (STORE=file): relationships are kept beside it */
  policyDir: string = config.policyDir,
): Promise<RelationServices | undefined> {
  if (policyStoreKind === undefined) return undefined;
  let store: RelationStore;
  if (policyStoreKind === 'mongo' && config.mongoUrl !== undefined) {
    const { MongoRelationStore } = await import('./store/mongo/mongo-relation-store.js');
    store = new MongoRelationStore({ url: config.mongoUrl, dbName: config.mongoDb, serverSelectionTimeoutMS: config.storeTimeoutMs, changeRetentionMs: Math.round(config.historyRetentionDays * 24 * 3600_000) });
  } else if (policyStoreKind === 'file') {
    store = await fileOrMemory(policyDir, logger);
  } else {
    store = new MemoryRelationStore();
  }
  try {
    await store.open();
  } catch (err) {
    // Like the policy manager: start anyway, the manager keeps trying to load.
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'relationship store unreachable at start-up');
  }
  const manager = new RelationManager({ store, pollIntervalMs: config.pollIntervalMs, logger });
  await manager.start();
  const service = new RelationService({ manager, parseLimits });
  return {
    service,
    async close() {
      manager.stop();
      await store.close();
    },
  };
}
