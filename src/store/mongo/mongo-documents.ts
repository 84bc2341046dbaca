// The two collections of the MongoDB store and how records map onto them.
//
// `<collection>_changes` — the change log, insert-only: one document per write, `_id`
// the global sequence number (1, 2, 3… without gaps), unique `{key, version}`. Inserting
// into it is the one atomic step of a write, which is what makes writes safe on
// FerretDB (no transactions, no atomic read-modify-write). Pollers read it.
//
// `<collection>` (SPEC: `policies`) — one document per key, the current state, copied
// from the log after each insert ("materialised"). Queries by namespace read it.
//
// The parsed document is stored as a JSON string: a policy may carry `$schema`, and
// FerretDB refuses field names that start with `$`.

import type { DocumentFormat } from '../../core/document/types.js';
import type { NewPolicy, PolicyRecord, StoreEvent } from '../store.js';
import type { PolicyChange, VersionText } from '../history.js';
import { UNPLACED_NAMESPACE, etagOf } from '../store.js';

/** The fields a write sets; a delete leaves the content fields null. */
interface StoredState {
  namespace: string;
  ordinal: number | null;
  disabled: boolean;
  format: DocumentFormat | null;
  text: string | null;
  /** JSON text of the parsed document */
  doc: string | null;
  etag: string | null;
  updatedAt: Date;
  deleted: boolean;
  /** the key's own counter: 1 for its first write, +1 for each write after */
  version: number;
}

/** A document of the change log. */
export interface ChangeDoc extends StoredState {
  /** global sequence number: the revision this change creates */
  _id: number;
  key: string;
  /** set once the change has been copied to the policies collection */
  applied: boolean;
  /** who wrote it (the history: docs/audit.md); absent on changes logged before history existed */
  actor?: string;
  /** the key's version this change replaced (null: none) */
  before?: VersionText | null;
}

/** A document of the policies collection. */
export interface PolicyDoc extends StoredState {
  _id: string;
  /** the sequence number of the change that wrote this version */
  seq: number;
}

/** Who wrote a change and what it replaced: recorded in the change document itself. */
export interface ChangeOrigin {
  actor: string;
  before: VersionText | null;
}

export function changeOfPut(seq: number, version: number, policy: NewPolicy, now: Date, origin: ChangeOrigin): ChangeDoc {
  return {
    _id: seq,
    key: policy.key,
    version,
    namespace: policy.namespace,
    ordinal: policy.ordinal,
    disabled: policy.disabled,
    format: policy.format,
    text: policy.text,
    doc: JSON.stringify(policy.document),
    etag: etagOf(policy.format, policy.text),
    updatedAt: now,
    deleted: false,
    applied: false,
    actor: origin.actor,
    before: origin.before,
  };
}

export function changeOfDelete(seq: number, version: number, key: string, namespace: string, now: Date, origin: ChangeOrigin): ChangeDoc {
  return {
    _id: seq, key, version, namespace, ordinal: null, disabled: false, format: null, text: null, doc: null,
    etag: null, updatedAt: now, deleted: true, applied: false, actor: origin.actor, before: origin.before,
  };
}

/** The version a stored state holds, for the next change's `before` (null when deleted or absent). */
export function versionOfState(s: StoredState | null | undefined): VersionText | null {
  if (s === null || s === undefined || s.deleted || s.format === null || s.text === null || s.etag === null) return null;
  return { format: s.format, text: s.text, etag: s.etag };
}

/** The history entry a change document is. */
export function historyOfChange(c: ChangeDoc): PolicyChange {
  return {
    kind: 'policy',
    revision: String(c._id),
    at: c.updatedAt.toISOString(),
    actor: c.actor ?? 'unknown',
    key: c.key,
    namespace: c.namespace,
    op: c.deleted ? 'delete' : 'put',
    before: c.before ?? null,
    after: versionOfState(c),
  };
}

/** The policies-collection document a change produces. */
export function policyDocOf(change: ChangeDoc): PolicyDoc {
  const { _id: seq, key, applied: _applied, actor: _actor, before: _before, ...state } = change;
  return { _id: key, seq, ...state };
}

type LiveState = StoredState & { format: DocumentFormat; text: string; doc: string; etag: string };

function isLive(s: StoredState): s is LiveState {
  return !s.deleted && s.format !== null && s.text !== null && s.doc !== null && s.etag !== null;
}

/** The stored document, or undefined when its JSON text does not parse (another writer, a damaged record). */
function parsedDoc(doc: string): unknown {
  try {
    return JSON.parse(doc);
  } catch {
    return undefined;
  }
}

function recordOfState(key: string, s: StoredState): PolicyRecord {
  const parsed = isLive(s) ? parsedDoc(s.doc) : undefined;
  return {
    key,
    // Without a namespace the document could belong to any path: it fails them all closed.
    namespace: typeof s.namespace === 'string' && s.namespace !== '' ? s.namespace : UNPLACED_NAMESPACE,
    ordinal: s.ordinal,
    disabled: s.disabled,
    format: s.format ?? 'json',
    text: s.text ?? '',
    // A live state with a field missing, or whose document does not parse, was not
    // written by this store: kept, as a document that fails validation, so its namespace
    // fails closed (POLICY_STATE_BROKEN) instead of looking empty or failing every load.
    document: (parsed !== undefined && parsed !== null && typeof parsed === 'object' ? parsed : { key }) as PolicyRecord['document'],
    etag: s.etag ?? '"incomplete"',
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** The live record a policies document holds (undefined when deleted). */
export function recordOfPolicyDoc(d: PolicyDoc): PolicyRecord | undefined {
  return d.deleted ? undefined : recordOfState(d._id, d);
}

/** The live record a change writes (undefined for a delete). */
export function recordOfChange(c: ChangeDoc): PolicyRecord | undefined {
  return c.deleted ? undefined : recordOfState(c.key, c);
}

/** The current etag a stored state stands for; a deleted key has none (If-Match fails). */
export function etagOfState(s: StoredState | null | undefined): string | undefined {
  return s === null || s === undefined || s.deleted ? undefined : s.etag ?? undefined;
}

export function eventOfChange(c: ChangeDoc): StoreEvent {
  const revision = String(c._id);
  const record = recordOfChange(c);
  return record === undefined
    ? { type: 'delete', key: c.key, namespace: c.namespace, revision }
    : { type: 'put', record, revision };
}
