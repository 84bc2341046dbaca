// The relationship store conformance suite on MongoDB (FerretDB unless MONGO_URL names
// another server), then what only a shared database does: two replicas, one writer's
// batch seen by the other's change feed, and a writer that died before copying.

import { randomBytes } from 'node:crypto';
import t from 'tap';
import { relationStoreConformance } from '../../src/store/relation-conformance.js';
import type { ChangeDoc } from '../../src/store/mongo/mongo-relation-documents.js';
import { MongoRelationStore } from '../../src/store/mongo/mongo-relation-store.js';
import { formatTuple, parseTuple } from '../../src/core/relations/tuple.js';
import { testMongo } from '../helpers/mongo.js';

const shared = await testMongo(t);

relationStoreConformance(t, 'mongo', async () => {
  const collection = `rel_${randomBytes(4).toString('hex')}`;
  const store = new MongoRelationStore({ url: shared.url, collection });
  const db = shared.client.db(shared.dbName);
  return {
    store,
    cleanup: async () => {
      for (const c of [collection, `${collection}_changes`, `${collection}_schema`, `${collection}_history`]) await db.collection(c).drop().catch(() => {});
    },
  };
});

t.test('two replicas: a batch written by one reaches the other through changesSince and loadAll', async (t) => {
  const collection = `rel_${randomBytes(4).toString('hex')}`;
  const a = new MongoRelationStore({ url: shared.url, collection });
  const b = new MongoRelationStore({ url: shared.url, collection });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.open();
  await b.open();
  const r = await a.write({ writes: [parseTuple('document:d1#reader@user:alice')], deletes: [], preconditions: [] });
  const c = await b.changesSince('0');
  t.same(c !== 'reset' && c.changes.map((x) => [x.revision, x.writes.map(formatTuple)]), [[r.revision, ['document:d1#reader@user:alice']]]);
  t.same((await b.loadAll()).tuples.map(formatTuple), ['document:d1#reader@user:alice']);
});

t.test('a batch whose writer died before copying it is still in loadAll and preconditions, and is finished later', async (t) => {
  const collection = `rel_${randomBytes(4).toString('hex')}`;
  const store = new MongoRelationStore({ url: shared.url, collection });
  t.teardown(() => store.close());
  await store.open();
  await store.write({ writes: [parseTuple('document:d1#owner@user:alice')], deletes: [], preconditions: [] });
  // The dead writer: its change is in the log, not in the copy.
  const changes = shared.client.db(shared.dbName).collection<ChangeDoc>(`${collection}_changes`);
  await changes.insertOne({
    _id: 2, writes: ['document:d2#owner@user:bob'], deletes: ['document:d1#owner@user:alice'],
    applied: false, at: new Date(Date.now() - 60_000),
  });
  t.same((await store.read({}, { limit: 10 })).tuples.map(formatTuple), ['document:d1#owner@user:alice'], 'the copy has not seen it');
  await t.rejects(
    store.write({ writes: [], deletes: [], preconditions: [{ mustExist: parseTuple('document:d1#owner@user:alice') }] }),
    { name: 'RelationPreconditionError' },
    'a precondition sees the logged delete',
  );
  const snap = await store.loadAll();
  t.same(snap.tuples.map(formatTuple), ['document:d2#owner@user:bob']);
  t.equal(snap.revision, '2');
  t.same((await store.read({}, { limit: 10 })).tuples.map(formatTuple), ['document:d2#owner@user:bob'], 'loadAll finished the abandoned copy');
  const next = await store.write({ writes: [parseTuple('document:d3#owner@user:carol')], deletes: [], preconditions: [] });
  t.equal(next.revision, '3');
});

t.test('writers in two processes race through the unique revision: no gaps, one mustNotExist winner', async (t) => {
  const collection = `rel_${randomBytes(4).toString('hex')}`;
  const stores = [new MongoRelationStore({ url: shared.url, collection }), new MongoRelationStore({ url: shared.url, collection })];
  t.teardown(async () => {
    for (const s of stores) await s.close();
  });
  for (const s of stores) await s.open();
  const claim = parseTuple('lock:l1#holder@user:anyone');
  const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => stores[i % 2]!.write({
    writes: [claim, parseTuple(`lock:l1#note@user:w${i}`)], deletes: [], preconditions: [{ mustNotExist: claim }],
  })));
  t.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'exactly one batch passes its precondition');
  const plain = await Promise.all(Array.from({ length: 6 }, (_, i) => stores[i % 2]!.write({ writes: [parseTuple(`document:r${i}#reader@user:u${i}`)], deletes: [], preconditions: [] })));
  t.same(plain.map((r) => Number(r.revision)).sort((a, b) => a - b), [2, 3, 4, 5, 6, 7], 'every batch its own revision, no gaps');
  const snap = await stores[1]!.loadAll();
  t.equal(snap.tuples.filter((x) => x.relation === 'note').length, 1, 'the losers wrote nothing');
  t.equal(snap.revision, '7');
});

t.test('the shared change log prunes the relationship log too; a poller left behind is told to reload', async (t) => {
  const collection = `rel_${randomBytes(4).toString('hex')}`;
  const store = new MongoRelationStore({ url: shared.url, collection, changeRetentionMs: 0 });
  t.teardown(() => store.close());
  await store.open();
  for (let i = 0; i < 5; i++) await store.write({ writes: [parseTuple(`document:d${i}#reader@user:u`)], deletes: [], preconditions: [] });
  const last = await store.write({ writes: [parseTuple('document:last#reader@user:u')], deletes: [], preconditions: [] });
  await new Promise((r) => setTimeout(r, 5));
  const del = await store.write({ writes: [], deletes: [parseTuple('document:d0#reader@user:u')], preconditions: [] });
  const log = await shared.client.db(shared.dbName).collection<ChangeDoc>(`${collection}_changes`).find().toArray();
  t.same(log.map((c) => c._id), [7], 'only the newest batch stays');
  t.equal(await store.changesSince('1'), 'reset', 'a poller behind the log reloads');
  const changes = await store.changesSince(last.revision);
  t.same(changes !== 'reset' && changes.changes.map((c) => c.revision), [del.revision], 'one just behind still replays');
  const snap = await store.loadAll();
  t.equal(snap.tuples.length, 5);
  t.equal(snap.revision, '7');
  t.equal((await store.write({ writes: [parseTuple('document:next#reader@user:u')], deletes: [], preconditions: [] })).revision, '8', 'and the sequence carries on');
});
