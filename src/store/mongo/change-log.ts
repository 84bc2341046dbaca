// The write protocol of the MongoDB store and the reading of its change log. Safe on
// FerretDB v1 as well as on MongoDB: it needs no transactions and no atomic
// read-modify-write (FerretDB has neither), only unique indexes.
//
// A write: read the key's current version v from `policies` and check If-Match /
// If-None-Match against it; read the highest sequence number m in the change log;
// insert the change `{_id: m + 1, key, version: v + 1, …}` into the log (m is not read
// again right after this process logged m itself: `SequenceLog.nextNumber`). The log's two
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
// The log is kept short: applied changes beyond the newest few hundred move to the
// history archive `policies_history`, which keeps them for the retention; a poller that
// fell further behind finds the change after its revision gone and is told to reload
// ('reset'). The sequence part — the newest number, replay without gaps, the archive,
// pruning — is `SequenceLog` (sequence-log.ts), shared with the relationship store's log
// (mongo-relation-store.ts), whose entries are whole batches but numbered, replayed and
// kept the same way.

import type { Collection, Filter } from 'mongodb';
import { MAX_WRITE_ATTEMPTS, SequenceLog, backoff, type CompactionOptions } from './sequence-log.js';
import { checkPreconditions, hasPreconditions } from '../preconditions.js';
import { StoreConflictError, StoreUnavailableError, type NewPolicy, type StoreEvent, type WriteOptions } from '../store.js';
import { changeOfDelete, changeOfPut, etagOfState, eventOfChange, historyOfChange, policyDocOf, versionOfState, type ChangeDoc, type PolicyDoc } from './mongo-documents.js';
import { UNKNOWN_ACTOR, type HistoryPage, type PolicyChange } from '../history.js';
import { isDuplicateKey } from './mongo-errors.js';

/** A logged change still not materialised after this long lost its writer; others finish it. */
export const STALE_CHANGE_MS = 5000;

export type WriteOutcome = { change: ChangeDoc; created: boolean };

/** Called between the log insert and its copy into `policies` (tests kill a process here). */
export type AfterLogHook = (change: ChangeDoc) => Promise<void>;

/** The policy store's log: the write protocol above on top of the sequence log. */
export class ChangeLog extends SequenceLog<ChangeDoc> {
  constructor(
    private readonly policies: Collection<PolicyDoc>,
    changes: Collection<ChangeDoc>,
    archive: Collection<ChangeDoc>,
    retentionMs: number,
    private readonly afterLog?: AfterLogHook,
    compaction?: CompactionOptions,
  ) {
    super(changes, retentionMs, 'updatedAt', archive, compaction);
  }

  /** The key's recorded changes, newest first (the change log is the history). */
  async keyHistory(key: string, page: { before?: number; limit: number }): Promise<HistoryPage<PolicyChange>> {
    const filter: Filter<ChangeDoc> = { key };
    if (page.before !== undefined) filter._id = { $lt: page.before };
    const docs = await this.findEverywhere(filter, -1, page.limit + 1);
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
      const readAt = Date.now();
      const current = await this.policies.findOne({ _id: key });
      const version = current?.version ?? 0;
      const currentEtag = etagOfState(current);
      checkPreconditions(key, currentEtag, options);
      if (policy === undefined && currentEtag === undefined) return false;
      const next = await this.nextNumber();
      const seq = next.seq;
      const now = new Date();
      // The history entry is this same document: who, and the version it replaces.
      const origin = { actor: options?.actor ?? UNKNOWN_ACTOR, before: versionOfState(current) };
      const change = policy !== undefined
        ? changeOfPut(seq, version + 1, policy, now, origin)
        // A tombstone keeps the namespace, so pollers can tell caches what to drop.
        : changeOfDelete(seq, version + 1, key, current?.namespace ?? '', now, origin);
      // Too slow to trust the unique indexes (see sequence-log.ts): read again.
      if (!this.isFresh(Math.min(readAt, next.readAt))) continue;
      const insertAt = Date.now();
      try {
        await this.changes.insertOne(change);
        this.logged(seq, insertAt);
      } catch (err) {
        this.forget();
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
