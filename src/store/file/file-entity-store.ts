// The directory kept on disk beside the policy files (STORE=file): the in-memory store
// plus a journal, like the relationship files. Each committed change is one JSON line in
// `<dir>/journal.jsonl`, written and fsynced before it is applied, so an acknowledged
// write survives a crash; at open the snapshot and then the journal are replayed. Every
// COMPACT_EVERY changes the state is written as `<dir>/snapshot.json` (temp file, fsync,
// rename) and the journal restarted. One process owns the directory.

import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnavailableError } from '../store.js';
import { MemoryEntityStore } from '../memory/memory-entity-store.js';
import type { EntityChange, EntitySnapshot } from '../entity-store.js';

const COMPACT_EVERY = 10_000;

export interface FileEntityStoreOptions {
  /** the directory of the journal and snapshot (created when missing) */
  dir: string;
  /** told when a torn last line (a crash mid-write) is dropped */
  onRepair?: (message: string) => void;
  /** journal lines before compaction (tests make it small) */
  compactEvery?: number;
}

export class FileEntityStore extends MemoryEntityStore {
  override readonly kind = 'file' as const;
  private fd: number | undefined;
  private lines = 0;

  constructor(private readonly options: FileEntityStoreOptions) {
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
        const snap = JSON.parse(readFileSync(this.snapshotFile, 'utf8')) as EntitySnapshot;
        this.restore(snap);
        revision = Number(snap.revision);
      }
      this.replay(revision);
      this.fd = openSync(this.journal, 'a');
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(`the directory files in ${this.options.dir} cannot be read or written: ${(err as Error).message}`);
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
      let change: EntityChange;
      try {
        change = JSON.parse(line) as EntityChange;
      } catch {
        const rest = lines.slice(i + 1).some((l) => l.trim() !== '');
        if (rest) throw new StoreUnavailableError(`${this.journal}: line ${i + 1} is not a change; refusing to guess the directory's state`);
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
      if (Number(change.revision) <= after) continue;
      this.apply(change);
    }
  }

  protected override persist(change: EntityChange): void {
    if (this.fd === undefined) throw new StoreUnavailableError('the directory store is not open');
    try {
      writeSync(this.fd, `${JSON.stringify(change)}\n`);
      fsyncSync(this.fd);
    } catch (err) {
      throw new StoreUnavailableError(`cannot write ${this.journal}: ${(err as Error).message}`);
    }
    this.lines++;
  }

  protected override apply(change: EntityChange): void {
    super.apply(change);
    if (this.fd !== undefined && this.lines >= (this.options.compactEvery ?? COMPACT_EVERY)) this.compact();
  }

  private compact(): void {
    const tmp = join(this.options.dir, `.snapshot.${process.pid}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(this.state()));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.snapshotFile);
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
