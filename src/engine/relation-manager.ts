// Keeps every tuple and the compiled schema in memory (a check never waits on the
// database) and current: a full load at start, then the store's changes since our
// revision, followed by the same sync loop as the policy manager's (a poll every
// `pollIntervalMs`, earlier on a change hint, backing off while the store fails).
// Requests that ask for a revision this replica has not reached wait for it, boundedly.

import { PolicyEngineError } from '../errors.js';
import { SyncLoop, type ManagerLogger } from './sync-loop.js';
import { compileSchema } from '../core/relations/schema/compile-schema.js';
import type { RelationChange, RelationSnapshot, RelationStore } from '../store/relation-store.js';
import { DEFAULT_ENGINE_LIMITS, type EngineLimits } from '../core/relations/check.js';
import { RelationEngine } from '../core/relations/relation-engine.js';
import { RelationIndex } from '../core/relations/relation-index.js';
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

/** forced reads of the store (consistency waits) start at most this often, coalesced */
const FORCED_READ_GAP_MS = 20;

export class RelationManager {
  readonly engine: RelationEngine;
  private revisionValue = 0;
  private loaded = false;
  private readonly loop: SyncLoop;
  /** a sync that started after the caller arrived, shared by every caller waiting meanwhile */
  private readonly freshSync = new FreshRead(() => this.loop.syncAfter(), FORCED_READ_GAP_MS);
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
    const store = options.store;
    this.loop = new SyncLoop({
      run: (full) => this.runSync(full),
      what: 'relationship store',
      whileFailing: 'answering from the last state',
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs,
      ...(store.onChangeHint ? { hints: (wake: () => void) => store.onChangeHint!(wake) } : {}),
      logContext: () => ({ revision: this.revisionValue }),
    });
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
    const lastError = this.loop.lastError;
    return {
      loaded: this.loaded,
      revision: this.revision,
      tuples: this.engine.index.size,
      ...(lastError !== undefined ? { lastError } : {}),
    };
  }

  async start(): Promise<void> {
    await this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** One sync at a time; resolves to whether it reached the store. */
  sync(): Promise<boolean> {
    return this.loop.sync();
  }

  /** A sync that starts after now (so it sees every write made so far); 503 when the store is unreachable. */
  async syncNow(): Promise<void> {
    if (!(await this.freshSync.after(this.freshSync.ticket()))) {
      throw new PolicyEngineError('STORE_UNAVAILABLE', `the relationship store is unreachable: ${this.loop.lastError ?? 'sync failed'}`);
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
        throw new PolicyEngineError('RELATIONS_STALE', `this replica is at revision ${this.revisionValue}, older than the ${revision} asked for, and did not catch up in time${this.loop.lastError ? ` (${this.loop.lastError})` : ''}`);
      }
      await sleep(Math.min(20, left));
      await this.freshSync.after(this.freshSync.ticket());
    }
  }

  /** One sync (run by the loop); throws when the store cannot be read. */
  private async runSync(full: boolean): Promise<void> {
    const store = this.options.store;
    if (!this.loaded || full) {
      this.replaceAll(await store.loadAll());
      return;
    }
    const c = await store.changesSince(String(this.revisionValue));
    if (c === 'reset') this.replaceAll(await store.loadAll());
    else {
      for (const change of c.changes) this.apply(change);
      this.revisionValue = Math.max(this.revisionValue, Number(c.revision));
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
