// Change history (docs/audit.md): what every store records with each write, in the same
// step as the write itself — who, when, the revision, the text before and after. Stores
// that keep it offer the capabilities below; the engine's history service reads them.
//
// The record is never a second write: in MongoDB it is the change-log document that IS
// the write (change-log.ts); in the file store a journal line written before the file
// and replayed at open (file/policy-journal.ts); in the memory store the same
// synchronous step. So a crash cannot leave a change without its record, or a record
// without its change.

import type { DocumentFormat } from '../core/document/types.js';

/** Who made a change when no credential named one (the file store's own scan, tests). */
export const UNKNOWN_ACTOR = 'unknown';
/** A file edited on disk (not through the API): the file store records it under this name. */
export const FILE_ACTOR = 'file-system';

/** One version's text, as written. */
export interface VersionText {
  format: DocumentFormat;
  text: string;
  etag: string;
}

/** One recorded write of a policy, registry, Lua, catalogue or tests document. */
export interface PolicyChange {
  kind: 'policy';
  /** the store revision this write created (decimal) */
  revision: string;
  /** ISO-8601 */
  at: string;
  actor: string;
  key: string;
  namespace: string;
  op: 'put' | 'delete';
  /** null: the key did not exist before (put) */
  before: VersionText | null;
  /** null: the write deleted the key */
  after: VersionText | null;
}

/** One recorded relationship batch or schema write. */
export interface RelationsChange {
  kind: 'relations';
  revision: string;
  at: string;
  actor: string;
  /** canonical tuple strings */
  writes: string[];
  deletes: string[];
  schema?: { before: VersionText | null; after: VersionText };
}

export type ChangeEntry = PolicyChange | RelationsChange;

export interface HistoryPage<T> {
  entries: T[];
  /** pass back as `before` for older entries; absent on the last page */
  next?: string;
}

/** A policy store that records its writes. */
export interface PolicyHistory {
  /** the key's recorded writes, newest first, older than revision `before` when given */
  keyHistory(key: string, page: { before?: number; limit: number }): Promise<HistoryPage<PolicyChange>>;
  /** writes after `revision`, oldest first; 'reset' when older ones were pruned past it */
  historySince(revision: number, limit: number): Promise<{ entries: PolicyChange[]; last: number } | 'reset'>;
}

/** A relationship store that records its writes. */
export interface RelationsHistory {
  relationHistorySince(revision: number, limit: number): Promise<{ entries: RelationsChange[]; last: number } | 'reset'>;
}

export function hasPolicyHistory(store: object): store is PolicyHistory {
  return typeof (store as Partial<PolicyHistory>).keyHistory === 'function';
}

export function hasRelationsHistory(store: object): store is RelationsHistory {
  return typeof (store as Partial<RelationsHistory>).relationHistorySince === 'function';
}

/** Default retention of recorded changes (HISTORY_RETENTION_DAYS). */
export const DEFAULT_HISTORY_RETENTION_MS = 90 * 24 * 3600_000;

/** Most entries one history read returns. */
export const MAX_HISTORY_PAGE = 500;
