// Wiring of the directory (SPEC §12), called once by the composition root: the store
// beside the policy store (the `entities` collection when policies are in MongoDB; a
// journal in `<POLICY_DIR>/.entities/` with STORE=file; in memory with STORE=none or a
// memory store), the manager that keeps it in memory, and the service the routes call.

import type { Logger } from 'pino';
import { join } from 'node:path';
import type { Config } from './config/config.js';
import type { ParseLimits } from './core/document/parse.js';
import { EntityManager } from './engine/entity-manager.js';
import { EntityService } from './engine/entity-service.js';
import type { EntityStore } from './store/entity-store.js';
import { MemoryEntityStore } from './store/memory/memory-entity-store.js';
import { FileEntityStore } from './store/file/file-entity-store.js';

export interface EntityServices {
  service: EntityService;
  manager: EntityManager;
  close(): Promise<void>;
}

/** Beside the policy files; a directory that cannot be written keeps them in memory, with a warning. */
async function fileOrMemory(policyDir: string, logger: Logger): Promise<EntityStore> {
  const dir = join(policyDir, '.entities');
  const store = new FileEntityStore({ dir, onRepair: (message) => logger.warn(message) });
  try {
    await store.open();
    return store;
  } catch (err) {
    logger.warn({ dir, err: (err as Error).message }, 'the directory is kept in memory: its directory on disk cannot be used (entities do not survive a restart)');
    return new MemoryEntityStore();
  }
}

export async function createEntityServices(
  config: Config, logger: Logger, policyStoreKind: 'memory' | 'file' | 'mongo' | undefined, parseLimits: ParseLimits,
  policyDir: string = config.policyDir,
): Promise<EntityServices> {
  let store: EntityStore;
  if (policyStoreKind === 'mongo' && config.mongoUrl !== undefined) {
    const { MongoEntityStore } = await import('./store/mongo/mongo-entity-store.js');
    store = new MongoEntityStore({ url: config.mongoUrl, dbName: config.mongoDb, serverSelectionTimeoutMS: config.storeTimeoutMs });
  } else if (policyStoreKind === 'file') {
    store = await fileOrMemory(policyDir, logger);
  } else {
    store = new MemoryEntityStore();
  }
  try {
    await store.open();
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'directory store unreachable at start-up');
  }
  const manager = new EntityManager({ store, pollIntervalMs: config.pollIntervalMs, resyncIntervalMs: config.resyncIntervalMs, logger });
  await manager.start();
  return {
    service: new EntityService({ manager, parseLimits }),
    manager,
    async close() {
      manager.stop();
      await store.close();
    },
  };
}
