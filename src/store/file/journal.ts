// The journal and snapshot behind a file store's in-memory state (the relationship files
// and the directory files, STORE=file). Each committed change is one JSON line in
// `<dir>/journal.jsonl`, written and fsynced before it is applied, so an acknowledged
// write survives a crash; at open the snapshot and then the journal's later lines are
// replayed, and a torn last line (a crash mid-append: never acknowledged) is cut off. Every
// `compactEvery` lines the state is written as `<dir>/snapshot.json` (temp file, fsync,
// rename) and the journal restarted. One process owns the directory. The policy file
// store's history journal (policy-journal.ts) reads and appends its lines the same way.

import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnavailableError } from '../store.js';

/** Journal lines before the state is compacted into the snapshot. */
const COMPACT_EVERY = 10_000;

export interface JournalOptions {
  /** the directory of the journal and snapshot (created when missing) */
  dir: string;
  /** told when a torn last line (a crash mid-write) is dropped */
  onRepair?: (message: string) => void;
  /** journal lines before compaction (tests make it small) */
  compactEvery?: number;
}

/** What the journal's errors call the state it keeps ("relationship", "directory"). */
export interface JournalNames {
  /** "the relationship files" */
  files: string;
  /** "the relationship state" */
  state: string;
  /** "the relationship store" */
  store: string;
}

/** How a journal's reader names what it found, in its errors and its repair message. */
export interface JournalWording {
  /** what each line is: "a change" */
  line: string;
  /** what a malformed line would make it guess: "the relationship state" */
  state: string;
  /** what a torn last line was: "a write interrupted before it was acknowledged" */
  torn: string;
}

/**
 * Each JSON line of the journal at `path`, in order, to `each` (nothing when there is no
 * file). A malformed last line (not JSON, or not an object) is a crash mid-append, never acknowledged: it is cut off
 * (and `onRepair` told). A malformed line before others refuses the whole journal
 * (StoreUnavailableError) rather than guess.
 */
export function readJournalLines<T>(path: string, wording: JournalWording, onRepair: ((message: string) => void) | undefined, each: (value: T) => void): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n');
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const end = offset + Buffer.byteLength(line, 'utf8') + 1;
    if (line.trim() === '') {
      offset = end;
      continue;
    }
    let value: T;
    try {
      const parsed = JSON.parse(line) as unknown;
      // Every line is an object: anything else is as malformed as broken JSON.
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('not an object');
      value = parsed as T;
    } catch {
      if (lines.slice(i + 1).some((l) => l.trim() !== '')) throw new StoreUnavailableError(`${path}: line ${i + 1} is not ${wording.line}; refusing to guess ${wording.state}`);
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, offset);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      onRepair?.(`${path}: dropped a torn last line (${wording.torn})`);
      return;
    }
    offset = end;
    each(value);
  }
}

/** Append one JSON line and fsync it; StoreUnavailableError when the disk refuses. */
export function appendJournalLine(fd: number, path: string, value: unknown): void {
  try {
    writeSync(fd, `${JSON.stringify(value)}\n`);
    fsyncSync(fd);
  } catch (err) {
    throw new StoreUnavailableError(`cannot write ${path}: ${(err as Error).message}`);
  }
}

/**
 * Replace `target` with `text`: written to `tmp` (same directory), fsynced, then renamed
 * over it, so a crash leaves the old file or the new one.
 */
export function replaceFileSync(tmp: string, target: string, text: string): void {
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
}

export class Journal<Line extends { revision: string }, Snapshot extends { revision: string }> {
  private fd: number | undefined;
  private lines = 0;

  constructor(private readonly options: JournalOptions, private readonly names: JournalNames) {}

  private get journal(): string {
    return join(this.options.dir, 'journal.jsonl');
  }

  private get snapshotFile(): string {
    return join(this.options.dir, 'snapshot.json');
  }

  /** Read the snapshot (`restore`), then `apply` each journal line after its revision; then append from there. */
  open(restore: (snapshot: Snapshot) => void, apply: (line: Line) => void): void {
    if (this.fd !== undefined) return;
    try {
      mkdirSync(this.options.dir, { recursive: true });
      let revision = 0;
      if (existsSync(this.snapshotFile)) {
        const snapshot = JSON.parse(readFileSync(this.snapshotFile, 'utf8')) as Snapshot;
        restore(snapshot);
        revision = Number(snapshot.revision);
      }
      this.replay(revision, apply);
      this.fd = openSync(this.journal, 'a');
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`${this.names.files} in ${this.options.dir} cannot be read or written: ${(err as Error).message}`);
    }
  }

  /** Apply the journal's changes after the snapshot's revision; a torn last line is cut off. */
  private replay(after: number, apply: (line: Line) => void): void {
    readJournalLines<Line>(this.journal, { line: 'a change', state: this.names.state, torn: 'a write interrupted before it was acknowledged' }, this.options.onRepair, (change) => {
      this.lines++;
      if (Number(change.revision) > after) apply(change); // else already in the snapshot
    });
  }

  /** Write one change and fsync it (before it is applied: an acknowledged write survives a crash). */
  append(line: Line): void {
    if (this.fd === undefined) throw new StoreUnavailableError(`${this.names.store} is not open`);
    appendJournalLine(this.fd, this.journal, line);
    this.lines++;
  }

  /**
   * Once a change is in memory: when the journal is long enough, write the whole state
   * (`snapshot()`) as the snapshot, then start an empty journal.
   */
  compactWhenDue(snapshot: () => Snapshot): void {
    if (this.fd === undefined || this.lines < (this.options.compactEvery ?? COMPACT_EVERY)) return;
    replaceFileSync(join(this.options.dir, `.snapshot.${process.pid}.tmp`), this.snapshotFile, JSON.stringify(snapshot()));
    // The journal's changes are all in the snapshot now; a crash before this line only
    // makes the next open skip them by revision.
    closeSync(this.fd);
    this.fd = openSync(this.journal, 'w');
    fsyncSync(this.fd);
    this.lines = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
