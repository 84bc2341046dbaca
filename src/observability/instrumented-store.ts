// A PolicyStore decorator that times every call and counts failures. It keeps exactly
// the capabilities of the store it wraps (subscribe, changesSince, onChangeHint), since
// the policy manager picks its sync strategy and staleness rule from them.

import {
  StoreConflictError, isPollable, isSubscribable,
  type ListPage, type ListQuery, type NewPolicy, type PolicyStore, type PollableStore, type PutResult,
  type Snapshot, type SubscribableStore, type WriteOptions,
} from '../store/store.js';
import { hasPolicyHistory, type PolicyHistory } from '../store/history.js';

export interface StoreCallObserver {
  observeStoreCall(operation: string, seconds: number, failed: boolean): void;
}

type ChangeHint = (listener: () => void) => () => void;

export class InstrumentedStore implements PolicyStore {
  readonly kind: PolicyStore['kind'];
  // Present only when the wrapped store has them (declared, so no own `undefined` property exists otherwise).
  declare subscribe?: SubscribableStore['subscribe'];
  declare changesSince?: PollableStore['changesSince'];
  declare onChangeHint?: ChangeHint;
  declare keyHistory?: PolicyHistory['keyHistory'];
  declare historySince?: PolicyHistory['historySince'];

  constructor(private readonly inner: PolicyStore, private readonly observer: StoreCallObserver) {
    this.kind = inner.kind;
    if (isSubscribable(inner)) this.subscribe = (listener) => inner.subscribe(listener);
    if (isPollable(inner)) this.changesSince = (revision) => this.timed('changesSince', () => inner.changesSince(revision));
    const hint = (inner as { onChangeHint?: ChangeHint }).onChangeHint;
    if (typeof hint === 'function') this.onChangeHint = (listener) => hint.call(inner, listener);
    if (hasPolicyHistory(inner)) {
      this.keyHistory = (key, page) => this.timed('keyHistory', () => inner.keyHistory(key, page));
      this.historySince = (revision, limit) => this.timed('historySince', () => inner.historySince(revision, limit));
    }
  }

  private async timed<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let failed = false;
    try {
      return await call();
    } catch (err) {
      // A failed If-Match is an answer, not a store fault.
      failed = !(err instanceof StoreConflictError);
      throw err;
    } finally {
      this.observer.observeStoreCall(operation, (performance.now() - start) / 1000, failed);
    }
  }

  open(): Promise<void> {
    return this.timed('open', () => this.inner.open());
  }

  loadAll(): Promise<Snapshot> {
    return this.timed('loadAll', () => this.inner.loadAll());
  }

  get(key: string) {
    return this.timed('get', () => this.inner.get(key));
  }

  list(query: ListQuery): Promise<ListPage> {
    return this.timed('list', () => this.inner.list(query));
  }

  put(policy: NewPolicy, options?: WriteOptions): Promise<PutResult> {
    return this.timed('put', () => this.inner.put(policy, options));
  }

  putMany(policies: NewPolicy[], options?: { actor?: string }) {
    return this.timed('putMany', () => this.inner.putMany(policies, options));
  }

  delete(key: string, options?: WriteOptions) {
    return this.timed('delete', () => this.inner.delete(key, options));
  }

  ping(): Promise<void> {
    return this.timed('ping', () => this.inner.ping());
  }

  close(): Promise<void> {
    return this.timed('close', () => this.inner.close());
  }
}
