// The MongoDB store: the shared conformance suite, then what only a shared database
// does — several replicas (store instances) writing and polling the same collections,
// racing writers, a writer that dies mid-write, an unreachable server. Runs on
// FerretDB unless MONGO_URL names another server (test/helpers/mongo.ts).

import { randomBytes } from 'node:crypto';
import type { MongoClient } from 'mongodb';
import t, { type Test } from 'tap';
import { loadDocument } from '../../src/core/compile/load-document.js';
import { samplePolicy, storeConformance, waitUntil } from '../../src/store/conformance.js';
import type { ChangeDoc } from '../../src/store/mongo/mongo-documents.js';
import { MongoStore, databaseOfUrl } from '../../src/store/mongo/mongo-store.js';
import { StoreConflictError, StoreUnavailableError, etagOf, type NewPolicy } from '../../src/store/store.js';
import { freePort, startFerretDB } from '../helpers/ferretdb.js';
import { testMongo } from '../helpers/mongo.js';

// One database for the conformance suite; each store in it gets its own collections.
const shared = await testMongo(t);

async function dropCollections(client: MongoClient, dbName: string, collection: string): Promise<void> {
  const db = client.db(dbName);
  for (const name of [collection, `${collection}_changes`, `${collection}_history`]) await db.collection(name).drop().catch(() => {});
}

storeConformance(t, 'mongo', async () => {
  const collection = `policies_${randomBytes(4).toString('hex')}`;
  const store = new MongoStore({ url: shared.url, collection });
  return { store, cleanup: () => dropCollections(shared.client, shared.dbName, collection) };
});

/** Two stores on one fresh database with the default collection names: two replicas. */
async function replicas(t: Test): Promise<{ a: MongoStore; b: MongoStore; client: MongoClient; dbName: string }> {
  const { url, client, dbName } = await testMongo(t);
  const a = new MongoStore({ url });
  const b = new MongoStore({ url, dbName });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.open();
  await b.open();
  return { a, b, client, dbName };
}

t.test('collections and indexes', async (t) => {
  const { a, client, dbName } = await replicas(t);
  await a.put(samplePolicy('org-a'));
  const db = client.db(dbName);
  const policyIndexes = await db.collection('policies').listIndexes().toArray();
  t.ok(policyIndexes.some((i) => JSON.stringify(i.key) === '{"namespace":1,"ordinal":1}'), 'policies has {namespace, ordinal} (SPEC)');
  const changeIndexes = await db.collection('policies_changes').listIndexes().toArray();
  t.ok(changeIndexes.some((i) => JSON.stringify(i.key) === '{"key":1,"version":1}' && i.unique === true), 'the change log has a unique {key, version}');
  const stored = await db.collection('policies').findOne({ _id: 'org-a' as never });
  t.match(stored, { namespace: 'org', ordinal: null, disabled: false, format: 'json', version: 1, seq: 1, deleted: false });
  t.type(stored?.doc, 'string', 'the parsed document is stored as JSON text');
});

t.test('a document with $schema is stored (FerretDB refuses $-fields)', async (t) => {
  const { a } = await replicas(t);
  const text = JSON.stringify({ $schema: 'https://example.com/policy.json', key: 'org-s', rules: [{ subjects: ['*'], grant: ['a:b'] }] });
  const loaded = loadDocument(text, 'json');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  const { policy, document } = loaded.loaded;
  const p: NewPolicy = { key: policy.key, namespace: policy.namespace, ordinal: null, disabled: false, format: 'json', text, document };
  await a.put(p);
  t.same((await a.get('org-s'))?.document, document);
});

t.test('two replicas: a write through one is seen by the other\'s poll', async (t) => {
  const { a, b } = await replicas(t);
  const start = (await b.loadAll()).revision;
  t.equal(start, '0');
  const put = await a.put(samplePolicy('org-a', { format: 'yaml' }));
  const del = await a.delete('org-a');
  const again = await a.put(samplePolicy('org-a'));
  t.equal(again.created, true, 'a deleted key is created anew');

  const changes = await b.changesSince(start);
  if (changes === 'reset') throw new Error('unexpected reset');
  t.same(changes.events.map((e) => e.type), ['put', 'delete', 'put']);
  t.same(changes.events.map((e) => e.revision), [put.revision, del !== false ? del.revision : '', again.revision]);
  t.equal((await b.get('org-a'))?.etag, again.record.etag);
  t.same((await b.loadAll()).revision, again.revision);

  const bPut = await b.put(samplePolicy('global-x'), { ifNoneMatch: true });
  const back = await a.changesSince(again.revision);
  t.same(back !== 'reset' && back.events.map((e) => e.type === 'put' && e.record.etag), [bPut.record.etag]);
});

t.test('two replicas: concurrent If-Match writers, exactly one wins', async (t) => {
  const { a, b } = await replicas(t);
  for (let round = 0; round < 3; round++) {
    const base = await a.put(samplePolicy('org-hot', { grant: [`base:r${round}`] }));
    const attempts = await Promise.allSettled(Array.from({ length: 12 }, (_, i) =>
      (i % 2 === 0 ? a : b).put(samplePolicy('org-hot', { grant: [`w:r${round}:${i}`] }), { ifMatch: base.record.etag })));
    const won = attempts.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
    const lost = attempts.flatMap((x) => (x.status === 'rejected' ? [x.reason as unknown] : []));
    t.equal(won.length, 1, `round ${round}: one winner`);
    t.ok(lost.every((e) => e instanceof StoreConflictError), 'the rest conflict');
    t.equal((await b.get('org-hot'))?.etag, won[0]?.record.etag, 'and the stored version is the winner\'s');
  }

  // Unconditional writers on both replicas: all land, and the log has no gaps or doubles.
  const from = (await a.loadAll()).revision;
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) =>
    (i % 2 === 0 ? a : b).put(samplePolicy(`org-k${i % 4}`, { grant: [`g:${i}`] }))));
  const revisions = results.map((r) => Number(r.revision)).sort((x, y) => x - y);
  t.same(revisions, Array.from({ length: 16 }, (_, i) => Number(from) + 1 + i), 'sequence numbers are consecutive');
  const changes = await b.changesSince(from);
  if (changes === 'reset') throw new Error('unexpected reset');
  t.equal(changes.events.length, 16);
  // Replaying the log in order ends where the store is.
  const replayed = new Map<string, string>();
  for (const e of changes.events) if (e.type === 'put') replayed.set(e.record.key, e.record.etag);
  for (const r of (await a.loadAll()).records) {
    if (r.key.startsWith('org-k')) t.equal(replayed.get(r.key), r.etag, `${r.key} replays to its stored version`);
  }
});

t.test('a replica writing alone takes the next number without reading the log; after another replica wrote, it collides and reads it', async (t) => {
  const { url, dbName } = await testMongo(t);
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(url, { monitorCommands: true });
  const newestReads: number[] = [];
  client.on('commandStarted', (e) => {
    // The newest number: find on the log, no filter, only _id, one entry.
    const c = e.command as { find?: string; filter?: object; projection?: object; limit?: number };
    if (e.commandName === 'find' && c.find === 'policies_changes' && JSON.stringify(c.filter) === '{}' && JSON.stringify(c.projection) === '{"_id":1}' && c.limit === 1) newestReads.push(1);
  });
  const a = new MongoStore({ url, dbName, client });
  const b = new MongoStore({ url, dbName });
  t.teardown(async () => {
    await a.close();
    await b.close();
    await client.close();
  });
  await a.open();
  await b.open();
  const first = await a.put(samplePolicy('org-alone', { grant: ['g:0'] }));
  const before = newestReads.length;
  const alone: number[] = [Number(first.revision)];
  for (let i = 1; i <= 5; i++) alone.push(Number((await a.put(samplePolicy('org-alone', { grant: [`g:${i}`] }))).revision));
  t.equal(newestReads.length, before, 'five more writes, no read of the newest number');
  t.same(alone, alone.map((_, i) => alone[0]! + i), 'and their numbers follow each other');

  // Alternating replicas: each write of a follows one of b, so a's guess is taken.
  const mixed: number[] = [];
  for (let i = 0; i < 6; i++) mixed.push(Number((await (i % 2 === 0 ? b : a).put(samplePolicy(`org-m${i % 3}`, { grant: [`m:${i}`] }))).revision));
  t.same(mixed, mixed.map((_, i) => alone[5]! + 1 + i), 'numbers stay consecutive, none used twice');
  t.ok(newestReads.length >= before + 3, 'a read the log again after each collision');
  const changes = await b.changesSince(String(first.revision));
  if (changes === 'reset') throw new Error('unexpected reset');
  t.same(changes.events.map((e) => Number(e.revision)), [...alone.slice(1), ...mixed], 'a poller sees every change once, in order');
});

t.test('a writer that dies between logging and materialising a change', async (t) => {
  const { a, b, client, dbName } = await replicas(t);
  await a.put(samplePolicy('org-a'));
  const log = client.db(dbName).collection<ChangeDoc>('policies_changes');
  const orphan = samplePolicy('org-a', { grant: ['orphan:write'] });

  // Logged just now, not yet in `policies`: a write in flight.
  const inFlight: ChangeDoc = {
    _id: 2, key: 'org-a', version: 2, namespace: 'org', ordinal: null, disabled: false, format: 'json',
    text: orphan.text, doc: JSON.stringify(orphan.document), etag: etagOf('json', orphan.text),
    updatedAt: new Date(), deleted: false, applied: false,
  };
  await log.insertOne(inFlight);
  const snap = await b.loadAll();
  t.equal(snap.revision, '2');
  t.equal(snap.records.find((r) => r.key === 'org-a')?.etag, inFlight.etag, 'loadAll includes a logged change not yet materialised');
  const polled = await b.changesSince('1');
  t.same(polled !== 'reset' && polled.events.map((e) => e.revision), ['2'], 'and pollers see it');
  const old = (await a.get('org-a'))?.etag;
  await t.rejects(a.put(samplePolicy('org-a', { grant: ['x:y'] }), { ifMatch: old }), StoreConflictError,
    'an If-Match writer from the old version loses to it');

  // The same change, long abandoned: the next load (or write) finishes it.
  await log.updateOne({ _id: 2 }, { $set: { updatedAt: new Date(Date.now() - 60_000) } });
  await b.loadAll();
  t.equal((await a.get('org-a'))?.etag, inFlight.etag, 'loadAll materialised the abandoned change');
  t.equal((await log.findOne({ _id: 2 }))?.applied, true);
  const next = await a.put(samplePolicy('org-a', { grant: ['after:orphan'] }), { ifMatch: etagOf('json', orphan.text) });
  t.equal(next.revision, '3');

  // A change left unapplied although newer ones were written after it: finishing it late
  // must not roll the key back.
  await a.put(samplePolicy('org-b', { grant: ['b:1'] }));
  const newest = await a.put(samplePolicy('org-b', { grant: ['b:2'] }));
  await log.updateOne({ key: 'org-b', version: 1 }, { $set: { applied: false, updatedAt: new Date(Date.now() - 60_000) } });
  t.equal((await b.loadAll()).records.find((r) => r.key === 'org-b')?.etag, newest.record.etag, 'loadAll keeps the newer version');
  t.equal((await a.get('org-b'))?.etag, newest.record.etag, 'and so does the policies collection');
  t.equal((await log.findOne({ key: 'org-b', version: 1 }))?.applied, true, 'the old change is marked done');
});

t.test('changesSince answers reset when it cannot replay', async (t) => {
  const { a, client, dbName } = await replicas(t);
  const put = await a.put(samplePolicy('org-a'));
  t.equal(await a.changesSince(''), 'reset');
  t.equal(await a.changesSince('-1'), 'reset');
  t.equal(await a.changesSince('1.5'), 'reset');
  await client.db(dbName).collection('policies_changes').drop();
  await client.db(dbName).collection('policies').drop();
  t.equal(await a.changesSince(put.revision), 'reset', 'the log is behind the caller (dropped or restored)');
});

t.test('the change log is pruned; a poller left behind is told to reload', async (t) => {
  const { url, client, dbName } = await testMongo(t);
  const store = new MongoStore({ url, changeRetentionMs: 0 });
  t.teardown(() => store.close());
  await store.open();
  for (let i = 0; i < 5; i++) await store.put(samplePolicy(`org-k${i}`));
  const last = await store.put(samplePolicy('org-last'));
  await new Promise((r) => setTimeout(r, 5));
  const del = await store.delete('org-k0');
  const log = await client.db(dbName).collection<ChangeDoc>('policies_changes').find().toArray();
  t.same(log.map((c) => c._id), [7], 'only the newest change stays');
  t.equal(await store.changesSince('1'), 'reset', 'a poller behind the log reloads');
  const changes = await store.changesSince(last.revision);
  t.same(changes !== 'reset' && changes.events.map((e) => e.revision), [del !== false ? del.revision : ''], 'one just behind still replays');
  const snap = await store.loadAll();
  t.equal(snap.records.length, 5);
  t.equal(snap.revision, '7');
  t.equal((await store.put(samplePolicy('org-next'))).revision, '8', 'and the sequence carries on');
});

t.test('change hints: never crash, quiet where there are no change streams', async (t) => {
  const { a, b, client } = await replicas(t);
  // Change streams exist only on a replica set (or sharded cluster); FerretDB and a
  // standalone server have none, and the store must then stay quiet, not crash.
  const hello = (await client.db('admin').command({ hello: 1 })) as { setName?: string; msg?: string };
  const streams = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
  let hints = 0;
  const stop = b.onChangeHint(() => hints++);
  await a.put(samplePolicy('org-a'));
  const seen = await waitUntil(() => hints > 0, streams ? 5000 : 500);
  if (streams) t.ok(seen, `a replica set delivers the hint (${hints} seen)`);
  else t.equal(hints, 0, 'no change streams: no hint, and no crash');
  stop();
  stop();
  t.pass('stopping twice is fine');
  const stopLater = b.onChangeHint(() => hints++);
  await b.close();
  stopLater();
  t.type(b.onChangeHint(() => {}), 'function', 'a closed store hands out a no-op');
});

t.test('an unreachable server is StoreUnavailableError, quickly', async (t) => {
  const port = await freePort();
  const store = new MongoStore({ url: `mongodb://127.0.0.1:${port}/nowhere`, serverSelectionTimeoutMS: 300 });
  t.teardown(() => store.close());
  const started = Date.now();
  const failures: unknown[] = [];
  for (const run of [
    () => store.open(), () => store.loadAll(), () => store.put(samplePolicy('org-a')), () => store.get('org-a'),
    () => store.list({ limit: 1 }), () => store.delete('org-a'), () => store.changesSince('0'), () => store.ping(),
  ]) failures.push(await run().then(() => undefined, (e: unknown) => e));
  t.ok(failures.every((e) => e instanceof StoreUnavailableError), 'every operation fails as unavailable');
  t.match((failures[1] as Error).message, /unreachable/);
  t.ok((failures[1] as Error).cause, 'with the driver error as cause');
  t.ok(Date.now() - started < 8000, `within the selection timeouts (${Date.now() - started} ms)`);
});

t.test('a server that is down at start-up, or goes away, is picked up when it is back', async (t) => {
  const port = await freePort();
  const store = new MongoStore({ url: `mongodb://127.0.0.1:${port}/recovery`, serverSelectionTimeoutMS: 300 });
  t.teardown(() => store.close());
  await t.rejects(store.open(), StoreUnavailableError, 'down at start-up');
  await t.rejects(store.loadAll(), StoreUnavailableError);

  const server = await startFerretDB({ port });
  t.teardown(() => server.stop());
  // The first open after the server came up may still time out on a busy machine
  // (300 ms server selection); what matters is that the same store gets there.
  let opened = false;
  for (let i = 0; i < 20 && !opened; i++) opened = await store.open().then(() => true, () => false);
  t.ok(opened, 'the store opens once the server is up');
  const put = await store.put(samplePolicy('org-a'));
  t.same((await store.loadAll()).revision, put.revision, 'works once the server is up');

  await server.stop();
  await t.rejects(store.loadAll(), StoreUnavailableError, 'down again');
  await server.start();
  let snap: Awaited<ReturnType<MongoStore['loadAll']>> | undefined;
  for (let i = 0; i < 20 && snap === undefined; i++) {
    snap = await store.loadAll().catch(() => undefined);
  }
  t.equal(snap?.records[0]?.etag, put.record.etag, 'and back, with its data');
});

t.test('the database comes from the options or the URL', async (t) => {
  t.equal(databaseOfUrl('mongodb://h:1/app?w=majority'), 'app');
  t.equal(databaseOfUrl('mongodb+srv://u:p@c.example.net/my%20db'), 'my db');
  t.equal(databaseOfUrl('mongodb://h:1/'), undefined);
  t.equal(databaseOfUrl('mongodb://a:1,b:2'), undefined);
  t.throws(() => new MongoStore({ url: 'mongodb://127.0.0.1:1/' }), /database/);
  const store = new MongoStore({ url: 'mongodb://127.0.0.1:1/', dbName: 'x' });
  await store.close();
  t.pass('dbName fills in for the URL');
});
