// Fan-out of store events to in-process subscribers. A listener that throws must not
// break the write that triggered it nor starve the other listeners.

import type { StoreEvent } from './store.js';

export class Subscribers {
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  add(listener: (event: StoreEvent) => void): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry = (event: StoreEvent) => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  emit(event: StoreEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
