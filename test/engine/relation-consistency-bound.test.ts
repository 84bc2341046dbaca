// Issue 16 item 12, over real HTTP on the file store and on MongoDB (FerretDB): a
// `consistency.atLeast` far beyond anything written answers at once (503
// RELATIONS_STALE, as documented for a revision this replica cannot reach), instead of
// polling the store for 2 s; and many such requests at once cost the store a bounded
// number of reads (forced syncs are shared and rate-limited), not one poll loop each.

import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { httpSender, type Send } from '../helpers/http.js';
import { testMongo } from '../helpers/mongo.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import type { RelationStore } from '../../src/store/relation-store.js';
import { exampleSchema, exampleTuples } from '../helpers/relations-example.js';

/** Count the store reads a sync or a revision probe makes (the real store, observed). */
function countReads(store: RelationStore): () => number {
  let n = 0;
  const s = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const m of ['loadAll', 'changesSince', 'revision'] as const) {
    const original = s[m]!.bind(store);
    s[m] = (...args: unknown[]) => {
      n++;
      return original(...args);
    };
  }
  return () => n;
}

async function suite(t: Test, send: Send, store: RelationStore): Promise<void> {
  const schema = await send({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema });
  t.equal(schema.status, 200, schema.body);
  const write = await send({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } });
  t.equal(write.status, 200, write.body);
  const revision = Number(write.json().revision);
  const check = (atLeast: number) => send({
    method: 'POST', url: '/v1/relations/check',
    payload: { resource: 'document:draft', permission: 'read', subject: 'user:alice', consistency: { atLeast: String(atLeast) } },
  });

  const ok = await check(revision);
  t.same([ok.status, ok.json().allowed], [200, true], 'a revision a write returned: answered');

  const reads = countReads(store);
  const start = performance.now();
  const future = await check(revision + 1_000_000);
  const ms = performance.now() - start;
  t.same([future.status, future.json().code], [503, 'RELATIONS_STALE'], future.body);
  t.match(future.json().details, { revision: String(revision + 1_000_000), storeRevision: String(revision) }, 'the answer says the store has not made it');
  // The old code polled for the whole 2 s wait; well under it is enough on a busy machine.
  t.ok(ms < 1000, `answered in ${ms.toFixed(0)} ms, not after a 2 s wait`);
  t.ok(reads() <= 2, `one sync and one revision read (${reads()})`);

  const N = 50;
  const before = reads();
  const burst = performance.now();
  const replies = await Promise.all(Array.from({ length: N }, (_, i) => check(revision + 1_000_000 + i)));
  const burstMs = performance.now() - burst;
  t.ok(replies.every((r) => r.status === 503 && r.json().code === 'RELATIONS_STALE'), `all ${N}: 503 RELATIONS_STALE`);
  const used = reads() - before;
  // Each kind of read (a sync, the store's revision) starts at most once per 20 ms, one at
  // a time, shared by every request waiting: requests arriving over the burst share them.
  const bound = 2 * (2 + Math.ceil(burstMs / 20));
  t.ok(used <= bound, `${N} concurrent requests: ${used} store reads (bound ${bound}: shared and rate-limited)`);
  t.ok(used < N, `fewer store reads than requests (${used} < ${N})`);
  t.comment(`atLeast = current + 10^6: one request ${ms.toFixed(0)} ms; ${N} at once ${burstMs.toFixed(0)} ms, ${used} store reads`);

  const after = await check(revision);
  t.same([after.status, after.json().allowed], [200, true], 'and the replica answers as before');
}

// Polling far apart, so every store read counted is one a request forced.
const env = { POLL_INTERVAL_MS: '60000' };

t.test('file store, real HTTP', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pe-consistency-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { app, services } = await testApp(t, { store: new FileStore({ dir }), env });
  await suite(t, await httpSender(app), services.relations!.manager.store);
});

t.test('MongoDB store (FerretDB), real HTTP', async (t) => {
  const { url } = await testMongo(t);
  const { app, services } = await testApp(t, { store: new MongoStore({ url }), env: { ...env, MONGO_URL: url } });
  t.equal(services.relations!.manager.store.kind, 'mongo');
  await suite(t, await httpSender(app), services.relations!.manager.store);
});
