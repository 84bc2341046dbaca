// The in-process directory store: nothing survives a restart (FileEntityStore adds a
// journal). The reference for the store contract (the conformance suite runs against it
// too). Every change is applied in one synchronous step, so it is atomic by construction.

import type { EntityData, StoredEntity } from '../../core/entities/entity.js';
import { StoreUnavailableError } from '../store.js';
import { revisionNumber } from '../relation-store.js';
import {
  checkEntityPreconditions, entityPage, storedOf,
  type EntityChange, type EntityListQuery, type EntityPage, type EntityPreconditions, type EntitySnapshot, type EntityStore, type EntityWrite,
} from '../entity-store.js';

/** Changes kept for pollers; one further behind is told to reload. */
const MAX_LOG = 10_000;

export class MemoryEntityStore implements EntityStore {
  readonly kind: 'memory' | 'file' = 'memory';
  private readonly entities = new Map<string, StoredEntity>();
  private seq = 0;
  private log: EntityChange[] = [];
  private closed = false;

  async open(): Promise<void> {}

  /** Called with each change before it is applied: a durable subclass writes it down; a throw leaves the store unchanged. */
  protected persist(_change: EntityChange): void {}

  /** Apply a committed change (a write, or one replayed from disk). */
  protected apply(change: EntityChange): void {
    for (const ref of change.deletes) this.entities.delete(ref);
    for (const p of change.puts) this.entities.set(p.ref, storedOf(p.ref, p.entity, change.revision, change.at));
    this.seq = Number(change.revision);
    this.log.push(change);
    if (this.log.length > MAX_LOG) this.log = this.log.slice(-MAX_LOG);
  }

  /** Start from a snapshot (a durable subclass's compacted state). */
  protected restore(snapshot: EntitySnapshot): void {
    this.entities.clear();
    for (const e of snapshot.entities) this.entities.set(e.ref, e);
    this.seq = Number(snapshot.revision);
    this.log = [];
  }

  private commit(puts: EntityWrite[], deletes: string[]): EntityChange {
    const change: EntityChange = { revision: String(this.seq + 1), at: new Date().toISOString(), puts, deletes };
    this.persist(change);
    this.apply(change);
    return change;
  }

  async get(ref: string): Promise<StoredEntity | undefined> {
    this.assertOpen();
    return this.entities.get(ref);
  }

  async list(query: EntityListQuery): Promise<EntityPage> {
    this.assertOpen();
    return entityPage(this.entities.values(), query);
  }

  async put(ref: string, entity: EntityData, options?: EntityPreconditions): Promise<{ entity: StoredEntity; created: boolean }> {
    this.assertOpen();
    const current = this.entities.get(ref);
    checkEntityPreconditions(ref, current, options);
    this.commit([{ ref, entity }], []);
    return { entity: this.entities.get(ref)!, created: current === undefined };
  }

  async delete(ref: string, options?: EntityPreconditions): Promise<{ revision: string } | false> {
    this.assertOpen();
    const current = this.entities.get(ref);
    checkEntityPreconditions(ref, current, options);
    if (!current) return false;
    return { revision: this.commit([], [ref]).revision };
  }

  async import(entities: EntityWrite[]): Promise<{ revision: string; created: number; replaced: number }> {
    this.assertOpen();
    const replaced = entities.filter((e) => this.entities.has(e.ref)).length;
    const change = this.commit([...entities], []);
    return { revision: change.revision, created: entities.length - replaced, replaced };
  }

  async revision(): Promise<string> {
    this.assertOpen();
    return String(this.seq);
  }

  async loadAll(): Promise<EntitySnapshot> {
    this.assertOpen();
    return this.state();
  }

  /** Every live entity, now. */
  protected state(): EntitySnapshot {
    return { entities: [...this.entities.values()], revision: String(this.seq) };
  }

  async changesSince(revision: string): Promise<{ changes: EntityChange[]; revision: string } | 'reset'> {
    this.assertOpen();
    const from = revisionNumber(revision);
    if (from === undefined || from > this.seq) return 'reset';
    if (from === this.seq) return { changes: [], revision };
    const first = this.log[0];
    if (!first || Number(first.revision) > from + 1) return 'reset';
    return { changes: this.log.slice(from + 1 - Number(first.revision)), revision: String(this.seq) };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  protected assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError('the directory store is closed');
  }
}
