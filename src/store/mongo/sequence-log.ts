// An insert-only log numbered 1, 2, 3… without gaps (the MongoDB stores' change logs):
// its newest number, the entries after a number (in order, stopping before a gap), and
// keeping it short.
//
// Why short: FerretDB v1 filters and sorts in its own process (it pushes down only an
// `_id` equal to a string), so every log query — the newest number read by each write,
// the mark of a change as applied, a replica's poll — costs time in proportion to the
// log's length. A log that kept every change for the history retention (90 days) made
// the 1,000th write ~7× slower than the 100th (bench/RESULTS.md, "Writes over time").
//
// So the log is two collections:
// - the log itself (`<name>_changes`), which writers and pollers read, holds the newest
//   changes only: a replica is never further behind than its poll interval, and one that
//   is (down for a while) finds the change after its revision gone and reloads ('reset'),
//   as it already did past MAX_REPLAY;
// - the archive (`<name>_history`, for stores whose log is also the history): applied
//   changes that are both beyond the newest REPLAY_WINDOW and older than
//   COMPACT_MIN_AGE_MS are moved there (inserted, then deleted from the log: a crash in
//   between leaves a copy in both, which readers merge). History readers read both.
// Both are pruned past the retention, the log's newest entry excepted (it carries the
// sequence on).
//
// Moving entries out of the log takes them out of the log's unique indexes, which decide
// concurrent writers. A writer read the newest number (and its key's version) just before
// inserting; it collides with an entry logged after that read (moved no sooner than
// COMPACT_MIN_AGE_MS after it was logged) or with one still pending at that read. So a
// writer whose attempt took longer than half that (`isFresh`) starts again instead of
// inserting. Limit: an entry logged long before and materialised (then moved, past 200
// newer ones) during that one short attempt would be missed; that takes a writer that
// stalled over COMPACT_MIN_AGE_MS between its insert and its copy, and clocks of the
// writing processes within a few seconds of each other.

import type { Collection, Filter, OptionalUnlessRequiredId } from 'mongodb';
import { onlyDuplicates } from './mongo-errors.js';

/** Lost races a write retries before giving up (each round, at least one writer wins). */
export const MAX_WRITE_ATTEMPTS = 50;
/** Beyond this many changes to replay, a poller is told to reload instead. */
const MAX_REPLAY = 1000;
/** Pruning runs after a write, at most this often (or as often as the retention, when shorter). */
const PRUNE_INTERVAL_MS = 60_000;
/** With an archive: the newest changes the log keeps (pollers replay them) ... */
export const REPLAY_WINDOW = 200;
/** ... and the youngest age at which an applied change may leave it. */
export const COMPACT_MIN_AGE_MS = 10_000;
/** Compaction is tried once per this many new sequence numbers, moving at most COMPACT_BATCH. */
const COMPACT_EVERY = 100;
const COMPACT_BATCH = 1000;

/** When entries leave the log for the archive (tests shrink these). */
export interface CompactionOptions {
  /** the newest entries always kept (REPLAY_WINDOW) */
  window: number;
  /** the youngest age that may leave (COMPACT_MIN_AGE_MS) */
  minAgeMs: number;
  /** sequence numbers between two tries (COMPACT_EVERY) */
  every: number;
}

const DEFAULT_COMPACTION: CompactionOptions = { window: REPLAY_WINDOW, minAgeMs: COMPACT_MIN_AGE_MS, every: COMPACT_EVERY };

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

export class SequenceLog<T extends LogEntry> {
  /** The newest number this process logged itself, and when the insert that logged it started. */
  private known: { seq: number; at: number } | undefined;
  private lastPrune = 0;
  private lastArchivePrune = 0;
  private compactTriedAt = 0;
  private readonly compaction: CompactionOptions;

  /**
   * `timeField` names the entry's Date field that pruning goes by; `archive`, when given,
   * receives the changes compacted out of the log and keeps them for the retention.
   */
  constructor(
    protected readonly changes: Collection<T>,
    private readonly retentionMs: number,
    private readonly timeField: string,
    protected readonly archive?: Collection<T>,
    compaction?: CompactionOptions,
  ) {
    this.compaction = compaction ?? DEFAULT_COMPACTION;
  }

  /** The sequence number of the newest entry (0 for none): the store's revision. */
  async newest(): Promise<number> {
    const last = await this.changes.find({}, { projection: { _id: 1 } }).sort({ _id: -1 }).limit(1).next();
    return (last?._id as number | undefined) ?? 0;
  }

  /**
   * The number a writer should try next, and the time it counts as read at (for
   * `isFresh`). Right after this process logged number n itself, n + 1 is tried without
   * reading the log: any entry numbered n + 1 was logged after that insert started (its
   * writer read n first), so within half the compaction age and half the retention it is
   * still in the log and the insert collides with it, as with a number read just now.
   * That saves the newest-number query (a scan of the log on FerretDB v1) on every write
   * of a replica writing alone. A collision calls `forget()`; the next try reads the log.
   */
  async nextNumber(): Promise<{ seq: number; readAt: number }> {
    const now = Date.now();
    const k = this.known;
    if (k !== undefined && now - k.at < Math.min(this.compaction.minAgeMs, this.retentionMs) / 2) return { seq: k.seq + 1, readAt: k.at };
    this.known = undefined;
    return { seq: (await this.newest()) + 1, readAt: now };
  }

  /** This process logged `seq` with an insert that started at `at` (Date.now()). */
  protected logged(seq: number, at: number): void {
    this.known = { seq, at };
  }

  /** The number guessed from `logged` lost: read the log next time. */
  protected forget(): void {
    this.known = undefined;
  }

  /** Whether a write attempt that read the log at `readAt` (Date.now()) may still insert. */
  isFresh(readAt: number): boolean {
    return this.archive === undefined || Date.now() - readAt < this.compaction.minAgeMs / 2;
  }

  /**
   * Entries after `from`, in order, or 'reset' when they cannot all be replayed. A poller
   * (no page) reads the log alone and reloads when too far behind; a history reader pages
   * through the archive and the log.
   */
  async entriesSince(from: number, page?: number): Promise<{ entries: T[]; last: number } | 'reset'> {
    const max = page ?? MAX_REPLAY;
    const filter = { _id: { $gt: from } } as Filter<T>;
    const batch = page === undefined
      ? await this.changes.find(filter).sort({ _id: 1 }).limit(max + 1).toArray() as T[]
      : await this.findEverywhere(filter, 1, max + 1);
    if (batch.length > max) {
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

  /**
   * Entries matching `filter` in the log and the archive, by `_id` (1 ascending, -1
   * descending), at most `limit`. The log is read first: an entry moved in between was
   * inserted into the archive before it left the log, so the second read finds it.
   */
  protected async findEverywhere(filter: Filter<T>, direction: 1 | -1, limit: number): Promise<T[]> {
    const inLog = await this.changes.find(filter).sort({ _id: direction }).limit(limit).toArray() as T[];
    if (this.archive === undefined) return inLog;
    const archived = await this.archive.find(filter).sort({ _id: direction }).limit(limit).toArray() as T[];
    const byId = new Map<number, T>();
    for (const e of [...archived, ...inLog]) byId.set(e._id, e);
    return [...byId.values()].sort((a, b) => direction * (a._id - b._id)).slice(0, limit);
  }

  /**
   * Best effort, after a write of `newest`: move old applied entries to the archive,
   * and drop entries past the retention (the log's newest always stays).
   */
  async prune(newest: number): Promise<void> {
    try {
      if (this.archive !== undefined && newest - this.compactTriedAt >= this.compaction.every) {
        this.compactTriedAt = newest;
        await this.compact(newest);
      }
      const now = Date.now();
      const cutoff = { $lt: new Date(now - this.retentionMs) };
      if (now - this.lastPrune >= Math.min(PRUNE_INTERVAL_MS, this.retentionMs)) {
        this.lastPrune = now;
        await this.changes.deleteMany({ _id: { $lt: newest }, applied: true, [this.timeField]: cutoff } as Filter<T>);
      }
      // The archive is long and rarely read: pruned to within 1% of the retention (or as the log).
      if (this.archive !== undefined && now - this.lastArchivePrune >= Math.max(Math.min(PRUNE_INTERVAL_MS, this.retentionMs), this.retentionMs / 100)) {
        this.lastArchivePrune = now;
        await this.archive.deleteMany({ [this.timeField]: cutoff } as Filter<T>);
      }
    } catch {
      // Only the log's length is at stake; a later write tries again.
    }
  }

  /** Move applied entries beyond the replay window and old enough, below the oldest pending one, to the archive. */
  private async compact(newest: number): Promise<void> {
    const archive = this.archive!;
    for (;;) {
      // Below the oldest entry not yet applied: what precedes it is all in the copy, so the
      // relationship and entity stores' exact reads (the copy plus the log from it) hold.
      const pending = await this.changes.find({ applied: false } as Filter<T>, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(1).next();
      const below = Math.min(newest - this.compaction.window + 1, (pending?._id as number | undefined) ?? Infinity);
      const filter = { _id: { $lt: below }, applied: true, [this.timeField]: { $lt: new Date(Date.now() - this.compaction.minAgeMs) } } as Filter<T>;
      const moving = await this.changes.find(filter).sort({ _id: 1 }).limit(COMPACT_BATCH).toArray() as T[];
      if (moving.length === 0) return;
      try {
        await archive.insertMany(moving as OptionalUnlessRequiredId<T>[], { ordered: false });
      } catch (err) {
        // Already archived (a compaction that stopped between the two steps, or a rival's).
        if (!onlyDuplicates(err)) throw err;
      }
      await this.changes.deleteMany({ _id: { $in: moving.map((e) => e._id) } } as Filter<T>);
      if (moving.length < COMPACT_BATCH) return;
    }
  }
}
