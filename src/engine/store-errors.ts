// The one place where the stores' errors (policies and relationships alike) become the
// service's coded errors, which the server's error handler turns into HTTP: a lost
// precondition is 412 / 409 with what it was about, an unreachable or failing store is
// 503 STORE_UNAVAILABLE (never a grant). Anything else passes through untouched, so a
// bug still reaches the handler's generic 500 with a logged id.

import { formatTuple } from '../core/relations/tuple.js';
import { PolicyEngineError } from '../errors.js';
import { RelationPreconditionError } from '../store/relation-store.js';
import { StoreConflictError, StoreUnavailableError } from '../store/store.js';

/** The coded error a store error stands for; `store` names the store in the message ('the policy store'). */
export function domainErrorOf(err: unknown, store: string): unknown {
  if (err instanceof StoreConflictError) {
    return new PolicyEngineError('PRECONDITION_FAILED', err.message, err.currentEtag !== undefined ? { etag: err.currentEtag } : undefined);
  }
  if (err instanceof RelationPreconditionError) {
    const p = err.failed;
    return new PolicyEngineError('RELATION_PRECONDITION_FAILED', err.message, 'mustExist' in p ? { mustExist: formatTuple(p.mustExist) } : { mustNotExist: formatTuple(p.mustNotExist) });
  }
  if (err instanceof StoreUnavailableError) {
    return new PolicyEngineError('STORE_UNAVAILABLE', `${store} is unavailable: ${err.message}`, undefined, { cause: err });
  }
  return err;
}

/** Run a store call, mapping its errors (see `domainErrorOf`). */
export async function storeCall<T>(store: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw domainErrorOf(err, store);
  }
}
