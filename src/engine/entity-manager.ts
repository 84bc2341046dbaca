// Keeps the directory in memory (an evaluation never waits on the database) and current,
// on the same sync loop as policies and relationships: a full load at start, then the
// store's changes since our revision, a poll every `pollIntervalMs` (the propagation
// bound policies have), earlier on a change hint. It is the EntityLookup the decision
// function reads, and tells listeners which refs changed (the decision cache drops the
// entries of those subjects).

import type { EntityLookup, StoredEntity } from '../core/entities/entity.js';
import { PolicyEngineError } from '../errors.js';
import { entityPage, storedOf, type EntityChange, type EntityListQuery, type EntityPage, type EntitySnapshot, type EntityStore } from '../store/entity-store.js';
import { SyncLoop, type ManagerLogger } from './sync-loop.js';

export interface EntityManagerOptions {
  store: EntityStore;
  pollIntervalMs: number;
  logger: ManagerLogger;
  /** a full reload this often (0 or absent: never) */
  resyncIntervalMs?: number;
}

/** The refs a change touched (a full reload: those whose stored version differs). */
export type ChangedRefs = ReadonlySet<string>;

export class EntityManager implements EntityLookup {
  private entities = new Map<string, StoredEntity>();
  private revisionValue = 0;
  private loaded = false;
  private readonly loop: SyncLoop;
  private readonly listeners = new Set<(changed: ChangedRefs) => void>();

  constructor(private readonly options: EntityManagerOptions) {
    const store = options.store;
    this.loop = new SyncLoop({
      run: (full) => this.runSync(full),
      what: 'directory store',
      whileFailing: 'answering from the last directory state',
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs,
      ...(options.resyncIntervalMs ? { resyncIntervalMs: options.resyncIntervalMs } : {}),
      ...(store.onChangeHint ? { hints: (wake: () => void) => store.onChangeHint!(wake) } : {}),
      logContext: () => ({ revision: this.revisionValue }),
    });
  }

  get store(): EntityStore {
    return this.options.store;
  }

  /** The revision of the directory in memory, in decimal. */
  get revision(): string {
    return String(this.revisionValue);
  }

  get ready(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.entities.size;
  }

  /**
   * What an evaluation merges in. Before the first load this refuses (503 NOT_READY):
   * a stored attribute may be what denies, so answering without the directory could grant.
   */
  get(ref: string): StoredEntity | undefined {
    if (!this.loaded) throw new PolicyEngineError('NOT_READY', 'the directory has not been loaded from its store yet');
    return this.entities.get(ref);
  }

  /**
   * A page of the entities in memory (ref order, `type` exact), for searches that must
   * not wait on the database (AuthZEN subject / resource search); NOT_READY before the load.
   */
  page(query: EntityListQuery): EntityPage {
    if (!this.loaded) throw new PolicyEngineError('NOT_READY', 'the directory has not been loaded from its store yet');
    return entityPage(this.entities.values(), query);
  }

  /** Told of the refs each applied change touched. */
  onChange(listener: (changed: ChangedRefs) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): { loaded: boolean; revision: string; entities: number; lastError?: string } {
    const lastError = this.loop.lastError;
    return { loaded: this.loaded, revision: this.revision, entities: this.entities.size, ...(lastError !== undefined ? { lastError } : {}) };
  }

  async start(): Promise<void> {
    await this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** One sync (callers meanwhile share it); resolves to whether it reached the store. */
  sync(): Promise<boolean> {
    return this.loop.sync();
  }

  /** A sync that starts after now: after a write, this replica answers with it at once. */
  syncAfter(): Promise<boolean> {
    return this.loop.syncAfter();
  }

  private async runSync(full: boolean): Promise<void> {
    const store = this.options.store;
    if (!this.loaded || full) {
      this.replaceAll(await store.loadAll());
      return;
    }
    const c = await store.changesSince(String(this.revisionValue));
    if (c === 'reset') {
      this.replaceAll(await store.loadAll());
      return;
    }
    const changed = new Set<string>();
    for (const change of c.changes) this.apply(change, changed);
    this.revisionValue = Math.max(this.revisionValue, Number(c.revision));
    if (changed.size > 0) this.emit(changed);
  }

  private replaceAll(snap: EntitySnapshot): void {
    const before = this.entities;
    const wasLoaded = this.loaded;
    this.entities = new Map(snap.entities.map((e) => [e.ref, e]));
    this.revisionValue = Number(snap.revision);
    this.loaded = true;
    if (!wasLoaded) return;
    const changed = new Set<string>();
    for (const [ref, e] of this.entities) if (before.get(ref)?.revision !== e.revision) changed.add(ref);
    for (const ref of before.keys()) if (!this.entities.has(ref)) changed.add(ref);
    if (changed.size > 0) this.emit(changed);
  }

  private apply(change: EntityChange, changed: Set<string>): void {
    for (const ref of change.deletes) {
      this.entities.delete(ref);
      changed.add(ref);
    }
    for (const p of change.puts) {
      this.entities.set(p.ref, storedOf(p.ref, p.entity, change.revision, change.at));
      changed.add(p.ref);
    }
    this.revisionValue = Number(change.revision);
  }

  private emit(changed: ChangedRefs): void {
    for (const l of [...this.listeners]) {
      try {
        l(changed);
      } catch (err) {
        this.options.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'a directory change listener failed');
      }
    }
  }
}
