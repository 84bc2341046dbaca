// The directory kept on disk beside the policy files (STORE=file): the in-memory store
// plus a journal of its changes and a snapshot (journal.ts), like the relationship files.

import { MemoryEntityStore } from '../memory/memory-entity-store.js';
import type { EntityChange, EntitySnapshot } from '../entity-store.js';
import { Journal, type JournalOptions } from './journal.js';

export type FileEntityStoreOptions = JournalOptions;

export class FileEntityStore extends MemoryEntityStore {
  override readonly kind = 'file' as const;
  private readonly journal: Journal<EntityChange, EntitySnapshot>;

  constructor(options: FileEntityStoreOptions) {
    super();
    this.journal = new Journal(options, { files: 'the directory files', state: "the directory's state", store: 'the directory store' });
  }

  override async open(): Promise<void> {
    this.journal.open((snapshot) => this.restore(snapshot), (change) => this.apply(change));
  }

  protected override persist(change: EntityChange): void {
    this.journal.append(change);
  }

  protected override apply(change: EntityChange): void {
    super.apply(change);
    this.journal.compactWhenDue(() => this.state());
  }

  override async close(): Promise<void> {
    this.journal.close();
    await super.close();
  }
}
