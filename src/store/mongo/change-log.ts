// The write protocol of the MongoDB store and the reading of its change log. Safe on
// FerretDB v1 as well as on MongoDB: it needs no transactions and no atomic
// read-modify-write (FerretDB has neither), only unique indexes.
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
// The log is pruned: applied changes older than the retention are removed (the newest
// always stays, it carries the sequence on). A poller that fell further behind finds
// the change after its revision gone and is told to reload ('reset'). Pruning also
// keeps FerretDB fast: it sorts and filters in its own process, so every log query
// costs time proportional to the log's length.
//
// The sequence part — the newest number, replay without gaps, pruning — is
// `SequenceLog`, shared with the relationship store's log (mongo-relation-store.ts),
// whose entries are whole batches but numbered, replayed and pruned the same way.

import type { Collection, Filter } from 'mongodb';
import { checkPreconditions, hasPreconditions } from '../preconditions.js';
import { StoreConflictError, StoreUnavailableError, type NewPolicy, type StoreEvent, type WriteOptions } from '../store.js';
import { changeOfDelete, changeOfPut, etagOfState, eventOfChange, historyOfChange, policyDocOf, versionOfState, type ChangeDoc, type PolicyDoc } from './mongo-documents.js';
import { UNKNOWN_ACTOR, type HistoryPage, type PolicyChange } from '../history.js';
import { isDuplicateKey } from './mongo-errors.js';

/** Lost races a write retries before giving up (each round, at least one writer wins). */
export const MAX_WRITE_ATTEMPTS = 50;
/** A logged change still not materialised after this long lost its writer; others finish it. */
export const STALE_CHANGE_MS = 5000;
/** Beyond this many changes to replay, a poller is told to reload instead. */
const MAX_REPLAY = 1000;
/** Pruning runs after a write, at most this often (or as often as the retention, when shorter). */
const PRUNE_INTERVAL_MS = 60_000;

export type WriteOutcome = { change: ChangeDoc; created: boolean };

/** Called between the log insert and its copy into `policies` (tests kill a process here). */
export type AfterLogHook = (change: ChangeDoc) => Promise<void>;

/** Random, growing pause between attempts so racing writers spread out. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(100, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What every log entry has: its sequence number and whether it has been materialised. */
export interface LogEntry {
  _id: number;
  applied: boolean;
}

/**
 * An insert-only log numbered 1, 2, 3… without gaps: its newest number, the entries
 * after a number (in order, stopping before a gap), and pruning of old applied entries.
 * `timeField` names the entry's Date field that pruning goes by.
 */
export class SequenceLog<T extends LogEntry> {
  private lastPrune = 0;

  constructor(
    protected readonly changes: Collection<T>,
    private readonly retentionMs: number,
    private readonly timeField: string,
  ) {}

  /** The sequence number of the newest entry (0 for none): the store's revision. */
  async newest(): Promise<number> {
    const last = await this.changes.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next();
    return (last?._id as number | undefined) ?? 0;
  }

  /** Entries after `from`, in order, or 'reset' when they cannot all be replayed. */
  async entriesSince(from: number, page?: number): Promise<{ entries: T[]; last: number } | 'reset'> {
    // A poller (no page) that is too far behind reloads instead; a history reader pages.
    const batch = await this.changes.find({ _id: { $gt: from } } as Filter<T>).sort({ _id: 1 }).limit((page ?? MAX_REPLAY) + 1).toArray() as T[];
    if (batch.length > (page ?? MAX_REPLAY)) {
      if (page === undefined) return 'reset';
      batch.length = page;
    }
    // Nothing newer, but the log is behind the caller: the collection was dropped or restored.
    if (batch.length === 0) return (await this.newest()) < from ? 'reset' : { entries: [], last: from };
    const entries: T[] = [];
    let last = from;
    for (const c of batch) {
      // Numbers have no gaps, so a gap is an entry this read did not see yet: stop before it.
      if (c._id !== last + 1) break;
      entries.push(c);
      last = c._id;
    }
    // The very next entry is missing (pruned, or not visible to this read): reload instead.
    return entries.length === 0 ? 'reset' : { entries, last };
  }

  /** Best effort, after a write: drop applied entries past the retention, never the newest (`newest`). */
  async prune(newest: number): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < Math.min(PRUNE_INTERVAL_MS, this.retentionMs)) return;
    this.lastPrune = now;
    try {
      await this.changes.deleteMany({ _id: { $lt: newest }, applied: true, [this.timeField]: { $lt: new Date(now - this.retentionMs) } } as Filter<T>);
    } catch {
      // Only the log's length is at stake; a later write prunes again.
    }
  }
}

/** The policy store's log: the write protocol above on top of the sequence log. */
export class ChangeLog extends SequenceLog<ChangeDoc> {
  constructor(
    private readonly policies: Collection<PolicyDoc>,
    changes: Collection<ChangeDoc>,
    retentionMs: number,
    private readonly afterLog?: AfterLogHook,
  ) {
    super(changes, retentionMs, 'updatedAt');
  }

  /** The key's recorded changes, newest first (the change log is the history). */
  async keyHistory(key: string, page: { before?: number; limit: number }): Promise<HistoryPage<PolicyChange>> {
    const filter: Filter<ChangeDoc> = { key };
    if (page.before !== undefined) filter._id = { $lt: page.before };
    const docs = await this.changes.find(filter).sort({ _id: -1 }).limit(page.limit + 1).toArray();
    const entries = docs.slice(0, page.limit).map(historyOfChange);
    return docs.length > page.limit ? { entries, next: entries[entries.length - 1]!.revision } : { entries };
  }

  async historySince(from: number, limit: number): Promise<{ entries: PolicyChange[]; last: number } | 'reset'> {
    const r = await this.entriesSince(from, limit);
    return r === 'reset' ? r : { entries: r.entries.map(historyOfChange), last: r.last };
  }

  /** Changes logged up to `max` and not yet materialised, oldest first. */
  pending(max: number): Promise<ChangeDoc[]> {
    return this.changes.find({ applied: false, _id: { $lte: max } }).sort({ _id: 1 }).toArray();
  }

  /** Put (`policy` given) or delete one key; false when deleting a key that does not exist. */
  async write(key: string, policy: NewPolicy | undefined, options: WriteOptions | undefined): Promise<WriteOutcome | false> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const current = await this.policies.findOne({ _id: key });
      const version = current?.version ?? 0;
      const currentEtag = etagOfState(current);
      checkPreconditions(key, currentEtag, options);
      if (policy === undefined && currentEtag === undefined) return false;
      const seq = (await this.newest()) + 1;
      const now = new Date();
      // The history entry is this same document: who, and the version it replaces.
      const origin = { actor: options?.actor ?? UNKNOWN_ACTOR, before: versionOfState(current) };
      const change = policy !== undefined
        ? changeOfPut(seq, version + 1, policy, now, origin)
        // A tombstone keeps the namespace, so pollers can tell caches what to drop.
        : changeOfDelete(seq, version + 1, key, current?.namespace ?? '', now, origin);
      try {
        await this.changes.insertOne(change);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const rival = await this.changes.findOne({ key, version: version + 1 });
        if (rival !== null) {
          // This key was written after we read it…
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
      if (this.afterLog) await this.afterLog(change);
      await this.materialize(change);
      await this.prune(change._id);
      return { change, created: currentEtag === undefined };
    }
    throw new StoreUnavailableError(`write of policy ${key} gave up after ${MAX_WRITE_ATTEMPTS} lost races with other writers`);
  }

  /** Events after revision `from`, in order, or 'reset' when they cannot all be replayed. */
  async since(from: number): Promise<{ events: StoreEvent[]; last: number } | 'reset'> {
    const r = await this.entriesSince(from);
    return r === 'reset' ? r : { events: r.entries.map(eventOfChange), last: r.last };
  }

  /** Best effort: materialise changes whose writers gave up (crashed) long ago. */
  async finishAbandoned(pending: ChangeDoc[]): Promise<void> {
    const now = Date.now();
    for (const c of pending) {
      if (now - c.updatedAt.getTime() <= STALE_CHANGE_MS) continue;
      try {
        await this.materialize(c);
      } catch {
        // The caller already counts the change as made; the next load or write tries again.
      }
    }
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
}
