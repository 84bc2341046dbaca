// Keeps every tuple and the compiled schema in memory (a check never waits on the
// database) and current: a full load at start, then the store's changes since our
// revision every `pollIntervalMs`, like the policy manager. Requests that ask for a
// revision this replica has not reached wait for it, boundedly.

import { PolicyEngineError } from '../../errors.js';
import type { ManagerLogger } from '../../engine/policy-manager.js';
import { compileSchema } from '../schema/compile-schema.js';
import type { RelationChange, RelationSnapshot, RelationStore } from '../store/relation-store.js';
import { DEFAULT_ENGINE_LIMITS, type EngineLimits } from './check.js';
import { RelationEngine } from './relation-engine.js';
import { RelationIndex } from './relation-index.js';
import { FreshRead } from './fresh-read.js';

export interface RelationManagerOptions {
  store: RelationStore;
  pollIntervalMs: number;
  logger: ManagerLogger;
  limits?: EngineLimits;
  /** how long a request may wait for this replica to reach the revision it asks for (default 2000 ms) */
  maxWaitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Syncs forced by requests waiting for a revision (and reads of the store's newest
 * revision) start at most this often, shared by every waiting request: with the 2 s wait,
 * at most ~100 of each per wait, however many requests wait.
 */
const FORCED_READ_GAP_MS = 20;

export class RelationManager {
  readonly engine: RelationEngine;
  private revisionValue = 0;
  private loaded = false;
  private syncing: Promise<boolean> | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** a sync that started after the caller arrived (waits out one in flight first) */
  private readonly freshSync = new FreshRead(async () => {
    if (this.syncing) await this.syncing;
    return this.sync();
  }, FORCED_READ_GAP_MS);
  /** the store's newest revision, read after the caller arrived (undefined when unreachable) */
  private readonly freshHead = new FreshRead(async () => {
    try {
      return Number(await this.options.store.revision());
    } catch {
      return undefined;
    }
  }, FORCED_READ_GAP_MS);

  constructor(private readonly options: RelationManagerOptions) {
    this.engine = new RelationEngine(new RelationIndex(), undefined, options.limits ?? DEFAULT_ENGINE_LIMITS);
  }

  get store(): RelationStore {
    return this.options.store;
  }

  /** The revision of the state in memory, in decimal. */
  get revision(): string {
    return String(this.revisionValue);
  }

  get revisionNumber(): number {
    return this.revisionValue;
  }

  get ready(): boolean {
    return this.loaded;
  }

  /** What /readyz and /metrics report of the relationship state. */
  status(): { loaded: boolean; revision: string; tuples: number; lastError?: string } {
    return {
      loaded: this.loaded,
      revision: this.revision,
      tuples: this.engine.index.size,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync(), this.options.pollIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** One sync at a time; resolves to whether it reached the store. */
  sync(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    this.syncing ??= this.runSync().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** A sync that starts after now (so it sees every write made so far); 503 when the store is unreachable. */
  async syncNow(): Promise<void> {
    if (!(await this.freshSync.after(this.freshSync.ticket()))) {
      throw new PolicyEngineError('STORE_UNAVAILABLE', `the relationship store is unreachable: ${this.lastError ?? 'sync failed'}`);
    }
  }

  /**
   * Wait until this replica's state is at least `revision`, or 503 after maxWaitMs — or at
   * once when no write has made that revision yet: a sync that started after the request
   * arrived has every change committed before it, so a revision beyond the store's newest
   * cannot be one a write returned (a client's guess, or a store restored from a backup).
   * Waiting for it would only poll the store for maxWaitMs per request.
   */
  async waitFor(revision: number): Promise<void> {
    if (this.revisionValue >= revision) return;
    const deadline = Date.now() + (this.options.maxWaitMs ?? 2000);
    const headTicket = this.freshHead.ticket();
    await this.freshSync.after(this.freshSync.ticket());
    if (this.revisionValue >= revision) return;
    const head = await this.freshHead.after(headTicket);
    if (head !== undefined && Number.isFinite(head) && revision > head) {
      throw new PolicyEngineError(
        'RELATIONS_STALE',
        `revision ${revision} is newer than any the relationship store has made (its newest is ${head}): no write has returned it yet`,
        { revision: String(revision), storeRevision: String(head) },
      );
    }
    // The store has it: a change this replica cannot see yet. Wait, boundedly.
    while (this.revisionValue < revision) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new PolicyEngineError('RELATIONS_STALE', `this replica is at revision ${this.revisionValue}, older than the ${revision} asked for, and did not catch up in time${this.lastError ? ` (${this.lastError})` : ''}`);
      }
      await sleep(Math.min(20, left));
      await this.freshSync.after(this.freshSync.ticket());
    }
  }

  private async runSync(): Promise<boolean> {
    const store = this.options.store;
    try {
      if (!this.loaded) this.replaceAll(await store.loadAll());
      else {
        const c = await store.changesSince(String(this.revisionValue));
        if (c === 'reset') this.replaceAll(await store.loadAll());
        else {
          for (const change of c.changes) this.apply(change);
          this.revisionValue = Math.max(this.revisionValue, Number(c.revision));
        }
      }
      if (this.lastError !== undefined) this.options.logger.info({ revision: this.revisionValue }, 'relationship store reachable again');
      this.lastError = undefined;
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.lastError === undefined) this.options.logger.error({ err: message }, 'relationship store sync failed; answering from the last state');
      this.lastError = message;
      return false;
    }
  }

  private replaceAll(snap: RelationSnapshot): void {
    const index = this.engine.index;
    index.clear();
    for (const t of snap.tuples) index.add(t);
    this.setSchema(snap.schema);
    this.revisionValue = Number(snap.revision);
    this.loaded = true;
  }

  private apply(change: RelationChange): void {
    const index = this.engine.index;
    for (const t of change.deletes) index.remove(t);
    for (const t of change.writes) index.add(t);
    if (change.schema) this.setSchema(change.schema);
    this.revisionValue = Number(change.revision);
  }

  private setSchema(stored: { text: string; format: 'json' | 'yaml' } | undefined): void {
    if (!stored) {
      this.engine.setSchema(undefined);
      return;
    }
    const compiled = compileSchema(stored.text, stored.format, { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: 64, maxDocuments: 1 });
    if (compiled.ok) this.engine.setSchema(compiled.schema);
    else {
      // Validated when written; failing now means the rules changed under it. Answer nothing rather than guess.
      this.options.logger.error({ errors: compiled.errors.slice(0, 10) }, 'the stored relationship schema does not compile');
      this.engine.setSchema(undefined);
    }
  }
}
