// The one store-error mapper both services use: each store error becomes its coded
// error (and so its HTTP status), with what the caller needs in the details; anything
// else passes through as it is, so a bug is not disguised as a store failure.

import t from 'tap';
import { parseTuple } from '../../src/core/relations/tuple.js';
import { domainErrorOf, storeCall } from '../../src/engine/store-errors.js';
import { PolicyEngineError, statusOf } from '../../src/errors.js';
import { RelationPreconditionError } from '../../src/store/relation-store.js';
import { StoreConflictError, StoreUnavailableError } from '../../src/store/store.js';

t.test('each store error maps to its code, status and details', async (t) => {
  const conflict = domainErrorOf(new StoreConflictError('k1', 'v7'), 'the policy store');
  t.match(conflict, { code: 'PRECONDITION_FAILED', details: { etag: 'v7' } });
  t.equal(statusOf((conflict as PolicyEngineError).code), 412);
  t.same((domainErrorOf(new StoreConflictError('k1', undefined), 'the policy store') as PolicyEngineError).details, undefined, 'no etag when the key does not exist');

  const exists = domainErrorOf(new RelationPreconditionError({ mustExist: parseTuple('document:d#owner@user:a') }), 'the relationship store');
  t.match(exists, { code: 'RELATION_PRECONDITION_FAILED', details: { mustExist: 'document:d#owner@user:a' } });
  t.equal(statusOf((exists as PolicyEngineError).code), 409);
  const absent = domainErrorOf(new RelationPreconditionError({ mustNotExist: parseTuple('document:d#owner@user:a') }), 'the relationship store');
  t.match(absent, { code: 'RELATION_PRECONDITION_FAILED', details: { mustNotExist: 'document:d#owner@user:a' } });

  const cause = new StoreUnavailableError('MongoDB is unreachable');
  const down = domainErrorOf(cause, 'the relationship store') as PolicyEngineError;
  t.equal(down.code, 'STORE_UNAVAILABLE');
  t.equal(statusOf(down.code), 503);
  t.equal(down.message, 'the relationship store is unavailable: MongoDB is unreachable', 'names the store');
  t.equal(down.cause, cause, 'keeps the cause for the log');
});

t.test('anything else passes through untouched', async (t) => {
  const bug = new TypeError('x is undefined');
  t.equal(domainErrorOf(bug, 'the policy store'), bug);
  const coded = new PolicyEngineError('RELATION_INVALID', 'bad');
  t.equal(domainErrorOf(coded, 'the policy store'), coded);
  await t.rejects(storeCall('the policy store', async () => { throw bug; }), bug);
  await t.rejects(storeCall('the policy store', async () => { throw new StoreUnavailableError('gone'); }), { code: 'STORE_UNAVAILABLE' });
  t.equal(await storeCall('the policy store', async () => 42), 42, 'a result passes through');
});
