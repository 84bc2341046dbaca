// The directory store conformance suite on every store: memory (STORE=none and the
// reference), the file journal (STORE=file) and MongoDB (FerretDB unless MONGO_URL names
// another server). What only one store does follows each.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { entityStoreConformance } from '../../src/store/entity-conformance.js';
import { MemoryEntityStore } from '../../src/store/memory/memory-entity-store.js';
import { FileEntityStore } from '../../src/store/file/file-entity-store.js';
import { MongoEntityStore } from '../../src/store/mongo/mongo-entity-store.js';
import { testMongo } from '../helpers/mongo.js';

const E = (roles: string[] = [], attributes: Record<string, unknown> = {}) => ({ roles, groups: [], attributes });

const shared = await testMongo(t);

entityStoreConformance(t, 'memory', async () => ({ store: new MemoryEntityStore(), cleanup: async () => {} }));

const tempDir = () => mkdtempSync(join(tmpdir(), 'pe-ent-file-'));
entityStoreConformance(t, 'file', async () => {
  const dir = tempDir();
  return { store: new FileEntityStore({ dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

entityStoreConformance(t, 'mongo', async () => {
  const collection = `ent_${randomBytes(4).toString('hex')}`;
  const db = shared.client.db(shared.dbName);
  return {
    store: new MongoEntityStore({ url: shared.url, collection }),
    cleanup: async () => {
      for (const c of [collection, `${collection}_changes`]) await db.collection(c).drop().catch(() => {});
    },
  };
});

t.test('file: acknowledged writes survive a restart, compaction included', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const first = new FileEntityStore({ dir, compactEvery: 3 });
  await first.open();
  for (let i = 0; i < 7; i++) await first.put(`user:u${i}`, E([`r${i}`]));
  await first.delete('user:u0');
  await first.close();
  const second = new FileEntityStore({ dir, compactEvery: 3 });
  await second.open();
  t.teardown(() => second.close());
  t.equal(await second.revision(), '8');
  t.same((await second.loadAll()).entities.map((e) => e.ref).sort(), ['user:u1', 'user:u2', 'user:u3', 'user:u4', 'user:u5', 'user:u6']);
  t.same((await second.get('user:u6'))?.roles, ['r6']);
});

t.test('mongo: two replicas: one writes, the other sees it through changesSince and loadAll; a racing If-Match loses', async (t) => {
  const collection = `ent_${randomBytes(4).toString('hex')}`;
  const a = new MongoEntityStore({ url: shared.url, collection });
  const b = new MongoEntityStore({ url: shared.url, collection });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.open();
  await b.open();
  const w = await a.put('user:alice', E(['admin']));
  const c = await b.changesSince('0');
  t.same(c !== 'reset' && c.changes.map((x) => [x.revision, x.puts.map((p) => p.ref)]), [[w.entity.revision, ['user:alice']]]);
  t.same((await b.loadAll()).entities.map((e) => e.ref), ['user:alice']);
  const etag = `"e${w.entity.revision}"`;
  const results = await Promise.allSettled([a.put('user:alice', E(['x']), { ifMatch: etag }), b.put('user:alice', E(['y']), { ifMatch: etag })]);
  t.same(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'], 'exactly one of two writers from the same version wins');
  t.equal(await a.revision(), '2');
});

t.test('mongo: a change whose writer died before copying it counts for get and preconditions, and is finished by a load', async (t) => {
  const collection = `ent_${randomBytes(4).toString('hex')}`;
  const store = new MongoEntityStore({ url: shared.url, collection });
  t.teardown(() => store.close());
  await store.open();
  await store.put('user:alice', E(['a']));
  const changes = shared.client.db(shared.dbName).collection(`${collection}_changes`);
  await changes.insertOne({
    _id: 2 as never, puts: [{ ref: 'user:bob', roles: ['b'], groups: [], attributes: '{"k":1}' }], deletes: ['user:alice'], refs: ['user:bob', 'user:alice'],
    applied: false, at: new Date(Date.now() - 60_000),
  });
  t.same((await store.list({ limit: 10 })).entities.map((e) => e.ref), ['user:alice'], 'the copy has not seen it');
  t.equal(await store.get('user:alice'), undefined, 'get sees the logged delete');
  t.same((await store.get('user:bob'))?.attributes, { k: 1 });
  await t.rejects(store.put('user:alice', E(), { ifMatch: '"e1"' }), { name: 'EntityConflictError' });
  t.same((await store.loadAll()).entities.map((e) => e.ref), ['user:bob']);
  t.same((await store.list({ limit: 10 })).entities.map((e) => e.ref), ['user:bob'], 'the load finished the copy');
});
