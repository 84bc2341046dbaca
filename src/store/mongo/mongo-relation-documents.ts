// The MongoDB documents of the relationship store and conversions to tuples. Field
// names are fixed words (FerretDB refuses `.` and `$` in names): ids only ever appear
// as values.

import type { Filter } from 'mongodb';
import type { DocumentFormat } from '../../core/document/types.js';
import { formatTuple, parseTuple, type Tuple, type TupleFilter } from '../../core/relations/tuple.js';
import type { RelationChange } from '../relation-store.js';

/** One live tuple in `relationships`; `_id` is its canonical string. */
export interface TupleDoc {
  _id: string;
  resource_type: string;
  resource_id: string;
  relation: string;
  subject_type: string;
  subject_id: string;
  /** '' for a subject without a relation (so the unique index sees one value, not null/missing) */
  subject_relation: string;
  /** the revision that created it */
  seq: number;
}

/** One committed batch (or schema write) in `relationships_changes`; `_id` is the revision. */
export interface ChangeDoc {
  _id: number;
  writes: string[];
  deletes: string[];
  schema?: { text: string; format: DocumentFormat };
  /** copied into `relationships` (and the schema collection) */
  applied: boolean;
  at: Date;
  /** the history (docs/audit.md): who wrote it, and the schema a schema write replaced */
  actor?: string;
  beforeSchema?: { text: string; format: DocumentFormat } | null;
}

export interface SchemaDoc {
  _id: 'schema';
  text: string;
  format: DocumentFormat;
  seq: number;
}

export function tupleDocOf(t: Tuple, seq: number): TupleDoc {
  return {
    _id: formatTuple(t),
    resource_type: t.resource.type,
    resource_id: t.resource.id,
    relation: t.relation,
    subject_type: t.subject.type,
    subject_id: t.subject.id,
    subject_relation: t.subject.relation ?? '',
    seq,
  };
}

export function tupleOfDoc(d: TupleDoc): Tuple {
  return {
    resource: { type: d.resource_type, id: d.resource_id },
    relation: d.relation,
    subject: d.subject_relation === '' ? { type: d.subject_type, id: d.subject_id } : { type: d.subject_type, id: d.subject_id, relation: d.subject_relation },
  };
}

export function changeOfDoc(c: ChangeDoc): RelationChange {
  return {
    revision: String(c._id),
    writes: c.writes.map(parseTuple),
    deletes: c.deletes.map(parseTuple),
    ...(c.schema ? { schema: c.schema } : {}),
    at: c.at.toISOString(),
    ...(c.actor !== undefined ? { actor: c.actor } : {}),
    ...(c.beforeSchema !== undefined ? { beforeSchema: c.beforeSchema } : {}),
  };
}

export function docFilter(f: TupleFilter): Filter<TupleDoc> {
  const q: Filter<TupleDoc> = {};
  if (f.resourceType !== undefined) q.resource_type = f.resourceType;
  if (f.resourceId !== undefined) q.resource_id = f.resourceId;
  if (f.relation !== undefined) q.relation = f.relation;
  if (f.subjectType !== undefined) q.subject_type = f.subjectType;
  if (f.subjectId !== undefined) q.subject_id = f.subjectId;
  if (f.subjectRelation !== undefined) q.subject_relation = f.subjectRelation;
  return q;
}
