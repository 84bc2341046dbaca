// Relationships kept on disk beside the policy files (STORE=file): the in-memory store
// plus a journal of its committed batches and a snapshot (journal.ts), in which tuples are
// written as text (`document:a#reader@user:x`).

import type { DocumentFormat } from '../../core/document/types.js';
import { formatTuple, parseTuple } from '../../core/relations/tuple.js';
import { MemoryRelationStore } from '../memory/memory-relation-store.js';
import type { RelationChange } from '../relation-store.js';
import { Journal, type JournalOptions } from './journal.js';

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

export type FileRelationStoreOptions = JournalOptions;

/** A change's optional parts, as they are (the same in memory and in the journal). */
function history(change: ChangeLine | RelationChange) {
  return {
    ...(change.schema ? { schema: change.schema } : {}),
    ...(change.actor !== undefined ? { actor: change.actor } : {}),
    ...(change.at !== undefined ? { at: change.at } : {}),
    ...(change.beforeSchema !== undefined ? { beforeSchema: change.beforeSchema } : {}),
  };
}

export class FileRelationStore extends MemoryRelationStore {
  override readonly kind = 'file' as const;
  private readonly journal: Journal<ChangeLine, SnapshotFile>;

  constructor(options: FileRelationStoreOptions) {
    super();
    this.journal = new Journal(options, { files: 'the relationship files', state: 'the relationship state', store: 'the relationship store' });
  }

  override async open(): Promise<void> {
    this.journal.open(
      (snap) => this.restore({ tuples: snap.tuples.map(parseTuple), revision: snap.revision, ...(snap.schema ? { schema: snap.schema } : {}) }),
      (line) => this.apply({ revision: line.revision, writes: line.writes.map(parseTuple), deletes: line.deletes.map(parseTuple), ...history(line) }),
    );
  }

  protected override persist(change: RelationChange): void {
    this.journal.append({ revision: change.revision, writes: change.writes.map(formatTuple), deletes: change.deletes.map(formatTuple), ...history(change) });
  }

  protected override apply(change: RelationChange): void {
    super.apply(change);
    // Compact once the change is in memory (the snapshot then holds it).
    this.journal.compactWhenDue(() => {
      const state = this.state();
      return { revision: state.revision, tuples: state.tuples.map(formatTuple), ...(state.schema ? { schema: state.schema } : {}) };
    });
  }

  override async close(): Promise<void> {
    this.journal.close();
    await super.close();
  }
}
