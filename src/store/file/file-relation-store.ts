// Relationships kept on disk beside the policy files (STORE=file): the in-memory store
// plus a journal. Each committed batch is one JSON line in `<dir>/journal.jsonl`, written
// and fsynced before it is applied, so an acknowledged write survives a crash; at open
// the snapshot and then the journal are replayed. Every COMPACT_EVERY changes the state
// is written as `<dir>/snapshot.json` (temp file, fsync, rename) and the journal
// restarted. One process owns the directory (as one process owns a file store's writes).

import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentFormat } from '../../core/document/types.js';
import { StoreUnavailableError } from '../store.js';
import { formatTuple, parseTuple } from '../../core/relations/tuple.js';
import { MemoryRelationStore } from '../memory/memory-relation-store.js';
import type { RelationChange, RelationSnapshot } from '../relation-store.js';

/** Journal lines before the state is compacted into the snapshot. */
const COMPACT_EVERY = 10_000;

interface ChangeLine {
  revision: string;
  writes: string[];
  deletes: string[];
  schema?: { text: string; format: DocumentFormat };
  /** the history: who, when, the schema replaced (absent on lines written before history existed) */
  actor?: string;
  at?: string;
  beforeSchema?: { text: string; format: DocumentFormat } | null;
}

interface SnapshotFile {
  revision: string;
  tuples: string[];
  schema?: { text: string; format: DocumentFormat; revision: string };
}

export interface FileRelationStoreOptions {
  /** the directory of the journal and snapshot (created when missing) */
  dir: string;
  /** told when a torn last line (a crash mid-write) is dropped */
  onRepair?: (message: string) => void;
  /** journal lines before compaction (tests make it small) */
  compactEvery?: number;
}

export class FileRelationStore extends MemoryRelationStore {
  override readonly kind = 'file' as const;
  private fd: number | undefined;
  private lines = 0;

  constructor(private readonly options: FileRelationStoreOptions) {
    super();
  }

  private get journal(): string {
    return join(this.options.dir, 'journal.jsonl');
  }

  private get snapshotFile(): string {
    return join(this.options.dir, 'snapshot.json');
  }

  override async open(): Promise<void> {
    if (this.fd !== undefined) return;
    try {
      mkdirSync(this.options.dir, { recursive: true });
      let revision = 0;
      if (existsSync(this.snapshotFile)) {
        const snap = JSON.parse(readFileSync(this.snapshotFile, 'utf8')) as SnapshotFile;
        const restored: RelationSnapshot = { tuples: snap.tuples.map(parseTuple), revision: snap.revision, ...(snap.schema ? { schema: snap.schema } : {}) };
        this.restore(restored);
        revision = Number(snap.revision);
      }
      this.replay(revision);
      this.fd = openSync(this.journal, 'a');
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`the relationship files in ${this.options.dir} cannot be read or written: ${(err as Error).message}`);
    }
  }

  /** Apply the journal's changes after the snapshot; a torn last line is cut off. */
  private replay(after: number): void {
    if (!existsSync(this.journal)) return;
    const text = readFileSync(this.journal, 'utf8');
    let offset = 0;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const end = offset + Buffer.byteLength(line, 'utf8') + 1;
      if (line.trim() === '') {
        offset = end;
        continue;
      }
      let change: ChangeLine;
      try {
        change = JSON.parse(line) as ChangeLine;
      } catch {
        const rest = lines.slice(i + 1).some((l) => l.trim() !== '');
        if (rest) throw new StoreUnavailableError(`${this.journal}: line ${i + 1} is not a change; refusing to guess the relationship state`);
        // A crash mid-append: the write was never acknowledged. Cut it off.
        const fd = openSync(this.journal, 'r+');
        try {
          ftruncateSync(fd, offset);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        this.options.onRepair?.(`${this.journal}: dropped a torn last line (a write interrupted before it was acknowledged)`);
        break;
      }
      offset = end;
      this.lines++;
      if (Number(change.revision) <= after) continue; // already in the snapshot
      this.apply({
        revision: change.revision, writes: change.writes.map(parseTuple), deletes: change.deletes.map(parseTuple),
        ...(change.schema ? { schema: change.schema } : {}),
        ...(change.actor !== undefined ? { actor: change.actor } : {}),
        ...(change.at !== undefined ? { at: change.at } : {}),
        ...(change.beforeSchema !== undefined ? { beforeSchema: change.beforeSchema } : {}),
      });
    }
  }

  protected override persist(change: RelationChange): void {
    if (this.fd === undefined) throw new StoreUnavailableError('the relationship store is not open');
    const line: ChangeLine = {
      revision: change.revision,
      writes: change.writes.map(formatTuple),
      deletes: change.deletes.map(formatTuple),
      ...(change.schema ? { schema: change.schema } : {}),
      ...(change.actor !== undefined ? { actor: change.actor } : {}),
      ...(change.at !== undefined ? { at: change.at } : {}),
      ...(change.beforeSchema !== undefined ? { beforeSchema: change.beforeSchema } : {}),
    };
    try {
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
      fsyncSync(this.fd);
    } catch (err) {
      throw new StoreUnavailableError(`cannot write ${this.journal}: ${(err as Error).message}`);
    }
    this.lines++;
  }

  protected override apply(change: RelationChange): void {
    super.apply(change);
    // Compact once the change is in memory (the snapshot then holds it).
    if (this.fd !== undefined && this.lines >= (this.options.compactEvery ?? COMPACT_EVERY)) this.compact();
  }

  /** Write the whole state as the snapshot, then start an empty journal. */
  private compact(): void {
    const state = this.state();
    const snap: SnapshotFile = { revision: state.revision, tuples: state.tuples.map(formatTuple), ...(state.schema ? { schema: state.schema } : {}) };
    const tmp = join(this.options.dir, `.snapshot.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(snap));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.snapshotFile);
    // The journal's changes are all in the snapshot now; a crash before this line only
    // makes the next open skip them by revision.
    closeSync(this.fd!);
    this.fd = openSync(this.journal, 'w');
    fsyncSync(this.fd);
    this.lines = 0;
  }

  override async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    await super.close();
  }
}
