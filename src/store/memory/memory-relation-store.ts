// The in-process relationship store: nothing survives a restart (FileRelationStore adds
// a journal). The reference for the store contract (the conformance suite runs against
// it too). A batch is applied in one synchronous step, so it is atomic by construction.

import type { DocumentFormat } from '../../core/document/types.js';
import { StoreUnavailableError } from '../store.js';
import { formatTuple, matchesFilter, type ObjectRef, type SubjectRef, type Tuple, type TupleFilter } from '../../core/relations/tuple.js';
import {
  RelationPreconditionError, failedPrecondition, forwardFilter, readAll, reverseFilter, revisionNumber,
  historyOfRelationChange,
  type ReadPage, type RelationChange, type RelationSnapshot, type RelationStore, type StoredSchema, type WriteBatch, type WriteMeta,
} from '../relation-store.js';
import { UNKNOWN_ACTOR, type RelationsChange, type RelationsHistory } from '../history.js';

/** Changes kept for pollers; one further behind is told to reload. */
const MAX_LOG = 10_000;

export class MemoryRelationStore implements RelationStore, RelationsHistory {
  readonly kind: 'memory' | 'file' = 'memory';
  private readonly tuples = new Map<string, Tuple>();
  /** keys in order, rebuilt on the first read after a write */
  private sorted: string[] | undefined;
  private schema: StoredSchema | undefined;
  private seq = 0;
  private log: RelationChange[] = [];
  private closed = false;

  async open(): Promise<void> {}

  /**
   * Called with each change before it is applied (synchronously, so a batch stays atomic):
   * a durable subclass writes it down here; a throw leaves the store unchanged.
   */
  protected persist(_change: RelationChange): void {}

  async write(batch: WriteBatch, meta?: WriteMeta): Promise<{ revision: string }> {
    this.assertOpen();
    const failed = failedPrecondition(batch.preconditions, (k) => this.tuples.has(k));
    if (failed) throw new RelationPreconditionError(failed);
    const change: RelationChange = {
      revision: String(this.seq + 1), writes: [...batch.writes], deletes: [...batch.deletes],
      actor: meta?.actor ?? UNKNOWN_ACTOR, at: new Date().toISOString(),
    };
    this.persist(change);
    this.apply(change);
    return { revision: change.revision };
  }

  /** Apply a committed change (a write, or one replayed from disk). */
  protected apply(change: RelationChange): void {
    for (const t of change.deletes) this.tuples.delete(formatTuple(t));
    for (const t of change.writes) this.tuples.set(formatTuple(t), t);
    if (change.writes.length > 0 || change.deletes.length > 0) this.sorted = undefined;
    if (change.schema) this.schema = { ...change.schema, revision: change.revision };
    this.seq = Number(change.revision);
    this.log.push(change);
    if (this.log.length > MAX_LOG) this.log = this.log.slice(-MAX_LOG);
  }

  /** Start from a snapshot (a durable subclass's compacted state). */
  protected restore(snapshot: RelationSnapshot): void {
    this.tuples.clear();
    for (const t of snapshot.tuples) this.tuples.set(formatTuple(t), t);
    this.sorted = undefined;
    this.schema = snapshot.schema;
    this.seq = Number(snapshot.revision);
    this.log = [];
  }

  async read(filter: TupleFilter, page: { limit: number; after?: string }): Promise<ReadPage> {
    this.assertOpen();
    this.sorted ??= [...this.tuples.keys()].sort();
    const keys = this.sorted;
    // Binary search for the first key after the cursor.
    let lo = 0;
    let hi = keys.length;
    if (page.after !== undefined) {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid]! <= page.after) lo = mid + 1;
        else hi = mid;
      }
    }
    const limit = Math.max(1, Math.trunc(page.limit));
    const out: Tuple[] = [];
    for (let i = lo; i < keys.length; i++) {
      const t = this.tuples.get(keys[i]!)!;
      if (!matchesFilter(t, filter)) continue;
      if (out.length === limit) return { tuples: out, next: formatTuple(out[out.length - 1]!) };
      out.push(t);
    }
    return { tuples: out };
  }

  async forward(resource: ObjectRef, relation: string, limit = 10_000): Promise<SubjectRef[]> {
    return (await readAll(this, forwardFilter(resource, relation), limit)).map((t) => t.subject);
  }

  async reverse(subject: SubjectRef, limit = 10_000): Promise<Array<{ resource: ObjectRef; relation: string }>> {
    return (await readAll(this, reverseFilter(subject), limit)).map((t) => ({ resource: t.resource, relation: t.relation }));
  }

  async revision(): Promise<string> {
    this.assertOpen();
    return String(this.seq);
  }

  async getSchema(): Promise<StoredSchema | undefined> {
    this.assertOpen();
    return this.schema;
  }

  async putSchema(text: string, format: DocumentFormat, meta?: WriteMeta): Promise<{ revision: string }> {
    this.assertOpen();
    const change: RelationChange = {
      revision: String(this.seq + 1), writes: [], deletes: [], schema: { text, format },
      actor: meta?.actor ?? UNKNOWN_ACTOR, at: new Date().toISOString(),
      beforeSchema: this.schema ? { text: this.schema.text, format: this.schema.format } : null,
    };
    this.persist(change);
    this.apply(change);
    return { revision: change.revision };
  }

  async loadAll(): Promise<RelationSnapshot> {
    this.assertOpen();
    return this.state();
  }

  /** Every live tuple and the schema, now. */
  protected state(): RelationSnapshot {
    return { tuples: [...this.tuples.values()], ...(this.schema ? { schema: this.schema } : {}), revision: String(this.seq) };
  }

  async changesSince(revision: string): Promise<{ changes: RelationChange[]; revision: string } | 'reset'> {
    this.assertOpen();
    const from = revisionNumber(revision);
    if (from === undefined || from > this.seq) return 'reset';
    if (from === this.seq) return { changes: [], revision };
    const first = this.log[0];
    // The change right after `from` was dropped from the log: the caller must reload.
    if (!first || Number(first.revision) > from + 1) return 'reset';
    return { changes: this.log.slice(from + 1 - Number(first.revision)), revision: String(this.seq) };
  }

  /** The history: the change log this store keeps for pollers (its last MAX_LOG changes). */
  async relationHistorySince(revision: number, limit: number): Promise<{ entries: RelationsChange[]; last: number } | 'reset'> {
    this.assertOpen();
    const first = this.log[0];
    if (first !== undefined && Number(first.revision) > revision + 1) return 'reset';
    const entries = this.log.filter((c) => Number(c.revision) > revision).slice(0, limit).map(historyOfRelationChange);
    return { entries, last: entries.length > 0 ? Number(entries[entries.length - 1]!.revision) : revision };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  protected assertOpen(): void {
    // Mirrors the database stores: a closed store refuses instead of answering from memory.
    if (this.closed) throw new StoreUnavailableError('the relationship store is closed');
  }
}
