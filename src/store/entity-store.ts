// What every directory store offers (SPEC §12): entities by ref with If-Match /
// If-None-Match like policies, a cursor-paginated list, an all-or-nothing bulk import,
// and the change feed the engine follows (a full load, then changes since a revision),
// exactly like the relationship stores. Revisions are decimal sequence numbers: every
// write and every import gets the next one; an entity's ETag is `"e<revision that wrote it>"`.

import { entityEtag, type EntityData, type StoredEntity } from '../core/entities/entity.js';
import { StoreConflictError } from './store.js';

export interface EntityWrite {
  ref: string;
  entity: EntityData;
}

/** One committed write, delete or import, as the engine replays it. */
export interface EntityChange {
  revision: string;
  /** ISO-8601 time of the commit */
  at: string;
  puts: EntityWrite[];
  deletes: string[];
}

export interface EntitySnapshot {
  entities: StoredEntity[];
  revision: string;
}

export interface EntityListQuery {
  /** only refs of this type */
  type?: string;
  /** the ref the previous page ended with */
  after?: string;
  limit: number;
}

export interface EntityPage {
  entities: StoredEntity[];
  /** pass back as `after`; absent on the last page */
  next?: string;
}

export interface EntityPreconditions {
  /** only write when the current version has this etag (412 otherwise) */
  ifMatch?: string;
  /** only write when the ref does not exist (If-None-Match: *) */
  ifNoneMatch?: boolean;
}

export interface EntityStore {
  readonly kind: 'memory' | 'file' | 'mongo';
  open(): Promise<void>;
  get(ref: string): Promise<StoredEntity | undefined>;
  /** live entities in ref order (code-unit order, as MongoDB orders `_id` strings) */
  list(query: EntityListQuery): Promise<EntityPage>;
  /** EntityConflictError when a precondition does not hold */
  put(ref: string, entity: EntityData, options?: EntityPreconditions): Promise<{ entity: StoredEntity; created: boolean }>;
  /** false when there was nothing to delete (and no precondition failed) */
  delete(ref: string, options?: EntityPreconditions): Promise<{ revision: string } | false>;
  /** every one written in one revision, or none (refs distinct, validated by the caller) */
  import(entities: EntityWrite[]): Promise<{ revision: string; created: number; replaced: number }>;
  revision(): Promise<string>;
  loadAll(): Promise<EntitySnapshot>;
  /** committed changes after `revision`, in order; 'reset' when the store cannot tell (reload) */
  changesSince(revision: string): Promise<{ changes: EntityChange[]; revision: string } | 'reset'>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** "something changed, sync now" (where the store can tell) */
  onChangeHint?(listener: () => void): () => void;
}

/** Most entities a list page returns. */
export const MAX_ENTITY_PAGE = 500;

/** If-Match / If-None-Match did not hold for an entity (a 412, like policies). */
export class EntityConflictError extends StoreConflictError {
  constructor(ref: string, currentEtag: string | undefined) {
    super(ref, currentEtag);
    this.message = currentEtag === undefined ? `entity ${ref} does not exist` : `entity ${ref} has changed (current version ${currentEtag})`;
    this.name = 'EntityConflictError';
  }
}

/** Throws EntityConflictError when a precondition does not hold for `current`. */
export function checkEntityPreconditions(ref: string, current: StoredEntity | undefined, options: EntityPreconditions | undefined): void {
  const etag = current ? entityEtag(current.revision) : undefined;
  if (options?.ifNoneMatch === true && etag !== undefined) throw new EntityConflictError(ref, etag);
  if (options?.ifMatch !== undefined) {
    const ok = etag !== undefined && options.ifMatch.split(',').some((raw) => {
      const t = raw.trim();
      return t === '*' || t === etag || t.replace(/^W\//, '') === etag;
    });
    if (!ok) throw new EntityConflictError(ref, etag);
  }
}

/** The stored form of a written entity. */
export function storedOf(ref: string, entity: EntityData, revision: string, at: string): StoredEntity {
  return { ref, roles: entity.roles, groups: entity.groups, attributes: entity.attributes, revision, updatedAt: at };
}

/** One page of `entities` (any order) after `query.after`, of `query.type`. */
export function entityPage(entities: Iterable<StoredEntity>, query: EntityListQuery): EntityPage {
  const limit = Math.max(1, Math.min(MAX_ENTITY_PAGE, Math.trunc(query.limit)));
  const prefix = query.type === undefined ? undefined : `${query.type}:`;
  const matching: StoredEntity[] = [];
  for (const e of entities) {
    if (prefix !== undefined && !e.ref.startsWith(prefix)) continue;
    if (query.after !== undefined && !(e.ref > query.after)) continue;
    matching.push(e);
  }
  matching.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  const page = matching.slice(0, limit);
  return matching.length > limit ? { entities: page, next: page[page.length - 1]!.ref } : { entities: page };
}
