// If-Match / If-None-Match (RFC 9110 §13.1) against a store's current version of a key.
// Shared so every store answers preconditions identically; a deleted key counts as absent.

import { StoreConflictError, etagMatches, type WriteOptions } from './store.js';

/** Throws StoreConflictError when a precondition does not hold for `currentEtag`. */
export function checkPreconditions(key: string, currentEtag: string | undefined, options: WriteOptions | undefined): void {
  if (options?.ifNoneMatch === true && currentEtag !== undefined) throw new StoreConflictError(key, currentEtag);
  if (options?.ifMatch !== undefined && !etagMatches(options.ifMatch, currentEtag)) {
    throw new StoreConflictError(key, currentEtag);
  }
}

/** True when the write carries a precondition, so losing a race must surface as a conflict. */
export function hasPreconditions(options: WriteOptions | undefined): boolean {
  return options?.ifMatch !== undefined || options?.ifNoneMatch === true;
}
