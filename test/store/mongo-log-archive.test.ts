// The MongoDB change logs stay short (src/store/mongo/sequence-log.ts): applied changes
// past the replay window move to `<name>_history`. What must hold: the history within
// the retention is never lost (every version, every batch, exactly once, in order, even
// when a compaction stopped halfway); a replica that fell behind the log reloads and gets
// the right state; one within the window still replays; the archive is pruned past the
// retention. Small windows here (the `compaction` option); FerretDB unless MONGO_URL.
import type { Test } from 'tap';
import t from 'tap';
import { samplePolicy } from '../../src/store/conformance.js';
import { parseTuple } from '../../src/core/relations/tuple.js';
import type { ChangeDoc } from '../../src/store/mongo/mongo-documents.js';
import { MongoRelationStore } from '../../src/store/mongo/mongo-relation-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { testMongo } from '../helpers/mongo.js';

const compaction = { window: 5, minAgeMs: 1000, every: 10 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function policyStores(t: Test, options: { changeRetentionMs?: number } = {}) {
  const { url, client } = await testMongo(t);
  const a = new MongoStore({ url, compaction, ...options });
  const replica = new MongoStore({ url, compaction, ...options });
  t.teardown(async () => {
    await a.close();
    await replica.close();
  });
  await a.open();
  const ids = async (name: string) => (await client.db().collection<ChangeDoc>(name).find().toArray()).map((c) => c._id).sort((x, y) => x - y);
  return { a, replica, ids, db: client.db() };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

t.test('policies: the log keeps the window, the history keeps everything', async (t) => {
  const { a, replica, ids } = await policyStores(t);
  // 24 versions of 3 keys, then (old enough) one more write that compacts.
  for (let i = 0; i < 20; i++) await a.put(samplePolicy(`org-k${i % 3}`, { grant: [`doc:v${i}`] }));
  const stale = await replica.loadAll();
  for (let i = 20; i < 24; i++) await a.put(samplePolicy(`org-k${i % 3}`, { grant: [`doc:v${i}`] }));
  await sleep(compaction.minAgeMs + 100);
  for (let i = 24; i < 31; i++) await a.put(samplePolicy(`org-k${i % 3}`, { grant: [`doc:v${i}`] }));
  const log = await ids('policies_changes');
  t.ok(log.length < 31 && log.includes(31), `the log was compacted and keeps the newest (${log.join(',')})`);
  t.same([...(await ids('policies_history')), ...log].sort((x, y) => x - y), range(1, 31), 'every change is in the log or the archive, once');

  const k0 = await a.keyHistory('org-k0', { limit: 100 });
  t.same(k0.entries.map((e) => Number(e.revision)), range(1, 31).filter((r) => (r - 1) % 3 === 0).reverse(), "a key's whole history, newest first");
  const page = await a.keyHistory('org-k0', { limit: 4 });
  const rest = await a.keyHistory('org-k0', { limit: 100, before: Number(page.next) });
  t.same([...page.entries, ...rest.entries].map((e) => e.revision), k0.entries.map((e) => e.revision), 'and paged across the archive and the log');
  const feed = await a.historySince(0, 100);
  t.same(feed !== 'reset' && feed.entries.map((e) => Number(e.revision)), range(1, 31), 'the feed from the start, without a gap');
  const mid = await a.historySince(20, 7);
  t.same(mid !== 'reset' && mid.entries.map((e) => Number(e.revision)), range(21, 27), 'a page that spans the archive and the log');

  // The replica stopped at revision 20, below what the log keeps: it reloads, and gets A's state.
  t.equal(await replica.changesSince(stale.revision), 'reset', 'a replica behind the log reloads');
  const fresh = await replica.loadAll();
  const mine = await a.loadAll();
  t.equal(fresh.revision, '31');
  t.same(fresh.records.map((r) => [r.key, r.text]).sort(), mine.records.map((r) => [r.key, r.text]).sort(), 'the reload has the current state');
  const near = await replica.changesSince('29');
  t.same(near !== 'reset' && near.events.map((e) => e.revision), ['30', '31'], 'a replica within the window replays');
  t.equal((await a.put(samplePolicy('org-next'))).revision, '32', 'the sequence carries on');
});

t.test('policies: a compaction stopped between archive and delete loses and repeats nothing', async (t) => {
  const { a, ids, db } = await policyStores(t);
  for (let i = 0; i < 12; i++) await a.put(samplePolicy(`org-k${i % 2}`, { grant: [`doc:v${i}`] }));
  // What a crash after the archive insert leaves: the same changes in both collections.
  const copies = await db.collection<ChangeDoc>('policies_changes').find({ _id: { $lte: 6 } }).toArray();
  await db.collection<ChangeDoc>('policies_history').insertMany(copies);
  const feed = await a.historySince(0, 100);
  t.same(feed !== 'reset' && feed.entries.map((e) => Number(e.revision)), range(1, 12), 'the feed has each change once');
  const k0 = await a.keyHistory('org-k0', { limit: 100 });
  t.same(k0.entries.map((e) => Number(e.revision)), [11, 9, 7, 5, 3, 1], 'a key history has each version once');
  await sleep(compaction.minAgeMs + 100);
  for (let i = 12; i < 20; i++) await a.put(samplePolicy(`org-k${i % 2}`, { grant: [`doc:v${i}`] }));
  t.same([...(await ids('policies_history')), ...(await ids('policies_changes'))].sort((x, y) => x - y), range(1, 20), 'the next compaction finishes the move');
});

t.test('policies: the archive is pruned past the retention', async (t) => {
  const { a, ids } = await policyStores(t, { changeRetentionMs: 1500 });
  for (let i = 0; i < 12; i++) await a.put(samplePolicy(`org-k${i % 2}`, { grant: [`doc:v${i}`] }));
  await sleep(1200);
  for (let i = 12; i < 22; i++) await a.put(samplePolicy(`org-k${i % 2}`, { grant: [`doc:v${i}`] }));
  t.ok((await ids('policies_history')).some((id) => id <= 12), 'old changes were archived');
  await sleep(1600);
  for (let i = 22; i < 33; i++) await a.put(samplePolicy(`org-k${i % 2}`, { grant: [`doc:v${i}`] }));
  const kept = [...(await ids('policies_history')), ...(await ids('policies_changes'))];
  t.notOk(kept.some((id) => id <= 12), `changes past the retention are gone from both (${kept.join(',')})`);
  t.ok(kept.includes(33), 'the newest stays');
  t.equal(await a.historySince(0, 100), 'reset', 'a feed cursor from before is told it was pruned');
});

t.test('relationships: compacted log, whole history, a lagging replica reloads', async (t) => {
  const { url, client } = await testMongo(t);
  const a = new MongoRelationStore({ url, compaction });
  const replica = new MongoRelationStore({ url, compaction });
  t.teardown(async () => {
    await a.close();
    await replica.close();
  });
  await a.open();
  const tuple = (i: number) => parseTuple(`doc:d${i % 4}#viewer@user:u${i}`);
  // Each batch adds a tuple and removes the one added 4 batches before.
  const batch = (i: number) => ({ writes: [tuple(i)], deletes: i >= 4 ? [tuple(i - 4)] : [], preconditions: [] });
  for (let i = 0; i < 20; i++) await a.write(batch(i));
  const staleRevision = await replica.revision();
  for (let i = 20; i < 24; i++) await a.write(batch(i));
  await sleep(compaction.minAgeMs + 100);
  for (let i = 24; i < 31; i++) await a.write(batch(i));
  const ids = async (name: string) => (await client.db().collection<ChangeDoc>(name).find().toArray()).map((c) => c._id as unknown as number);
  const log = await ids('relationships_changes');
  t.ok(log.length < 31 && log.includes(31), `the log was compacted (${log.join(',')})`);
  const feed = await a.relationHistorySince(0, 100);
  t.same(feed !== 'reset' && feed.entries.map((e) => Number(e.revision)), range(1, 31), 'the history has every batch, in order');
  t.equal(await replica.changesSince(staleRevision), 'reset', 'a replica behind the log reloads');
  const snap = await replica.loadAll();
  t.equal(snap.revision, '31');
  t.same(snap.tuples.map((x) => x.subject.id).sort(), ['u27', 'u28', 'u29', 'u30'], 'and gets exactly the live tuples');
  const near = await replica.changesSince('30');
  t.same(near !== 'reset' && near.changes.map((c) => c.revision), ['31'], 'a replica within the window replays');
});
