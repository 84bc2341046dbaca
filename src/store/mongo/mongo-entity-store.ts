// The MongoDB directory store, safe on FerretDB v1 (no transactions, no change streams,
// no atomic read-modify-write), on the relationship store's scheme:
//
// - Every write, delete or import is ONE document in the insert-only log
//   `entities_changes`, under `_id` = its revision. Inserting it is the commit, so an
//   import is all or nothing. A writer reads the newest revision m, checks If-Match /
//   If-None-Match against the state at m, and inserts `_id: m + 1`; a concurrent change
//   that committed first holds m + 1, so the insert fails (E11000) and the writer starts
//   again from the new state (and a precondition that no longer holds is a 412).
// - `entities` (one document per ref, deletes kept as tombstones) is a copy of the log:
//   each ref's document is only ever replaced by a newer revision (`seq`), so copies may
//   run in any order and a late copier never rolls a ref back. A write returns after its
//   copy (a reader sees its own writes); a change whose writer died is copied by the next
//   load after STALE_MS.
// - Exact reads (`get`, preconditions, `loadAll`) read the copy, then the log entries
//   not yet known to be copied, applied on top in order. `list` reads the copy.
//
// Field names are fixed words (FerretDB refuses `.` and `$` in names): attributes are
// kept as JSON text, so any attribute name is fine.

import type { Collection } from 'mongodb';
import type { EntityData, StoredEntity } from '../../core/entities/entity.js';
import { watchForChanges } from './change-hint.js';
import { MAX_WRITE_ATTEMPTS, SequenceLog, backoff } from './sequence-log.js';
import { MongoConnection, type MongoConnectionOptions } from './mongo-connection.js';
import { isDuplicateKey, onlyDuplicates } from './mongo-errors.js';
import { StoreUnavailableError } from '../store.js';
import { revisionNumber } from '../relation-store.js';
import {
  MAX_ENTITY_PAGE, checkEntityPreconditions, storedOf,
  type EntityChange, type EntityListQuery, type EntityPage, type EntityPreconditions, type EntitySnapshot, type EntityStore, type EntityWrite,
} from '../entity-store.js';

interface PutDoc {
  ref: string;
  roles: string[];
  groups: string[];
  /** JSON text */
  attributes: string;
}

const actorOf = (o: { actor?: string } | undefined): { actor?: string } => (o?.actor !== undefined ? { actor: o.actor } : {});

interface ChangeDoc {
  _id: number;
  puts: PutDoc[];
  deletes: string[];
  /** every ref it touches (indexed: exact reads of a few refs find their changes) */
  refs: string[];
  applied: boolean;
  at: Date;
  /** who wrote it (the history, docs/audit.md) */
  actor?: string;
}

interface EntityDoc {
  _id: string;
  type: string;
  roles: string[];
  groups: string[];
  attributes: string;
  seq: number;
  at: Date;
  deleted: boolean;
}

export interface MongoEntityStoreOptions extends MongoConnectionOptions {
  /** default 'entities'; the log is `<collection>_changes` */
  collection?: string;
  /** how long copied changes stay in the log for pollers, in ms (default 10 minutes) */
  changeRetentionMs?: number;
}

const STALE_MS = 10_000;
const DEFAULT_RETENTION_MS = 10 * 60_000;

function putDocOf(w: EntityWrite): PutDoc {
  return { ref: w.ref, roles: [...w.entity.roles], groups: [...w.entity.groups], attributes: JSON.stringify(w.entity.attributes) };
}

function entityDataOf(d: { roles: string[]; groups: string[]; attributes: string }): EntityData {
  return { roles: d.roles, groups: d.groups, attributes: JSON.parse(d.attributes) as Record<string, unknown> };
}

function changeOfDoc(c: ChangeDoc): EntityChange {
  return { revision: String(c._id), at: c.at.toISOString(), puts: c.puts.map((p) => ({ ref: p.ref, entity: entityDataOf(p) })), deletes: c.deletes, ...(c.actor !== undefined ? { actor: c.actor } : {}) };
}

function storedOfDoc(d: EntityDoc): StoredEntity {
  return storedOf(d._id, entityDataOf(d), String(d.seq), d.at.toISOString());
}

export class MongoEntityStore implements EntityStore {
  readonly kind = 'mongo' as const;
  private readonly connection: MongoConnection;
  private readonly docs: Collection<EntityDoc>;
  private readonly changes: Collection<ChangeDoc>;
  private readonly log: SequenceLog<ChangeDoc>;
  private readonly hints = new Set<() => void>();
  private indexes: Promise<void> | undefined;

  constructor(options: MongoEntityStoreOptions) {
    this.connection = new MongoConnection(options, 'MongoEntityStore');
    const name = options.collection ?? 'entities';
    this.docs = this.connection.db.collection<EntityDoc>(name);
    this.changes = this.connection.db.collection<ChangeDoc>(`${name}_changes`);
    this.log = new SequenceLog(this.changes, options.changeRetentionMs ?? DEFAULT_RETENTION_MS, 'at');
  }

  async open(): Promise<void> {
    await this.connection.run('open the directory store', () => this.ensureIndexes());
  }

  async get(ref: string): Promise<StoredEntity | undefined> {
    return this.connection.run('read an entity', async () => (await this.stateAt([ref])).live.get(ref));
  }

  async list(query: EntityListQuery): Promise<EntityPage> {
    return this.connection.run('list entities', async () => {
      const limit = Math.max(1, Math.min(MAX_ENTITY_PAGE, Math.trunc(query.limit)));
      const q: Record<string, unknown> = { deleted: false };
      if (query.type !== undefined) q.type = query.type;
      if (query.after !== undefined) q._id = { $gt: query.after };
      const docs = await this.docs.find(q).sort({ _id: 1 }).limit(limit + 1).toArray();
      const entities = docs.slice(0, limit).map(storedOfDoc);
      return docs.length > limit ? { entities, next: docs[limit - 1]!._id } : { entities };
    });
  }

  async put(ref: string, entity: EntityData, options?: EntityPreconditions): Promise<{ entity: StoredEntity; created: boolean }> {
    const r = await this.write([ref], (m, current) => {
      checkEntityPreconditions(ref, current.get(ref), options);
      return { _id: m + 1, puts: [putDocOf({ ref, entity })], deletes: [], refs: [ref], applied: false, at: new Date(), ...actorOf(options) };
    });
    return { entity: storedOf(ref, entity, String(r.change._id), r.change.at.toISOString()), created: !r.before.has(ref) };
  }

  async delete(ref: string, options?: EntityPreconditions): Promise<{ revision: string } | false> {
    const r = await this.write([ref], (m, current) => {
      checkEntityPreconditions(ref, current.get(ref), options);
      if (!current.has(ref)) return undefined;
      return { _id: m + 1, puts: [], deletes: [ref], refs: [ref], applied: false, at: new Date(), ...actorOf(options) };
    });
    return r.change._id === 0 ? false : { revision: String(r.change._id) };
  }

  async import(entities: EntityWrite[], options?: { actor?: string }): Promise<{ revision: string; created: number; replaced: number }> {
    const refs = entities.map((e) => e.ref);
    const r = await this.write(refs, (m) => ({ _id: m + 1, puts: entities.map(putDocOf), deletes: [], refs, applied: false, at: new Date(), ...actorOf(options) }));
    const replaced = refs.filter((ref) => r.before.has(ref)).length;
    return { revision: String(r.change._id), created: refs.length - replaced, replaced };
  }

  /**
   * Read the state of `refs` at the newest revision m, build the change (undefined: nothing
   * to write), insert it as m + 1; on a lost race start again from the new state.
   */
  private write(
    refs: string[],
    build: (m: number, current: Map<string, StoredEntity>) => ChangeDoc | undefined,
  ): Promise<{ change: ChangeDoc; before: Map<string, StoredEntity> }> {
    return this.connection.serialized(() => this.connection.run('write entities', async () => {
      await this.ensureIndexes();
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const state = await this.stateAt(refs);
        const change = build(state.revision, state.live);
        if (change === undefined) return { change: { _id: 0, puts: [], deletes: [], refs: [], applied: true, at: new Date() }, before: state.live };
        try {
          await this.changes.insertOne(change);
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          await backoff(attempt);
          continue;
        }
        await this.copy(change);
        await this.log.prune(change._id);
        return { change, before: state.live };
      }
      throw new StoreUnavailableError(`directory write gave up after ${MAX_WRITE_ATTEMPTS} lost races with other writers`);
    }));
  }

  async revision(): Promise<string> {
    return this.connection.run('read the directory revision', async () => String(await this.log.newest()));
  }

  async loadAll(): Promise<EntitySnapshot> {
    return this.connection.run('load the directory', async () => {
      await this.finishAbandoned();
      const state = await this.stateAt('all');
      return { entities: [...state.live.values()], revision: String(state.revision) };
    });
  }

  async changesSince(revision: string): Promise<{ changes: EntityChange[]; revision: string } | 'reset'> {
    const from = revisionNumber(revision);
    if (from === undefined) return 'reset';
    return this.connection.run('read directory changes', async () => {
      const r = await this.log.entriesSince(from);
      return r === 'reset' ? r : { changes: r.entries.map(changeOfDoc), revision: String(r.last) };
    });
  }

  onChangeHint(listener: () => void): () => void {
    if (this.connection.closed) return () => {};
    const stop = watchForChanges(this.changes, listener);
    this.hints.add(stop);
    return () => {
      stop();
      this.hints.delete(stop);
    };
  }

  async ping(): Promise<void> {
    await this.connection.run('ping MongoDB', async () => {
      await this.connection.db.command({ ping: 1 });
    });
  }

  async close(): Promise<void> {
    for (const stop of this.hints) stop();
    this.hints.clear();
    await this.connection.close();
  }

  private ensureIndexes(): Promise<void> {
    this.indexes ??= (async () => {
      await this.docs.createIndex({ type: 1, _id: 1 });
      await this.changes.createIndex({ applied: 1 });
      await this.changes.createIndex({ refs: 1 });
    })();
    this.indexes.catch(() => {
      this.indexes = undefined;
    });
    return this.indexes;
  }

  /** Copy a change into `entities` (idempotent; only over older revisions of each ref), then mark it. */
  private async copy(change: ChangeDoc): Promise<void> {
    const ops = [
      ...change.puts.map((p) => ({ ref: p.ref, set: { type: p.ref.slice(0, p.ref.indexOf(':')), roles: p.roles, groups: p.groups, attributes: p.attributes, deleted: false } })),
      ...change.deletes.map((ref) => ({ ref, set: { type: ref.slice(0, ref.indexOf(':')), roles: [], groups: [], attributes: '{}', deleted: true } })),
    ].map(({ ref, set }) => ({
      updateOne: { filter: { _id: ref, seq: { $lt: change._id } }, update: { $set: { ...set, seq: change._id, at: change.at } }, upsert: true },
    }));
    if (ops.length > 0) {
      try {
        await this.docs.bulkWrite(ops, { ordered: false });
      } catch (err) {
        // A duplicate is a ref already at this revision or a newer one: nothing to copy.
        if (!onlyDuplicates(err)) throw err;
      }
    }
    await this.changes.updateOne({ _id: change._id }, { $set: { applied: true } });
  }

  /**
   * The live entities among `refs` (or all) exactly as of the newest revision m: p0 = the
   * oldest change not copied (everything before it is in the copy), the copy, m, then the
   * log from p0 to m applied on top where newer than what the copy holds.
   */
  private async stateAt(refs: string[] | 'all'): Promise<{ live: Map<string, StoredEntity>; revision: number }> {
    const oldestPending = await this.changes.find({ applied: false }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(1).next();
    const p0 = oldestPending?._id ?? (await this.log.newest()) + 1;
    const seqs = new Map<string, number>();
    const live = new Map<string, StoredEntity>();
    const docs = refs === 'all' ? this.docs.find({}) : this.docs.find({ _id: { $in: refs } });
    for await (const d of docs) {
      seqs.set(d._id, d.seq);
      if (!d.deleted) live.set(d._id, storedOfDoc(d));
    }
    const m = await this.log.newest();
    if (p0 <= m) {
      const range = { _id: { $gte: p0, $lte: m } };
      const filter = refs === 'all' ? range : { ...range, refs: { $in: refs } };
      const wanted = refs === 'all' ? undefined : new Set(refs);
      for (const c of await this.changes.find(filter).sort({ _id: 1 }).toArray()) {
        const at = c.at.toISOString();
        for (const ref of c.deletes) {
          if ((wanted && !wanted.has(ref)) || (seqs.get(ref) ?? 0) >= c._id) continue;
          live.delete(ref);
          seqs.set(ref, c._id);
        }
        for (const p of c.puts) {
          if ((wanted && !wanted.has(p.ref)) || (seqs.get(p.ref) ?? 0) >= c._id) continue;
          live.set(p.ref, storedOf(p.ref, entityDataOf(p), String(c._id), at));
          seqs.set(p.ref, c._id);
        }
      }
    }
    return { live, revision: m };
  }

  /** Copy, oldest first, changes whose writers died before copying them. */
  private async finishAbandoned(): Promise<void> {
    for (;;) {
      const oldest = await this.changes.find({ applied: false }).sort({ _id: 1 }).limit(1).next();
      if (oldest === null || Date.now() - oldest.at.getTime() <= STALE_MS) return;
      await this.copy(oldest);
    }
  }
}
