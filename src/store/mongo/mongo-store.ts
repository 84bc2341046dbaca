// The MongoDB store (SPEC §6), safe on FerretDB v1 as well as on MongoDB. Two
// collections (see mongo-documents.ts): `policies`, one document per key, and the
// insert-only change log `policies_changes`, whose unique indexes decide concurrent
// writers (the protocol is in change-log.ts).
//
// `loadAll` and `changesSince` read the log where it matters, so they never miss a
// change; `get` and `list` read the policies collection, where a change shows up once
// its writer has materialised it (right after the insert; a writer that died in
// between is finished by the next write of that key or the next `loadAll`).
//
// Deletes are changes too (`deleted: true`); the policies document of a deleted key
// stays as a tombstone holding its version, so a key deleted and put again keeps
// counting. `revision` is the sequence number of the newest change, in decimal.

import { MongoSampleStore } from './mongo-sample-store.js';
import type { Collection, Filter } from 'mongodb';
import {
  type ListPage, type ListQuery, type NewPolicy, type PolicyRecord, type PollableStore, type PutResult,
  type Snapshot, type StoreEvent, type WriteOptions,
} from '../store.js';
import { ChangeLog, type AfterLogHook, type WriteOutcome } from './change-log.js';
import type { CompactionOptions } from './sequence-log.js';
import { DEFAULT_HISTORY_RETENTION_MS, MAX_HISTORY_PAGE, type HistoryPage, type PolicyChange, type PolicyHistory } from '../history.js';
import { recordOfChange, recordOfPolicyDoc, type ChangeDoc, type PolicyDoc } from './mongo-documents.js';
import { MongoConnection, type MongoConnectionOptions } from './mongo-connection.js';

export interface MongoStoreOptions extends MongoConnectionOptions {
  /** default 'policies'; the change log is `<collection>_changes` */
  collection?: string;
  /** how long applied changes (the history) are kept, in ms (default HISTORY_RETENTION_DAYS' default) */
  changeRetentionMs?: number;
  /** tests only: runs between a write's log insert and its copy into `policies` */
  afterLog?: AfterLogHook;
  /** tests only: when changes leave the log for `<collection>_history` (sequence-log.ts) */
  compaction?: CompactionOptions;
}

export { databaseOfUrl } from './mongo-connection.js';

export class MongoStore implements PollableStore, PolicyHistory {
  readonly kind = 'mongo' as const;
  private readonly connection: MongoConnection;
  private readonly policies: Collection<PolicyDoc>;
  private readonly changes: Collection<ChangeDoc>;
  private readonly history: Collection<ChangeDoc>;
  private indexes: Promise<void> | undefined;
  private readonly log: ChangeLog;

  constructor(options: MongoStoreOptions) {
    this.connection = new MongoConnection(options, 'MongoStore');
    const db = this.connection.db;
    const name = options.collection ?? 'policies';
    this.policies = db.collection<PolicyDoc>(name);
    this.changes = db.collection<ChangeDoc>(`${name}_changes`);
    this.history = db.collection<ChangeDoc>(`${name}_history`);
    this.log = new ChangeLog(this.policies, this.changes, this.history, options.changeRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS, options.afterLog, options.compaction);
  }

  /** Request samples on this store's connection (SAMPLES_SHARED). */
  sampleStore(): MongoSampleStore {
    return new MongoSampleStore(this.connection);
  }

  async open(): Promise<void> {
    await this.run('open the MongoDB policy store', () => this.ensureIndexes());
  }

  async loadAll(): Promise<Snapshot> {
    return this.run('load policies', async () => {
      // In this order, so that nothing is missed: every change up to `max` is either
      // already applied when `pending` is read (so the policies read after show it) or
      // found pending. Changes after `max` reach the caller by polling from `max`.
      const max = await this.log.newest();
      const pending = await this.log.pending(max);
      const docs = await this.policies.find({ deleted: false }).toArray();
      const records = new Map<string, PolicyRecord>();
      const versions = new Map<string, number>();
      for (const d of docs) {
        const r = recordOfPolicyDoc(d);
        if (r !== undefined) records.set(d._id, r);
        versions.set(d._id, d.version);
      }
      if (pending.length > 0) {
        const tombstones = pending.map((c) => c.key).filter((k) => !versions.has(k));
        for (const d of await this.policies.find({ _id: { $in: tombstones } }).toArray()) versions.set(d._id, d.version);
        for (const c of pending) {
          if (c.version <= (versions.get(c.key) ?? 0)) continue;
          versions.set(c.key, c.version);
          const r = recordOfChange(c);
          if (r === undefined) records.delete(c.key);
          else records.set(c.key, r);
        }
        await this.log.finishAbandoned(pending);
      }
      return { records: [...records.values()], revision: String(max) };
    });
  }

  async get(key: string): Promise<PolicyRecord | undefined> {
    return this.run(`read policy ${key}`, async () => {
      const d = await this.policies.findOne({ _id: key });
      return d === null ? undefined : recordOfPolicyDoc(d);
    });
  }

  async list(query: ListQuery): Promise<ListPage> {
    return this.run('list policies', async () => {
      const limit = Math.max(1, Math.trunc(query.limit));
      const filter: Filter<PolicyDoc> = { deleted: false };
      if (query.namespace !== undefined) filter.namespace = query.namespace;
      if (query.after !== undefined) filter._id = { $gt: query.after };
      const docs = await this.policies.find(filter).sort({ _id: 1 }).limit(limit + 1).toArray();
      const records = docs.slice(0, limit).map(recordOfPolicyDoc).filter((r): r is PolicyRecord => r !== undefined);
      const last = records[records.length - 1];
      return docs.length > limit && last !== undefined ? { records, next: last.key } : { records };
    });
  }

  async put(policy: NewPolicy, options?: WriteOptions): Promise<PutResult> {
    return this.connection.serialized(() => this.putNow(policy, options));
  }

  private putNow(policy: NewPolicy, options?: WriteOptions): Promise<PutResult> {
    return this.run(`write policy ${policy.key}`, async () => {
      const { change, created } = await this.putOne(policy, options);
      const record = recordOfChange(change);
      if (record === undefined) throw new Error(`unreachable: put of ${policy.key} logged a delete`);
      return { record, created, revision: String(change._id) };
    });
  }

  /**
   * Written one by one, in order: without transactions (FerretDB has none) a failure
   * midway leaves the earlier ones written. The caller validated every document first,
   * so what remains to fail is the database itself, and a retry converges.
   */
  async putMany(policies: NewPolicy[], options?: { actor?: string }): Promise<{ revision: string; created: number; replaced: number }> {
    return this.connection.serialized(() => this.run('import policies', async () => {
      let created = 0;
      let revision: string | undefined;
      for (const p of policies) {
        const outcome = await this.putOne(p, options?.actor !== undefined ? { actor: options.actor } : undefined);
        if (outcome.created) created++;
        revision = String(outcome.change._id);
      }
      return { revision: revision ?? String(await this.log.newest()), created, replaced: policies.length - created };
    }));
  }

  async delete(key: string, options?: WriteOptions): Promise<{ revision: string } | false> {
    return this.connection.serialized(() => this.run(`delete policy ${key}`, async () => {
      await this.ensureIndexes();
      const outcome = await this.log.write(key, undefined, options);
      return outcome === false ? false : { revision: String(outcome.change._id) };
    }));
  }

  async changesSince(revision: string): Promise<{ events: StoreEvent[]; revision: string } | 'reset'> {
    if (!/^\d{1,15}$/.test(revision)) return 'reset';
    const from = Number(revision);
    return this.run('read policy changes', async () => {
      const changes = await this.log.since(from);
      return changes === 'reset' ? 'reset' : { events: changes.events, revision: String(changes.last) };
    });
  }

  async keyHistory(key: string, page: { before?: number; limit: number }): Promise<HistoryPage<PolicyChange>> {
    return this.run(`read the history of ${key}`, () => this.log.keyHistory(key, { ...page, limit: Math.min(MAX_HISTORY_PAGE, page.limit) }));
  }

  async historySince(revision: number, limit: number): Promise<{ entries: PolicyChange[]; last: number } | 'reset'> {
    return this.run('read the change history', () => this.log.historySince(revision, Math.min(MAX_HISTORY_PAGE, limit)));
  }

  /**
   * Calls `listener` whenever the change log changes, where the server has change
   * streams, so the caller can poll at once; elsewhere it never calls it. Returns a
   * function that stops watching.
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

  private run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return this.connection.run(what, operation);
  }

  private ensureIndexes(): Promise<void> {
    // Writes depend on the unique indexes: they are made before the first write even
    // when open() failed (server down at start-up), and retried until they exist.
    this.indexes ??= (async () => {
      await this.policies.createIndex({ namespace: 1, ordinal: 1 });
      await this.changes.createIndex({ key: 1, version: 1 }, { unique: true });
      await this.changes.createIndex({ applied: 1 });
      await this.history.createIndex({ key: 1, _id: 1 });
      await this.history.createIndex({ updatedAt: 1 });
    })();
    this.indexes.catch(() => {
      this.indexes = undefined;
    });
    return this.indexes;
  }

  private async putOne(policy: NewPolicy, options: WriteOptions | undefined): Promise<WriteOutcome> {
    await this.ensureIndexes();
    const outcome = await this.log.write(policy.key, policy, options);
    // Only a delete of a missing key returns false.
    if (outcome === false) throw new Error(`unreachable: put of ${policy.key} wrote nothing`);
    return outcome;
  }
}
