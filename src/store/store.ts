// What every policy store offers (SPEC §6), plus optional capabilities. The engine
// never talks to a store directly: the policy manager adapts one to a compiled,
// in-memory snapshot and learns about changes through events or polling.

import { createHash } from 'node:crypto';
import { isTextBacked, textBackedRecord } from './text-backed.js';
import type { DocumentFormat } from '../core/document/types.js';
import type { NewPolicy, PolicyRecord } from './record.js';
import type { ResourceInput, SubjectInput } from '../core/request.js';

/** One request input kept for impact previews (engine/request-samples.ts keeps them; stores share them). */
export interface RequestSample {
  endpoint: 'evaluate' | 'check';
  subject: SubjectInput;
  /** the namespace path */
  namespace: string;
  resource?: ResourceInput;
  context?: Record<string, unknown>;
  /** the permissions a check asked about */
  permissions?: string[];
}

/** Which namespaces a change touched ('all' after a full reload). */
export type ChangedNamespaces = ReadonlySet<string> | 'all';

export type { NewPolicy, PolicyRecord, StoredDocument } from './record.js';

export interface WriteOptions {
  /** only write when the current version has this etag (412 otherwise) */
  ifMatch?: string;
  /** only write when the key does not exist (If-None-Match: *) */
  ifNoneMatch?: boolean;
  /** who writes, recorded in the history (credential name or JWT subject) */
  actor?: string;
}

export interface PutResult {
  record: PolicyRecord;
  created: boolean;
  revision: string;
}

export interface ListQuery {
  namespace?: string;
  /** return keys strictly after this one (cursor) */
  after?: string;
  limit: number;
}

export interface ListPage {
  records: PolicyRecord[];
  /** the cursor for the next page, absent on the last one */
  next?: string;
}

/**
 * The namespace of a stored document whose own namespace cannot be read (a file that
 * does not parse, a database record without one): it could hold a deny for any path, so
 * every path fails closed (503 POLICY_STATE_BROKEN). Not a valid namespace.
 */
export const UNPLACED_NAMESPACE = '*';

export type StoreEvent =
  | { type: 'put'; record: PolicyRecord; revision: string }
  | { type: 'delete'; key: string; namespace: string; revision: string }
  /** the store cannot say what changed (e.g. a directory re-scan): reload everything */
  | { type: 'reset'; revision: string };

export interface Snapshot {
  records: PolicyRecord[];
  /** identifies this state; later states compare greater for stores that poll */
  revision: string;
}

export interface PolicyStore {
  readonly kind: 'memory' | 'file' | 'mongo';
  /** connect, create indexes or directories; called once before use */
  open(): Promise<void>;
  /** every live policy and the revision they represent */
  loadAll(): Promise<Snapshot>;
  get(key: string): Promise<PolicyRecord | undefined>;
  list(query: ListQuery): Promise<ListPage>;
  /** create or replace; throws StoreConflictError when a precondition fails */
  put(policy: NewPolicy, options?: WriteOptions): Promise<PutResult>;
  /** every document is validated by the caller first; written in order */
  putMany(policies: NewPolicy[], options?: { actor?: string }): Promise<{ revision: string; created: number; replaced: number }>;
  /** false when the key does not exist; throws StoreConflictError on a failed If-Match */
  delete(key: string, options?: WriteOptions): Promise<{ revision: string } | false>;
  /** cheap round trip, for readiness */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Changes made anywhere (other processes included) are pushed as events. */
export interface SubscribableStore extends PolicyStore {
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

/** Changes made by other processes are found by asking what changed since a revision. */
export interface PollableStore extends PolicyStore {
  /** events after `revision`, in order, or 'reset' when the store cannot tell (reload) */
  changesSince(revision: string): Promise<{ events: StoreEvent[]; revision: string } | 'reset'>;
}

/** Where replicas share request samples (SAMPLES_SHARED); the MongoDB store has one. */
export interface SampleStore {
  save(entries: ReadonlyArray<{ id: string; sample: RequestSample; seenAt: Date }>): Promise<void>;
  /** the newest `max` samples */
  load(max: number): Promise<RequestSample[]>;
  trim(max: number): Promise<void>;
}

export function hasSampleStore(store: object): store is { sampleStore(): SampleStore } {
  return typeof (store as { sampleStore?: unknown }).sampleStore === 'function';
}

export function isSubscribable(store: PolicyStore): store is SubscribableStore {
  return typeof (store as Partial<SubscribableStore>).subscribe === 'function';
}

export function isPollable(store: PolicyStore): store is PollableStore {
  return typeof (store as Partial<PollableStore>).changesSince === 'function';
}

/** A precondition (If-Match / If-None-Match) failed: someone else wrote first. */
export class StoreConflictError extends Error {
  constructor(readonly key: string, readonly currentEtag: string | undefined) {
    super(currentEtag === undefined ? `policy ${key} does not exist` : `policy ${key} has changed (current version ${currentEtag})`);
    this.name = 'StoreConflictError';
  }
}

/** The store could not be reached or failed; never turned into a grant. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** Content-derived etag: equal text and format give an equal tag on every store. */
export function etagOf(format: DocumentFormat, text: string): string {
  return `"${createHash('sha256').update(format).update('\0').update(text).digest('base64url').slice(0, 22)}"`;
}

/** Compare an If-Match header value (possibly a list, possibly weak) to a current etag. */
export function etagMatches(ifMatch: string, current: string | undefined): boolean {
  if (current === undefined) return false;
  return ifMatch.split(',').some((raw) => {
    const t = raw.trim();
    return t === '*' || t === current || t.replace(/^W\//, '') === current;
  });
}

/** The record a store keeps for a new version (a text-backed policy stays text-backed: text-backed.ts). */
export function recordOf(policy: NewPolicy, now = new Date()): PolicyRecord {
  const etag = etagOf(policy.format, policy.text);
  const updatedAt = now.toISOString();
  return isTextBacked(policy) ? textBackedRecord(policy, etag, updatedAt) : { ...policy, etag, updatedAt };
}
