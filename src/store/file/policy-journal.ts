// The file store's history (docs/audit.md): `<dir>/.history.jsonl`, one JSON line per
// change, appended and fsynced BEFORE the policy file is written (a write-ahead
// journal). A crash between the two leaves a line whose change is not on disk yet; at
// open the store finds the key still at the line's `before` version and finishes the
// write (FileStore.recover). So a change and its record are all-or-nothing: a line
// without its file cannot outlive the next open, and a file is never written without
// its line. The dot name keeps the journal out of directory scans.
//
// One process writes a directory (as for the relationship files): two writers sharing a
// volume would number their lines independently.

import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyChange } from '../history.js';
import { StoreUnavailableError } from '../store.js';
import { appendJournalLine, readJournalLines, replaceFileSync } from './journal.js';

export const JOURNAL_NAME = '.history.jsonl';
/** Appends between two compactions (which drop lines past the retention). */
const COMPACT_EVERY = 1000;

export interface JournalContents {
  entries: PolicyChange[];
  /** the newest entry of each key, retention or not: what recovery compares the disk with */
  lastByKey: Map<string, PolicyChange>;
  /** the newest revision recorded */
  last: number;
}

export class PolicyJournal {
  private fd: number | undefined;
  private appends = 0;
  /**
   * The oldest `at` of the change lines in the file (aborted ones included), or undefined
   * when there is none: while it is within the retention, a compaction would drop nothing,
   * so it skips reading the file (a first start over 10,000 files appended 10,000 lines and
   * re-read a journal of up to 13 MB ten times, which left ~26 MiB in the allocator).
   */
  private oldestAt: string | undefined;

  constructor(private readonly dir: string, private readonly retentionMs: number, private readonly onRepair?: (message: string) => void) {}

  get path(): string {
    return join(this.dir, JOURNAL_NAME);
  }

  /** Read every line (cutting a torn last line: an append that never finished), then open for appends. */
  open(): JournalContents {
    let entries: PolicyChange[] = [];
    const aborted = new Set<string>();
    readJournalLines<PolicyChange | AbortLine>(this.path, { line: 'a change record', state: 'the history', torn: 'a write interrupted before its policy file was written' }, this.onRepair, (parsed) => {
      if (parsed.kind === 'abort') aborted.add(parsed.revision);
      else {
        entries.push(parsed);
        this.noteAt(parsed.at);
      }
    });
    if (aborted.size > 0) entries = entries.filter((e) => !aborted.has(e.revision));
    const lastByKey = new Map<string, PolicyChange>();
    for (const e of entries) lastByKey.set(e.key, e);
    const last = entries.length > 0 ? Number(entries[entries.length - 1]!.revision) : 0;
    this.fd = openSync(this.path, 'a');
    return { entries, lastByKey, last };
  }

  /** Append one change and make it durable; throws StoreUnavailableError (nothing is then written). */
  append(entry: PolicyChange | AbortLine): void {
    if (this.fd === undefined) throw new StoreUnavailableError('the policy history journal is not open');
    appendJournalLine(this.fd, this.path, entry);
    this.appends++;
    if (entry.kind !== 'abort') this.noteAt(entry.at);
  }

  private noteAt(at: string): void {
    if (this.oldestAt === undefined || at < this.oldestAt) this.oldestAt = at;
  }

  /** Time to compact? (The store calls compact with what it still needs.) */
  get due(): boolean {
    return this.appends >= COMPACT_EVERY;
  }

  /**
   * Rewrite the journal without lines past the retention, keeping each key's newest line
   * (recovery compares the disk with it). Temp file, fsync, rename: a crash leaves the
   * old journal or the new one.
   */
  compact(now = Date.now()): void {
    const cutoff = new Date(now - this.retentionMs).toISOString();
    if (this.oldestAt === undefined || this.oldestAt >= cutoff) {
      this.appends = 0;
      return;
    }
    const lines = readFileSync(this.path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as PolicyChange | AbortLine);
    const aborted = new Set(lines.filter((l): l is AbortLine => l.kind === 'abort').map((l) => l.revision));
    const entries = lines.filter((l): l is PolicyChange => l.kind !== 'abort' && !aborted.has(l.revision));
    const newest = new Map<string, string>();
    for (const e of entries) newest.set(e.key, e.revision);
    const kept = entries.filter((e) => e.at >= cutoff || newest.get(e.key) === e.revision);
    this.appends = 0;
    this.oldestAt = undefined;
    for (const l of lines) if (l.kind !== 'abort') this.noteAt(l.at);
    if (kept.length === entries.length) return;
    this.oldestAt = undefined;
    for (const e of kept) this.noteAt(e.at);
    replaceFileSync(join(this.dir, `.history.${process.pid}.tmp`), this.path, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A line saying that the change of `revision` never reached the disk (its file write failed). */
export interface AbortLine {
  kind: 'abort';
  revision: string;
}

/** What the journal and the disk disagree on at open. */
export interface RecoveryPlan {
  /** changes recorded but not on disk, the key still at their `before`: finish them */
  redo: PolicyChange[];
  /** keys whose disk state no line explains (edited while the store was down, or never recorded) */
  unrecorded: Array<{ key: string; namespace: string; before: PolicyChange['before']; after: PolicyChange['after'] }>;
}

type DiskVersion = { namespace: string; format: NonNullable<PolicyChange['after']>['format']; text: string; etag: string };

/** Compare each key's newest line with what the directory holds. */
export function recoveryPlan(lastByKey: ReadonlyMap<string, PolicyChange>, disk: ReadonlyMap<string, DiskVersion>): RecoveryPlan {
  const plan: RecoveryPlan = { redo: [], unrecorded: [] };
  const versionOf = (d: DiskVersion | undefined) => (d === undefined ? null : { format: d.format, text: d.text, etag: d.etag });
  for (const key of new Set([...lastByKey.keys(), ...disk.keys()])) {
    const line = lastByKey.get(key);
    const onDisk = disk.get(key);
    if ((line?.after?.etag) === onDisk?.etag) continue;
    if (line !== undefined && line.before?.etag === onDisk?.etag) plan.redo.push(line);
    else plan.unrecorded.push({ key, namespace: onDisk?.namespace ?? line?.namespace ?? '', before: line?.after ?? null, after: versionOf(onDisk) });
  }
  return plan;
}
