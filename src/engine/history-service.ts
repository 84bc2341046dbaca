// Reading the change history (docs/audit.md): a document's versions with diffs, the
// watch feed over policies and relationships, and rollback to a recorded version. The
// records themselves are written by the stores, atomically with each change
// (store/history.ts); this service only reads them, filtered by what the caller's
// credential reaches.

import type { Access } from '../core/access.js';
import { requireReach } from '../core/access.js';
import { PolicyEngineError } from '../errors.js';
import { MAX_HISTORY_PAGE, hasPolicyHistory, hasRelationsHistory, type ChangeEntry, type PolicyChange, type PolicyHistory, type RelationsHistory } from '../store/history.js';
import type { PolicyStore, PutResult } from '../store/store.js';
import type { RelationStore } from '../store/relation-store.js';
import type { EntityStore } from '../store/entity-store.js';
import { UNKNOWN_ACTOR, type EntitiesChange } from '../store/history.js';
import type { PolicyManager } from './policy-manager.js';
import type { PolicyService } from './policy-service.js';
import { assertKey } from './policy-service.js';
import { storeCall } from './store-errors.js';

/** Edit distance past which a diff is left out (diffTruncated): bounds the work per version. */
const MAX_DIFF_EDITS = 5000;
/** Longest a change-feed request waits for something new. */
export const MAX_WAIT_MS = 30_000;

export interface HistoryServiceOptions {
  store: PolicyStore;
  manager: PolicyManager;
  policies: PolicyService;
  relations?: RelationStore;
  /** the entity directory (its change log is its history) */
  entities?: EntityStore;
  /** how often a waiting feed request looks again (the stores have no push for other replicas) */
  pollMs?: number;
}

export type VersionWithDiff = PolicyChange & { diff: string | null; diffTruncated?: boolean };

/** A feed cursor: the revisions of the policy, relationship and entity stores, `P.R.E`. */
export interface FeedCursor {
  policies: number;
  relations: number;
  entities: number;
}

export function parseCursor(text: string): FeedCursor | undefined {
  const m = /^(\d{1,15})(?:\.(\d{1,15}))?(?:\.(\d{1,15}))?$/.exec(text);
  return m ? { policies: Number(m[1]), relations: Number(m[2] ?? '0'), entities: Number(m[3] ?? '0') } : undefined;
}

export const formatCursor = (c: FeedCursor): string => `${c.policies}.${c.relations}.${c.entities}`;

// `diff` is imported by the first history request (most deployments never ask for one).
type Diff = typeof import('diff');

function diffOf({ createTwoFilesPatch }: Diff, e: PolicyChange): { diff: string | null; diffTruncated?: boolean } {
  const before = e.before?.text ?? '';
  const after = e.after?.text ?? '';
  const patch = createTwoFilesPatch(e.key, e.key, before, after, undefined, `revision ${e.revision}`, { maxEditLength: MAX_DIFF_EDITS });
  return patch === undefined ? { diff: null, diffTruncated: true } : { diff: patch };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HistoryService {
  private readonly history: PolicyHistory | undefined;
  private readonly relationHistory: RelationsHistory | undefined;

  constructor(private readonly options: HistoryServiceOptions) {
    this.history = hasPolicyHistory(options.store) ? options.store : undefined;
    this.relationHistory = options.relations !== undefined && hasRelationsHistory(options.relations) ? options.relations : undefined;
  }

  private policyHistory(): PolicyHistory {
    if (!this.history) throw new PolicyEngineError('STORE_DISABLED', 'this policy store keeps no history');
    return this.history;
  }

  /** The key's versions, newest first, with a unified diff from the version before each. */
  async keyHistory(key: string, page: { before?: number; limit: number }, access: Access): Promise<{ entries: VersionWithDiff[]; next?: string }> {
    assertKey(key);
    const r = await storeCall('the policy store', () => this.policyHistory().keyHistory(key, { ...page, limit: Math.min(page.limit, MAX_HISTORY_PAGE) }));
    // Versions in namespaces out of reach are left out (a document moved between namespaces shows only its reachable part).
    const entries = r.entries.filter((e) => access.reaches('read', e.namespace));
    if (entries.length === 0 && r.entries.length > 0 && page.before === undefined) throw new PolicyEngineError('POLICY_NOT_FOUND', `no policy with key ${key}`);
    const diff = await import('diff');
    return { entries: entries.map((e) => ({ ...e, ...diffOf(diff, e) })), ...(r.next !== undefined ? { next: r.next } : {}) };
  }

  /** The cursor of "now": the newest revisions this replica has applied. */
  async now(): Promise<FeedCursor> {
    const relations = this.options.relations ? Number(await storeCall('the relationship store', () => this.options.relations!.revision())) : 0;
    const entities = this.options.entities ? Number(await storeCall('the entity directory', () => this.options.entities!.revision())) : 0;
    return { policies: Number(this.options.manager.revision || '0'), relations, entities };
  }

  /**
   * Changes after `since`, oldest first (policy and relationship changes merged by time),
   * waiting up to `waitMs` for the first one. Entries out of the credential's reach are
   * skipped; the cursor still moves past them.
   */
  async changes(since: FeedCursor, limit: number, waitMs: number, access: Access, gone: () => boolean = () => false): Promise<{ changes: ChangeEntry[]; next: string }> {
    const deadline = Date.now() + Math.min(waitMs, MAX_WAIT_MS);
    for (;;) {
      const r = await this.readOnce(since, limit, access);
      if (r.changes.length > 0 || r.moved || Date.now() >= deadline || gone()) return { changes: r.changes, next: formatCursor(r.cursor) };
      await sleep(Math.min(this.options.pollMs ?? 250, Math.max(1, deadline - Date.now())));
    }
  }

  private async readOnce(since: FeedCursor, limit: number, access: Access): Promise<{ changes: ChangeEntry[]; cursor: FeedCursor; moved: boolean }> {
    const p = await storeCall('the policy store', () => this.policyHistory().historySince(since.policies, limit));
    const rel = this.relationHistory ? await storeCall('the relationship store', () => this.relationHistory!.relationHistorySince(since.relations, limit)) : { entries: [], last: since.relations };
    const ent = await this.entitiesSince(since.entities, limit);
    if (p === 'reset' || rel === 'reset' || ent === 'reset') {
      throw new PolicyEngineError('HISTORY_PRUNED', 'changes after this cursor are past the history retention; read the current state, then follow since=now', [{ since: formatCursor(since) }]);
    }
    const cursor = { policies: p.last, relations: rel.last, entities: ent.last };
    const visible: ChangeEntry[] = [
      ...p.entries.filter((e) => access.reaches('read', e.namespace)),
      ...(access.can('relations') || access.unrestricted ? rel.entries : []),
      ...(access.can('entities') || access.unrestricted ? ent.entries : []),
    ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    const moved = cursor.policies !== since.policies || cursor.relations !== since.relations || cursor.entities !== since.entities;
    return { changes: visible, cursor, moved };
  }

  /** The directory's changes after `from` (its change log, which keeps the newest few thousand). */
  private async entitiesSince(from: number, limit: number): Promise<{ entries: EntitiesChange[]; last: number } | 'reset'> {
    if (!this.options.entities) return { entries: [], last: from };
    const r = await storeCall('the entity directory', () => this.options.entities!.changesSince(String(from)));
    if (r === 'reset') return r;
    const changes = r.changes.slice(0, limit);
    const entries = changes.map((c): EntitiesChange => ({ kind: 'entities', revision: c.revision, at: c.at, actor: c.actor ?? UNKNOWN_ACTOR, puts: c.puts, deletes: c.deletes }));
    return { entries, last: changes.length > 0 ? Number(changes[changes.length - 1]!.revision) : from };
  }

  /**
   * Write the version recorded at `revision` again (a delete when that change deleted
   * the key). Goes through the policy service, so it is validated, scoped, recorded as
   * a write of its own and honours If-Match.
   */
  async rollback(key: string, revision: number, ifMatch: string | undefined, access: Access): Promise<{ result: PutResult | 'deleted'; restored: PolicyChange }> {
    assertKey(key);
    const target = await this.findVersion(key, revision);
    if (target === undefined) throw new PolicyEngineError('VERSION_NOT_FOUND', `policy ${key} has no recorded version at revision ${revision}`);
    requireReach(access, 'read', [target.namespace], `policy ${key}`);
    const opts = ifMatch !== undefined ? { ifMatch } : {};
    if (target.after === null) {
      await this.options.policies.delete(key, opts, access);
      return { result: 'deleted', restored: target };
    }
    const result = await this.options.policies.put(key, target.after.text, target.after.format, opts, access);
    return { result, restored: target };
  }

  private async findVersion(key: string, revision: number): Promise<PolicyChange | undefined> {
    // The entry at `revision` is the first of the page of entries older than revision + 1.
    const r = await storeCall('the policy store', () => this.policyHistory().keyHistory(key, { before: revision + 1, limit: 1 }));
    const e = r.entries[0];
    return e !== undefined && Number(e.revision) === revision ? e : undefined;
  }
}
