// Wiring of the relationship feature, called once by the composition root: the store
// beside the policy store (MongoDB when policies are in MongoDB; in memory otherwise:
// no file implementation, see docs/relationships.md), the manager that keeps the graph
// in memory, the service, and the checker the CEL `related()` function calls.

import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { installRelationshipCheck } from '../core/condition/related.js';
import type { ParseLimits } from '../core/document/parse.js';
import { RelationManager } from './engine/relation-manager.js';
import { RelationService } from './relation-service.js';
import { MemoryRelationStore } from './store/memory-relation-store.js';
import type { RelationStore } from './store/relation-store.js';

export interface RelationServices {
  service: RelationService;
  close(): Promise<void>;
}

/** `policyStoreKind` undefined (STORE=none): no relationship feature at all. */
export async function createRelationServices(
  config: Config, logger: Logger, policyStoreKind: 'memory' | 'file' | 'mongo' | undefined, parseLimits: ParseLimits,
): Promise<RelationServices | undefined> {
  if (policyStoreKind === undefined) return undefined;
  let store: RelationStore;
  if (policyStoreKind === 'mongo' && config.mongoUrl !== undefined) {
    const { MongoRelationStore } = await import('./store/mongo-relation-store.js');
    store = new MongoRelationStore({ url: config.mongoUrl, dbName: config.mongoDb, serverSelectionTimeoutMS: config.storeTimeoutMs });
  } else {
    if (policyStoreKind === 'file') logger.warn('relationships are kept in memory with STORE=file: they do not survive a restart (use MongoDB to keep them)');
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
  const uninstall = installRelationshipCheck(service.checker());
  return {
    service,
    async close() {
      uninstall();
      manager.stop();
      await store.close();
    },
  };
}
