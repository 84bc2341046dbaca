// The MongoDB relationship store, safe on FerretDB v1 (no transactions, no change
// streams, no atomic read-modify-write): like the policy store it needs only unique
// indexes. What it guarantees, exactly:
//
// - A batch is ONE document in the insert-only log `relationships_changes`, under
//   `_id` = its revision. Inserting it is the commit: one document is written whole or
//   not at all, so the log holds every batch entirely or not at all.
// - A writer reads the newest revision m, checks the preconditions against the state at
//   m, and inserts `_id: m + 1`. A concurrent batch that committed first holds m + 1, so
//   the insert fails (E11000) and the writer starts again from the new state. So batches
//   are serialisable, a precondition is never checked against a state that a concurrent
//   batch changes before the commit, and a failed precondition writes nothing at all.
// - Revisions have no gaps, and a revision exists only after every smaller one (its
//   writer read it as the maximum), so pollers asking for `_id > r` miss nothing.
// - `relationships` (one document per live tuple, unique on the whole tuple) is a copy
//   of the log, made batch by batch in revision order: a writer copies its batch only
//   when every earlier one is copied (a writer that died is finished by the next writer
//   or load after STALE_MS). Store reads (`read`, `forward`, `reverse`) see the copy: a
//   write call returns after its copy, so its caller reads its own writes, but another
//   reader may see part of a batch still being copied. Everything that must be exact —
//   preconditions, `loadAll` (the engine), `getSchema` — reads the copy and then the log
//   entries not yet known to be copied, and applies those on top, in order.
// - Limit: a writer stalled for longer than STALE_MS in the middle of its copy, after
//   another process finished that batch and later ones, can re-apply part of it over
//   later batches in the copy. The log stays right (a full reload after the log entries
//   are pruned would not). Real MongoDB with transactions would not need this scheme.
//
// FerretDB v1 filters in its own process and serves parallel queries slowly: every step is
// one query over many ids (`$in`), never one query per tuple.

import type { Collection, Filter } from 'mongodb';
import type { DocumentFormat } from '../../core/document/types.js';
import { MAX_WRITE_ATTEMPTS, SequenceLog, backoff, type CompactionOptions } from './sequence-log.js';
import { MongoConnection, type MongoConnectionOptions } from './mongo-connection.js';
import { isDuplicateKey, onlyDuplicates } from './mongo-errors.js';
import { StoreUnavailableError } from '../store.js';
import { formatTuple, parseTuple, type ObjectRef, type SubjectRef, type TupleFilter } from '../../core/relations/tuple.js';
import { changeOfDoc, docFilter, tupleDocOf, tupleOfDoc, type ChangeDoc, type SchemaDoc, type TupleDoc } from './mongo-relation-documents.js';
import {
  RelationPreconditionError, failedPrecondition, forwardFilter, preconditionTuple, readAll, reverseFilter, revisionNumber,
  historyOfRelationChange,
  type ReadPage, type RelationChange, type RelationSnapshot, type RelationStore, type StoredSchema, type WriteBatch, type WriteMeta,
} from '../relation-store.js';
import { DEFAULT_HISTORY_RETENTION_MS, MAX_HISTORY_PAGE, UNKNOWN_ACTOR, type RelationsChange, type RelationsHistory } from '../history.js';

export interface MongoRelationStoreOptions extends MongoConnectionOptions {
  /** default 'relationships'; the log is `<collection>_changes`, the schema `<collection>_schema` */
  collection?: string;
  /** how long copied changes (the history) are kept, in ms (default HISTORY_RETENTION_DAYS' default) */
  changeRetentionMs?: number;
  /** tests only: when changes leave the log for `<collection>_history` (sequence-log.ts) */
  compaction?: CompactionOptions;
}

/** A logged batch not copied after this long lost its writer; others copy it. */
const STALE_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class MongoRelationStore implements RelationStore, RelationsHistory {
  readonly kind = 'mongo' as const;
  private readonly connection: MongoConnection;
  private readonly tuples: Collection<TupleDoc>;
  private readonly changes: Collection<ChangeDoc>;
  private readonly schemas: Collection<SchemaDoc>;
  /** changes beyond the log's replay window, kept for the history retention (sequence-log.ts) */
  private readonly history: Collection<ChangeDoc>;
  private readonly log: SequenceLog<ChangeDoc>;
  private indexes: Promise<void> | undefined;

  constructor(options: MongoRelationStoreOptions) {
    // Batches from this process go one at a time (connection.serialized), as policy writes do.
    this.connection = new MongoConnection(options, 'MongoRelationStore');
    const db = this.connection.db;
    const name = options.collection ?? 'relationships';
    this.tuples = db.collection<TupleDoc>(name);
    this.changes = db.collection<ChangeDoc>(`${name}_changes`);
    this.schemas = db.collection<SchemaDoc>(`${name}_schema`);
    this.history = db.collection<ChangeDoc>(`${name}_history`);
    this.log = new SequenceLog(this.changes, options.changeRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS, 'at', this.history, options.compaction);
  }

  async open(): Promise<void> {
    await this.run('open the relationship store', () => this.ensureIndexes());
  }

  async write(batch: WriteBatch, meta?: WriteMeta): Promise<{ revision: string }> {
    return this.serialized(() => this.run('write relationships', async () => {
      await this.ensureIndexes();
      const writes = batch.writes.map(formatTuple);
      const deletes = batch.deletes.map(formatTuple);
      const checked = batch.preconditions.map((p) => formatTuple(preconditionTuple(p)));
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const readAt = Date.now();
        let m: number;
        if (checked.length > 0) {
          const state = await this.stateAt(checked, false);
          m = state.revision;
          const failed = failedPrecondition(batch.preconditions, (k) => state.live.has(k));
          if (failed) throw new RelationPreconditionError(failed);
        } else m = await this.maxSeq();
        const change: ChangeDoc = { _id: m + 1, writes, deletes, applied: false, at: new Date(), actor: meta?.actor ?? UNKNOWN_ACTOR };
        if (!(await this.commit(change, readAt))) {
          await backoff(attempt);
          continue;
        }
        return { revision: String(change._id) };
      }
      throw new StoreUnavailableError(`relationship write gave up after ${MAX_WRITE_ATTEMPTS} lost races with other writers`);
    }));
  }

  async putSchema(text: string, format: DocumentFormat, meta?: WriteMeta): Promise<{ revision: string }> {
    return this.serialized(() => this.run('write the relationship schema', async () => {
      await this.ensureIndexes();
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        const readAt = Date.now();
        // The schema as of m: inserting m + 1 succeeds only if nothing was written after it.
        const state = await this.stateAt([], true);
        const m = state.revision;
        const beforeSchema = state.schema ? { text: state.schema.text, format: state.schema.format } : null;
        const change: ChangeDoc = {
          _id: m + 1, writes: [], deletes: [], schema: { text, format }, applied: false, at: new Date(),
          actor: meta?.actor ?? UNKNOWN_ACTOR, beforeSchema,
        };
        if (await this.commit(change, readAt)) return { revision: String(change._id) };
        await backoff(attempt);
      }
      throw new StoreUnavailableError(`schema write gave up after ${MAX_WRITE_ATTEMPTS} lost races with other writers`);
    }));
  }

  async read(filter: TupleFilter, page: { limit: number; after?: string }): Promise<ReadPage> {
    return this.run('read relationships', async () => {
      const limit = Math.max(1, Math.trunc(page.limit));
      const q = docFilter(filter);
      if (page.after !== undefined) q._id = { $gt: page.after };
      const docs = await this.tuples.find(q).sort({ _id: 1 }).limit(limit + 1).toArray();
      const tuples = docs.slice(0, limit).map(tupleOfDoc);
      return docs.length > limit ? { tuples, next: docs[limit - 1]!._id } : { tuples };
    });
  }

  async forward(resource: ObjectRef, relation: string, limit = 10_000): Promise<SubjectRef[]> {
    return (await readAll(this, forwardFilter(resource, relation), limit)).map((t) => t.subject);
  }

  async reverse(subject: SubjectRef, limit = 10_000): Promise<Array<{ resource: ObjectRef; relation: string }>> {
    return (await readAll(this, reverseFilter(subject), limit)).map((t) => ({ resource: t.resource, relation: t.relation }));
  }

  async revision(): Promise<string> {
    return this.run('read the relationship revision', async () => String(await this.maxSeq()));
  }

  async getSchema(): Promise<StoredSchema | undefined> {
    return this.run('read the relationship schema', async () => (await this.stateAt([], true)).schema);
  }

  async loadAll(): Promise<RelationSnapshot> {
    return this.run('load relationships', async () => {
      await this.finishAbandoned();
      const state = await this.stateAt('all', true);
      return { tuples: [...state.live.values()].map(parseTuple), ...(state.schema ? { schema: state.schema } : {}), revision: String(state.revision) };
    });
  }

  async changesSince(revision: string): Promise<{ changes: RelationChange[]; revision: string } | 'reset'> {
    const from = revisionNumber(revision);
    if (from === undefined) return 'reset';
    return this.run('read relationship changes', async () => {
      const r = await this.log.entriesSince(from);
      return r === 'reset' ? r : { changes: r.entries.map(changeOfDoc), revision: String(r.last) };
    });
  }

  async relationHistorySince(revision: number, limit: number): Promise<{ entries: RelationsChange[]; last: number } | 'reset'> {
    return this.run('read the relationship history', async () => {
      const r = await this.log.entriesSince(revision, Math.min(MAX_HISTORY_PAGE, limit));
      return r === 'reset' ? r : { entries: r.entries.map((c) => historyOfRelationChange(changeOfDoc(c))), last: r.last };
    });
  }

  /**
   * Calls `listener` whenever a batch is logged, where the server has change streams, so
   * the manager syncs at once; elsewhere (FerretDB) it never calls it.
   */
  onChangeHint(listener: () => void): () => void {
    return this.connection.watchChanges(this.changes, listener);
  }

  ping(): Promise<void> {
    return this.connection.ping();
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    return this.connection.serialized(fn);
  }

  private run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return this.connection.run(what, operation);
  }

  private ensureIndexes(): Promise<void> {
    this.indexes ??= (async () => {
      await this.tuples.createIndex({ resource_type: 1, resource_id: 1, relation: 1 });
      await this.tuples.createIndex({ subject_type: 1, subject_id: 1, subject_relation: 1 });
      await this.tuples.createIndex(
        { resource_type: 1, resource_id: 1, relation: 1, subject_type: 1, subject_id: 1, subject_relation: 1 },
        { unique: true, name: 'tuple_unique' },
      );
      await this.changes.createIndex({ applied: 1 });
      await this.history.createIndex({ at: 1 });
    })();
    this.indexes.catch(() => {
      this.indexes = undefined;
    });
    return this.indexes;
  }

  /** Insert the change (false: another batch took its revision, or `readAt` is too old to trust), then copy it in order. */
  private async commit(change: ChangeDoc, readAt: number): Promise<boolean> {
    if (!this.log.isFresh(readAt)) return false;
    try {
      await this.changes.insertOne(change);
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    await this.copyInOrder(change);
    await this.log.prune(change._id);
    return true;
  }

  /** Copy once every earlier change is copied, finishing (oldest first) any whose writer is gone. */
  private async copyInOrder(change: ChangeDoc): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const oldest = await this.changes.find({ applied: false, _id: { $lt: change._id } }).sort({ _id: 1 }).limit(1).next();
      if (oldest === null) break;
      if (Date.now() - oldest.at.getTime() > STALE_MS) await this.copy(oldest);
      else await sleep(Math.min(20, 1 + attempt));
    }
    await this.copy(change);
  }

  /** Apply one change to the copy (idempotent: deletes by id, inserts ignoring duplicates), then mark it. */
  private async copy(change: ChangeDoc): Promise<void> {
    if (change.deletes.length > 0) await this.tuples.deleteMany({ _id: { $in: change.deletes } });
    if (change.writes.length > 0) {
      try {
        await this.tuples.insertMany(change.writes.map((k) => tupleDocOf(parseTuple(k), change._id)), { ordered: false });
      } catch (err) {
        if (!onlyDuplicates(err)) throw err; // a duplicate is a tuple already there: a write keeps it
      }
    }
    if (change.schema) {
      await this.schemas.replaceOne({ _id: 'schema' }, { text: change.schema.text, format: change.schema.format, seq: change._id }, { upsert: true });
    }
    await this.changes.updateOne({ _id: change._id }, { $set: { applied: true } });
  }

  /**
   * The live tuples among `keys` (or all of them) and the schema, exactly as of the newest
   * revision m, read in this order: p0 = the oldest change not copied (everything before
   * it is in the copy), the copy, m, then the log from p0 to m applied on top. A change in
   * the copy but at or after p0 is in that log part too, and applying it again in order
   * changes nothing; a change after m cannot be in the copy yet (it was inserted after m
   * was read, and copied after that).
   */
  private async stateAt(keys: string[] | 'all', withSchema: boolean): Promise<{ live: Set<string>; schema?: StoredSchema; revision: number }> {
    const oldestPending = await this.changes.find({ applied: false }).sort({ _id: 1 }).limit(1).next();
    const p0 = oldestPending?._id ?? (await this.maxSeq()) + 1;
    const live = new Set<string>();
    if (keys === 'all') {
      for await (const d of this.tuples.find({}, { projection: { _id: 1 } })) live.add(d._id);
    } else if (keys.length > 0) {
      for (const d of await this.tuples.find({ _id: { $in: keys } }, { projection: { _id: 1 } }).toArray()) live.add(d._id);
    }
    const schemaDoc = withSchema ? await this.schemas.findOne({ _id: 'schema' }) : null;
    let schema: StoredSchema | undefined = schemaDoc ? { text: schemaDoc.text, format: schemaDoc.format, revision: String(schemaDoc.seq) } : undefined;
    const m = await this.maxSeq();
    if (p0 <= m) {
      const range = { _id: { $gte: p0, $lte: m } };
      let filter: Filter<ChangeDoc> = range;
      if (keys !== 'all') {
        const touching: Array<Filter<ChangeDoc>> = [{ writes: { $in: keys } }, { deletes: { $in: keys } }];
        if (withSchema) touching.push({ schema: { $exists: true } });
        filter = { ...range, $or: touching };
      }
      const wanted = keys === 'all' ? undefined : new Set(keys);
      for (const c of await this.changes.find(filter).sort({ _id: 1 }).toArray()) {
        for (const k of c.deletes) if (!wanted || wanted.has(k)) live.delete(k);
        for (const k of c.writes) if (!wanted || wanted.has(k)) live.add(k);
        if (c.schema && withSchema) schema = { text: c.schema.text, format: c.schema.format, revision: String(c._id) };
      }
    }
    return { live, ...(schema ? { schema } : {}), revision: m };
  }

  /** Copy, oldest first, changes whose writers died before copying them. */
  private async finishAbandoned(): Promise<void> {
    for (;;) {
      const oldest = await this.changes.find({ applied: false }).sort({ _id: 1 }).limit(1).next();
      if (oldest === null || Date.now() - oldest.at.getTime() <= STALE_MS) return;
      await this.copy(oldest);
    }
  }

  private maxSeq(): Promise<number> {
    return this.log.newest();
  }
}
