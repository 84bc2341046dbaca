// The MongoDB store (SPEC §6), safe on FerretDB v1 as well as on MongoDB: it needs no
// transactions, no change streams and no atomic read-modify-write, only unique indexes.
//
// A write: read the key's current version v from `policies` and check If-Match /
// If-None-Match against it; read the highest sequence number m in the change log;
// insert the change `{_id: m + 1, key, version: v + 1, …}` into the log. The log's two
// unique indexes make that insert the single point where concurrent writers are decided:
// two writers of the same key from the same version collide on `{key, version}`, two
// writers of any keys that read the same m collide on `_id`. The loser re-reads (no
// precondition) or gets StoreConflictError (a precondition). The winner then copies the
// change into `policies` ("materialises" it) and marks it applied.
//
// Because the log is insert-only, sequence numbers are never reused or overwritten: a
// change becomes visible only after every smaller one, so a poller that has read up to
// revision r misses nothing by asking for `_id > r`. (A sequence kept on the per-key
// documents alone would not give that: rewriting a key frees its old number, and a
// writer that read the maximum before that rewrite could land below what pollers saw.)
//
// Deletes are changes too (`deleted: true`); the policies document of a deleted key
// stays as a tombstone holding its version, so a key deleted and put again keeps
// counting. `revision` is the sequence number of the newest change, in decimal.
//
// Not provided: pruning of the change log (one small document per write; policy writes
// are rare) — pruning would have to be paired with `changesSince` answering 'reset'
// below the oldest entry, which it already does for any gap.

import { MongoClient, type Collection, type Db, type Filter } from 'mongodb';
import { checkPreconditions, hasPreconditions } from '../preconditions.js';
import {
  StoreConflictError, StoreUnavailableError,
  type ListPage, type ListQuery, type NewPolicy, type PolicyRecord, type PollableStore, type PutResult,
  type Snapshot, type StoreEvent, type WriteOptions,
} from '../store.js';
import { watchForChanges } from './change-hint.js';
import {
  changeOfDelete, changeOfPut, etagOfState, eventOfChange, policyDocOf, recordOfChange, recordOfPolicyDoc,
  type ChangeDoc, type PolicyDoc,
} from './mongo-documents.js';
import { isDuplicateKey, mapErrors } from './mongo-errors.js';

export interface MongoStoreOptions {
  url: string;
  /** the database; default: the one named in the URL path */
  dbName?: string;
  /** default 'policies'; the change log is `<collection>_changes` */
  collection?: string;
  /** how long an operation waits for a reachable server before failing (default 2000) */
  serverSelectionTimeoutMS?: number;
  /** a client to share (the store then leaves closing it to the owner) */
  client?: MongoClient;
}

/** Lost races a write retries before giving up (each round, at least one writer wins). */
const MAX_WRITE_ATTEMPTS = 50;
/** A logged change still not materialised after this long lost its writer; others finish it. */
const STALE_CHANGE_MS = 5000;
/** Beyond this many changes to replay, a poller is told to reload instead. */
const MAX_REPLAY = 1000;

/** The database named in a connection string's path, if any. */
export function databaseOfUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url.trim());
  const name = m?.[1] === undefined ? '' : decodeURIComponent(m[1]);
  return name === '' ? undefined : name;
}

/** Random, growing pause between attempts so racing writers spread out. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type WriteOutcome = { change: ChangeDoc; created: boolean };

export class MongoStore implements PollableStore {
  readonly kind = 'mongo' as const;
  private readonly client: MongoClient;
  private readonly ownsClient: boolean;
  private readonly db: Db;
  private readonly policies: Collection<PolicyDoc>;
  private readonly changes: Collection<ChangeDoc>;
  private connecting: Promise<void> | undefined;
  private indexes: Promise<void> | undefined;
  private readonly hints = new Set<() => void>();
  private closed = false;

  constructor(options: MongoStoreOptions) {
    const dbName = options.dbName ?? databaseOfUrl(options.url);
    if (dbName === undefined) {
      throw new Error('MongoStore: no database: name it in the connection string (mongodb://host/<database>) or set dbName');
    }
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new MongoClient(options.url, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 2000,
    });
    this.db = this.client.db(dbName);
    const name = options.collection ?? 'policies';
    this.policies = this.db.collection<PolicyDoc>(name);
    this.changes = this.db.collection<ChangeDoc>(`${name}_changes`);
  }

  async open(): Promise<void> {
    await this.run('open the MongoDB policy store', () => this.ensureIndexes());
  }

  async loadAll(): Promise<Snapshot> {
    return this.run('load policies', async () => {
      // In this order, so that nothing is missed: every change up to `max` is either
      // already applied when `pending` is read (so the policies read after show it) or
      // found pending. Changes after `max` reach the caller by polling from `max`.
      const max = await this.maxSeq();
      const pending = await this.changes.find({ applied: false, _id: { $lte: max } }).sort({ _id: 1 }).toArray();
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
        await this.finishAbandoned(pending);
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
  async putMany(policies: NewPolicy[]): Promise<{ revision: string; created: number; replaced: number }> {
    return this.run('import policies', async () => {
      let created = 0;
      let revision: string | undefined;
      for (const p of policies) {
        const outcome = await this.putOne(p, undefined);
        if (outcome.created) created++;
        revision = String(outcome.change._id);
      }
      return { revision: revision ?? String(await this.maxSeq()), created, replaced: policies.length - created };
    });
  }

  async delete(key: string, options?: WriteOptions): Promise<{ revision: string } | false> {
    return this.run(`delete policy ${key}`, async () => {
      const outcome = await this.write(key, undefined, options);
      return outcome === false ? false : { revision: String(outcome.change._id) };
    });
  }

  async changesSince(revision: string): Promise<{ events: StoreEvent[]; revision: string } | 'reset'> {
    if (!/^\d{1,15}$/.test(revision)) return 'reset';
    const from = Number(revision);
    return this.run('read policy changes', async () => {
      const batch = await this.changes.find({ _id: { $gt: from } }).sort({ _id: 1 }).limit(MAX_REPLAY + 1).toArray();
      if (batch.length > MAX_REPLAY) return 'reset';
      // Nothing newer, but the log is behind the caller: the collection was dropped or restored.
      if (batch.length === 0) return (await this.maxSeq()) < from ? 'reset' : { events: [], revision };
      const events: StoreEvent[] = [];
      let last = from;
      for (const c of batch) {
        // Numbers have no gaps, so a gap is a change this read did not see yet: stop before it.
        if (c._id !== last + 1) break;
        events.push(eventOfChange(c));
        last = c._id;
      }
      // The very next change is missing (or the log was pruned past it): reload instead.
      if (events.length === 0) return 'reset';
      return { events, revision: String(last) };
    });
  }

  /**
   * Calls `listener` whenever the change log changes, where the server has change
   * streams, so the caller can poll at once; elsewhere it never calls it. Returns a
   * function that stops watching.
   */
  onChangeHint(listener: () => void): () => void {
    if (this.closed) return () => {};
    const stop = watchForChanges(this.changes, listener);
    this.hints.add(stop);
    return () => {
      stop();
      this.hints.delete(stop);
    };
  }

  async ping(): Promise<void> {
    await this.run('ping MongoDB', async () => {
      await this.db.command({ ping: 1 });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.hints) stop();
    this.hints.clear();
    if (this.ownsClient) await this.client.close();
  }

  /** Run a store operation on a connected client, mapping driver errors to domain errors. */
  private run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return mapErrors(what, async () => {
      if (this.closed) throw new StoreUnavailableError(`${what}: the store is closed`);
      await this.connect();
      return operation();
    });
  }

  private connect(): Promise<void> {
    // A connection attempt that fails leaves the driver's client closed for good ("Topology
    // is closed") until connect() is called again: so the next operation tries again, and
    // a server that was down when the process started is picked up when it comes back.
    this.connecting ??= this.client.connect().then(
      () => undefined,
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  private ensureIndexes(): Promise<void> {
    // Writes depend on the unique indexes: they are made before the first write even
    // when open() failed (server down at start-up), and retried until they exist.
    this.indexes ??= (async () => {
      await this.policies.createIndex({ namespace: 1, ordinal: 1 });
      await this.changes.createIndex({ key: 1, version: 1 }, { unique: true });
      await this.changes.createIndex({ applied: 1 });
    })();
    this.indexes.catch(() => {
      this.indexes = undefined;
    });
    return this.indexes;
  }

  private async putOne(policy: NewPolicy, options: WriteOptions | undefined): Promise<WriteOutcome> {
    const outcome = await this.write(policy.key, policy, options);
    // Only a delete of a missing key returns false.
    if (outcome === false) throw new Error(`unreachable: put of ${policy.key} wrote nothing`);
    return outcome;
  }

  /** Put (`policy` given) or delete one key; false when deleting a key that does not exist. */
  private async write(key: string, policy: NewPolicy | undefined, options: WriteOptions | undefined): Promise<WriteOutcome | false> {
    await this.ensureIndexes();
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.policies.findOne({ _id: key });
      const version = current?.version ?? 0;
      const currentEtag = etagOfState(current);
      checkPreconditions(key, currentEtag, options);
      if (policy === undefined && currentEtag === undefined) return false;
      const seq = (await this.maxSeq()) + 1;
      const now = new Date();
      const change = policy !== undefined
        ? changeOfPut(seq, version + 1, policy, now)
        // A tombstone keeps the namespace, so pollers can tell caches what to drop.
        : changeOfDelete(seq, version + 1, key, current?.namespace ?? '', now);
      try {
        await this.changes.insertOne(change);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const rival = await this.changes.findOne({ key, version: version + 1 });
        if (rival !== null) {
          // This key was written after we read it.
          if (!rival.applied && Date.now() - rival.updatedAt.getTime() > STALE_CHANGE_MS) {
            // …by a writer that died before materialising it: finish its write, look again.
            await this.materialize(rival);
            continue;
          }
          if (hasPreconditions(options)) throw new StoreConflictError(key, etagOfState(rival));
        }
        await backoff(attempt);
        continue;
      }
      await this.materialize(change);
      return { change, created: currentEtag === undefined };
    }
    throw new StoreUnavailableError(`write of policy ${key} gave up after ${MAX_WRITE_ATTEMPTS} lost races with other writers`);
  }

  /** Copy a logged change into the policies collection (idempotent), then mark it applied. */
  private async materialize(change: ChangeDoc): Promise<void> {
    const { _id, ...fields } = policyDocOf(change);
    try {
      // Only over an older version: a late helper must never roll a key back.
      await this.policies.updateOne({ _id, version: { $lt: change.version } }, { $set: fields }, { upsert: true });
    } catch (err) {
      // The upsert found the key at this version or newer: already materialised.
      if (!isDuplicateKey(err)) throw err;
    }
    await this.changes.updateOne({ _id: change._id }, { $set: { applied: true } });
  }

  /** Best effort: materialise changes whose writers gave up (crashed) long ago. */
  private async finishAbandoned(pending: ChangeDoc[]): Promise<void> {
    const now = Date.now();
    for (const c of pending) {
      if (now - c.updatedAt.getTime() <= STALE_CHANGE_MS) continue;
      try {
        await this.materialize(c);
      } catch {
        // The snapshot already includes the change; the next load or write tries again.
      }
    }
  }

  private async maxSeq(): Promise<number> {
    const last = await this.changes.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next();
    return last?._id ?? 0;
  }
}
