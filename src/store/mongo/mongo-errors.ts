// Turning MongoDB driver errors into the store's domain errors. Everything the database,
// the driver or the connection fails with becomes StoreUnavailableError (a 503, never a
// grant); our own bugs (TypeError and the like) pass through untouched, undisguised.

import { MongoBulkWriteError, MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { StoreConflictError, StoreUnavailableError } from '../store.js';

/** E11000: an insert or update collided with a unique index (here: lost a write race). */
export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && (err.code === 11000 || err.code === 11001);
}

/** Only duplicate-key failures (the tuple is already there): anything else is a real failure. */
export function onlyDuplicates(err: unknown): boolean {
  if (!(err instanceof MongoBulkWriteError)) return isDuplicateKey(err);
  const list = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return list.length > 0 && list.every((e) => e.code === 11000 || e.code === 11001);
}

// Socket errors the driver sometimes lets through unwrapped (seen: EPIPE, "This socket
// has been ended by the other party", when the server goes away mid-operation).
const SOCKET_ERRORS = new Set([
  'EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

function isSocketError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && SOCKET_ERRORS.has(code);
}

/** The server could not be reached at all (as opposed to refusing an operation). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof MongoNetworkError || err instanceof MongoServerSelectionError || isSocketError(err);
}

/** Map a failure of `what` to a domain error; anything not from the driver is rethrown as is. */
export function storeError(what: string, err: unknown): Error {
  if (err instanceof StoreConflictError || err instanceof StoreUnavailableError) return err;
  if (err instanceof MongoError || isSocketError(err)) {
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
