// The in-process store: nothing survives a restart. The reference implementation of
// the store contract (the conformance suite runs against it like any other store) and
// the store for tests and single-process demos.

import { RevisionCounter } from '../revision-counter.js';
import { pageOf } from '../list-page.js';
import { checkPreconditions } from '../preconditions.js';
import { Subscribers } from '../subscribers.js';
import { UNKNOWN_ACTOR, type HistoryPage, type PolicyChange, type PolicyHistory } from '../history.js';
import { InMemoryHistory } from './in-memory-history.js';
import {
  recordOf,
  type ListPage, type ListQuery, type NewPolicy, type PolicyRecord, type PutResult,
  type Snapshot, type StoreEvent, type SubscribableStore, type WriteOptions,
} from '../store.js';

/** Freeze a record and everything in it: callers share the stored object, never mutate it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function versionOf(r: PolicyRecord): PolicyChange['before'] {
  return { format: r.format, text: r.text, etag: r.etag };
}

export class MemoryStore implements SubscribableStore, PolicyHistory {
  readonly kind = 'memory' as const;
  private readonly records = new Map<string, PolicyRecord>();
  private readonly subscribers = new Subscribers();
  private readonly revisions = new RevisionCounter();
  private readonly history: InMemoryHistory<PolicyChange>;

  constructor(options: { historyRetentionMs?: number } = {}) {
    this.history = new InMemoryHistory(options.historyRetentionMs);
  }

  async keyHistory(key: string, page: { before?: number; limit: number }): Promise<HistoryPage<PolicyChange>> {
    return this.history.ofKey((e) => e.key === key, page);
  }

  async historySince(revision: number, limit: number): Promise<{ entries: PolicyChange[]; last: number } | 'reset'> {
    return this.history.since(revision, limit);
  }

  async open(): Promise<void> {}

  async loadAll(): Promise<Snapshot> {
    return { records: [...this.records.values()], revision: this.revisions.current() };
  }

  async get(key: string): Promise<PolicyRecord | undefined> {
    return this.records.get(key);
  }

  async list(query: ListQuery): Promise<ListPage> {
    return pageOf(this.records.values(), query);
  }

  // Every write below runs to completion without awaiting, so concurrent callers are
  // serialised by the event loop: a precondition cannot go stale between check and write.

  async put(policy: NewPolicy, options?: WriteOptions): Promise<PutResult> {
    return this.putNow(policy, options);
  }

  async putMany(policies: NewPolicy[], options?: { actor?: string }): Promise<{ revision: string; created: number; replaced: number }> {
    let created = 0;
    for (const p of policies) {
      if (this.putNow(p, options).created) created++;
    }
    return { revision: this.revisions.current(), created, replaced: policies.length - created };
  }

  async delete(key: string, options?: WriteOptions): Promise<{ revision: string } | false> {
    const current = this.records.get(key);
    checkPreconditions(key, current?.etag, options);
    if (current === undefined) return false;
    this.records.delete(key);
    const revision = this.revisions.next();
    this.history.add({
      kind: 'policy', revision, at: new Date().toISOString(), actor: options?.actor ?? UNKNOWN_ACTOR, key,
      namespace: current.namespace, op: 'delete', before: versionOf(current), after: null,
    });
    this.subscribers.emit({ type: 'delete', key, namespace: current.namespace, revision });
    return { revision };
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.subscribers.add(listener);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.subscribers.clear();
  }

  private putNow(policy: NewPolicy, options: WriteOptions | undefined): PutResult {
    const current = this.records.get(policy.key);
    checkPreconditions(policy.key, current?.etag, options);
    // A private copy: the caller may go on using (and mutating) what it passed in.
    const record = deepFreeze(recordOf(structuredClone(policy)));
    this.records.set(record.key, record);
    const revision = this.revisions.next();
    this.history.add({
      kind: 'policy', revision, at: record.updatedAt, actor: options?.actor ?? UNKNOWN_ACTOR, key: record.key,
      namespace: record.namespace, op: 'put', before: current === undefined ? null : versionOf(current), after: versionOf(record),
    });
    this.subscribers.emit({ type: 'put', record, revision });
    return { record, created: current === undefined, revision };
  }
}
