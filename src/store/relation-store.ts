// What every relationship store offers: atomic write batches with preconditions, reads by
// filter with cursors, forward and reverse lookups, the schema, and the change feed the
// engine follows (a full load, then changes since a revision). Revisions are decimal
// sequence numbers: every batch and every schema write gets the next one.

import type { DocumentFormat } from '../core/document/types.js';
import { UNKNOWN_ACTOR, type RelationsChange } from './history.js';
import { etagOf } from './store.js';
import { formatTuple, type ObjectRef, type SubjectRef, type Tuple, type TupleFilter } from '../core/relations/tuple.js';

export type Precondition = { mustExist: Tuple } | { mustNotExist: Tuple };

export interface WriteBatch {
  /** created when absent, kept when present (idempotent) */
  writes: Tuple[];
  /** removed when present (idempotent) */
  deletes: Tuple[];
  /** all must hold at the revision the batch is written after, or nothing is written */
  preconditions: Precondition[];
}

export interface StoredSchema {
  text: string;
  format: DocumentFormat;
  /** the revision that wrote it */
  revision: string;
}

export interface ReadPage {
  tuples: Tuple[];
  /** pass back as `after` for the next page; absent on the last one */
  next?: string;
}

/** One committed batch or schema write, as the engine replays it. */
export interface RelationChange {
  revision: string;
  writes: Tuple[];
  deletes: Tuple[];
  schema?: { text: string; format: DocumentFormat };
  /** the history (docs/audit.md): who, when, and the schema a schema write replaced */
  actor?: string;
  at?: string;
  beforeSchema?: { text: string; format: DocumentFormat } | null;
}

/** Who writes (recorded in the history). */
export interface WriteMeta {
  actor?: string;
}

export interface RelationSnapshot {
  tuples: Tuple[];
  schema?: StoredSchema;
  revision: string;
}

export interface RelationStore {
  readonly kind: 'memory' | 'file' | 'mongo';
  open(): Promise<void>;
  /** atomic: all of it or, when a precondition fails (RelationPreconditionError), none */
  write(batch: WriteBatch, meta?: WriteMeta): Promise<{ revision: string }>;
  /** live tuples matching the filter, ordered by their canonical string, after `after` */
  read(filter: TupleFilter, page: { limit: number; after?: string }): Promise<ReadPage>;
  /** the subjects of resource#relation */
  forward(resource: ObjectRef, relation: string, limit?: number): Promise<SubjectRef[]>;
  /** the resource#relation pairs naming exactly this subject */
  reverse(subject: SubjectRef, limit?: number): Promise<Array<{ resource: ObjectRef; relation: string }>>;
  revision(): Promise<string>;
  getSchema(): Promise<StoredSchema | undefined>;
  putSchema(text: string, format: DocumentFormat, meta?: WriteMeta): Promise<{ revision: string }>;
  /** every live tuple and the schema, as of one revision */
  loadAll(): Promise<RelationSnapshot>;
  /** committed changes after `revision`, in order; 'reset' when the store cannot tell (reload) */
  changesSince(revision: string): Promise<{ changes: RelationChange[]; revision: string } | 'reset'>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** "something changed, sync now" (where the store can tell); returns a function that stops listening */
  onChangeHint?(listener: () => void): () => void;
}

/** Most tuples (writes + deletes + preconditions) in one batch. */
export const MAX_BATCH = 1000;
/** Most tuples one read page returns. */
export const MAX_READ_LIMIT = 1000;

/** A precondition did not hold: nothing of the batch was written. */
export class RelationPreconditionError extends Error {
  constructor(readonly failed: Precondition) {
    super('mustExist' in failed
      ? `precondition failed: ${formatTuple(failed.mustExist)} does not exist`
      : `precondition failed: ${formatTuple(failed.mustNotExist)} exists`);
    this.name = 'RelationPreconditionError';
  }
}

/** A batch that contradicts itself or is too large; the service checks this before any store does. */
export function batchProblem(batch: WriteBatch): string | undefined {
  const total = batch.writes.length + batch.deletes.length + batch.preconditions.length;
  if (total === 0) return 'the batch is empty: give writes, deletes or preconditions';
  if (total > MAX_BATCH) return `a batch holds at most ${MAX_BATCH} tuples (writes, deletes and preconditions together), this one ${total}`;
  const written = new Set(batch.writes.map(formatTuple));
  for (const d of batch.deletes) {
    const key = formatTuple(d);
    if (written.has(key)) return `${key} is both written and deleted`;
  }
  return undefined;
}

/** The first precondition that does not hold, given whether a tuple exists. */
export function failedPrecondition(preconditions: readonly Precondition[], exists: (key: string) => boolean): Precondition | undefined {
  return preconditions.find((p) => ('mustExist' in p ? !exists(formatTuple(p.mustExist)) : exists(formatTuple(p.mustNotExist))));
}

export function preconditionTuple(p: Precondition): Tuple {
  return 'mustExist' in p ? p.mustExist : p.mustNotExist;
}

/** The filter that reads subjects of one resource#relation, or resources naming one subject. */
export function forwardFilter(resource: ObjectRef, relation: string): TupleFilter {
  return { resourceType: resource.type, resourceId: resource.id, relation };
}

export function reverseFilter(subject: SubjectRef): TupleFilter {
  return { subjectType: subject.type, subjectId: subject.id, subjectRelation: subject.relation ?? '' };
}

/** Read every page (bounded by `limit`). */
export async function readAll(store: Pick<RelationStore, 'read'>, filter: TupleFilter, limit: number): Promise<Tuple[]> {
  const out: Tuple[] = [];
  let after: string | undefined;
  while (out.length < limit) {
    const page = await store.read(filter, { limit: Math.min(MAX_READ_LIMIT, limit - out.length), ...(after !== undefined ? { after } : {}) });
    out.push(...page.tuples);
    if (page.next === undefined) break;
    after = page.next;
  }
  return out;
}

/** Revisions compare as numbers; anything else is not one of ours. */
export function revisionNumber(revision: string): number | undefined {
  return /^\d{1,15}$/.test(revision) ? Number(revision) : undefined;
}

/** The history entry of a relationship change. */
export function historyOfRelationChange(c: RelationChange): RelationsChange {
  const version = (v: { text: string; format: DocumentFormat }) => ({ ...v, etag: etagOf(v.format, v.text) });
  return {
    kind: 'relations',
    revision: c.revision,
    at: c.at ?? new Date(0).toISOString(),
    actor: c.actor ?? UNKNOWN_ACTOR,
    writes: c.writes.map(formatTuple),
    deletes: c.deletes.map(formatTuple),
    ...(c.schema ? { schema: { before: c.beforeSchema ? version(c.beforeSchema) : null, after: version(c.schema) } } : {}),
  };
}
