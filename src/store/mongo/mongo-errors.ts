// Turning MongoDB driver errors into the store's domain errors. Everything the database
// or the driver fails with becomes StoreUnavailableError (a 503, never a grant); our own
// bugs (TypeError and the like) pass through untouched so they are not disguised.

import { MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { StoreConflictError, StoreUnavailableError } from '../store.js';

/** E11000: an insert or update collided with a unique index (here: lost a write race). */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && (err.code === 11000 || err.code === 11001);
}

/** The server could not be reached at all (as opposed to refusing an operation). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof MongoNetworkError || err instanceof MongoServerSelectionError;
}

/** Map a failure of `what` to a domain error; anything not from the driver is rethrown as is. */
export function storeError(what: string, err: unknown): Error {
  if (err instanceof StoreConflictError || err instanceof StoreUnavailableError) return err;
  if (err instanceof MongoError) {
    const reason = isUnreachable(err) ? 'MongoDB is unreachable' : 'MongoDB failed';
    return new StoreUnavailableError(`${what}: ${reason}: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Run a store operation, mapping driver errors. */
export async function mapErrors<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw storeError(what, err);
  }
}
