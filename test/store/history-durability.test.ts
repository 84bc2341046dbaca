// The change history on the real stores (shared FerretDB, real files): every write path
// leaves exactly one history entry — none for a refused or empty write — also under
// concurrent If-Match writers, and a process killed between recording a change and
// applying it leaves the change and its entry both (all-or-nothing, never one alone).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { samplePolicy } from '../../src/store/conformance.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { STALE_CHANGE_MS } from '../../src/store/mongo/change-log.js';
import { StoreConflictError, type PolicyStore } from '../../src/store/store.js';
import type { PolicyChange, PolicyHistory } from '../../src/store/history.js';
import { MemoryRelationStore } from '../../src/store/memory/memory-relation-store.js';
import { FileRelationStore } from '../../src/store/file/file-relation-store.js';
import { MongoRelationStore } from '../../src/store/mongo/mongo-relation-store.js';
import type { RelationStore } from '../../src/store/relation-store.js';
import type { RelationsHistory } from '../../src/store/history.js';
import { parseTuple } from '../../src/core/relations/tuple.js';
import { testMongo } from '../helpers/mongo.js';

type HistoryStore = PolicyStore & PolicyHistory;

interface Kind {
  name: 'mongo' | 'file';
  /** a new store over the same place (another replica, or the same process after a restart) */
  open(t: Test): Promise<{ store: () => Promise<HistoryStore>; location: string; db: string }>;
}

const HERE = new URL('.', import.meta.url).pathname;

const kinds: Kind[] = [
  {
    name: 'mongo',
    async open(t) {
      const mongo = await testMongo(t);
      return {
        location: mongo.url, db: mongo.dbName,
        store: async () => {
          const s = new MongoStore({ url: mongo.url, dbName: mongo.dbName });
          await s.open();
          t.teardown(() => s.close());
          return s;
        },
      };
    },
  },
  {
    name: 'file',
    async open(t) {
      const dir = await mkdtemp(join(tmpdir(), 'pe-history-'));
      t.teardown(() => rm(dir, { recursive: true, force: true }));
      return {
        location: dir, db: '-',
        store: async () => {
          const s = new FileStore({ dir });
          await s.open();
          t.teardown(() => s.close());
          return s;
        },
      };
    },
  },
];

async function allEntries(store: PolicyHistory): Promise<PolicyChange[]> {
  const r = await store.historySince(0, 500);
  if (r === 'reset') throw new Error('history reset');
  return r.entries;
}

function runChild(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'fixtures', 'history-crash.child.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
}

for (const kind of kinds) {
  t.test(`${kind.name}: every write path leaves exactly one entry`, async (t) => {
    const { store: open } = await kind.open(t);
    const store = await open();
    const created = await store.put(samplePolicy('global-a'), { actor: 'alice' });
    await store.put(samplePolicy('global-a', { grant: ['document:write'] }), { actor: 'bob', ifMatch: created.record.etag });
    await t.rejects(store.put(samplePolicy('global-a', { grant: ['x:y'] }), { actor: 'mallory', ifMatch: created.record.etag }), StoreConflictError);
    await t.rejects(store.put(samplePolicy('global-a', { grant: ['x:y'] }), { actor: 'mallory', ifNoneMatch: true }), StoreConflictError);
    await store.putMany([samplePolicy('global-b'), samplePolicy('global-c', { format: 'yaml' })], { actor: 'importer' });
    t.ok(await store.delete('global-b', { actor: 'carol' }));
    t.equal(await store.delete('global-missing', { actor: 'carol' }), false);
    const entries = await allEntries(store);
    t.same(entries.map((e) => [e.key, e.op, e.actor]), [
      ['global-a', 'put', 'alice'], ['global-a', 'put', 'bob'], ['global-b', 'put', 'importer'], ['global-c', 'put', 'importer'], ['global-b', 'delete', 'carol'],
    ], 'one entry per write that happened, none for refused ones');
    t.equal(entries[1]!.before?.etag, created.record.etag, 'before is the version replaced');
    t.equal(new Set(entries.map((e) => e.revision)).size, entries.length, 'revisions are unique');
    const a = await store.keyHistory('global-a', { limit: 10 });
    t.same(a.entries.map((e) => e.actor), ['bob', 'alice'], 'a key reads newest first');

    // Read back by another instance (another replica, or after a restart).
    if (kind.name === 'file') await store.close();
    const again = await open();
    t.same((await allEntries(again)).map((e) => e.revision), entries.map((e) => e.revision), 'the history survives a restart');
  });

  t.test(`${kind.name}: concurrent If-Match writers: one wins, one entry`, async (t) => {
    const { store: open } = await kind.open(t);
    // MongoDB: two replicas racing; file: one process (one writer owns a directory).
    const a = await open();
    const b = kind.name === 'mongo' ? await open() : a;
    const base = await a.put(samplePolicy('global-race'), { actor: 'setup' });
    const writers = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).put(samplePolicy('global-race', { grant: [`w:${i}`] }), { actor: `w${i}`, ifMatch: base.record.etag }));
    const results = await Promise.allSettled(writers);
    const won = results.filter((r) => r.status === 'fulfilled');
    t.equal(won.length, 1, 'exactly one writer wins');
    t.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof StoreConflictError), 'the others get a conflict');
    const entries = (await allEntries(a)).filter((e) => e.key === 'global-race');
    t.equal(entries.length, 2, 'the setup write and the winner, nothing else');
    const winner = (won[0] as PromiseFulfilledResult<{ record: { etag: string } }>).value;
    t.equal(entries[1]!.after?.etag, winner.record.etag, "the entry is the winner's");
    t.equal(entries[1]!.before?.etag, base.record.etag);
  });

  for (const op of ['put', 'delete'] as const) {
    t.test(`${kind.name}: a process killed between recording and applying a ${op}`, async (t) => {
      const { store: open, location, db } = await kind.open(t);
      const first = await open();
      const v1 = await first.put(samplePolicy('global-crash'), { actor: 'setup' });
      await first.close();
      const child = await runChild([kind.name, location, db, op, 'global-crash', 'document:crashed']);
      t.equal(child.signal, 'SIGKILL', `the child died at the hook (${child.code ?? ''} ${child.stderr.slice(-500)})`);
      const store = await open();
      const entries = (await allEntries(store)).filter((e) => e.key === 'global-crash');
      t.equal(entries.length, 2, 'the change recorded before the crash is there, once');
      t.equal(entries[1]!.actor, 'crasher');
      t.equal(entries[1]!.before?.etag, v1.record.etag);
      // The change itself is there too: the loaded state (what the engine serves) has it.
      const snap = await store.loadAll();
      const rec = snap.records.find((r) => r.key === 'global-crash');
      if (op === 'put') {
        t.match(rec?.text, /document:crashed/, 'the interrupted put is applied');
        t.equal(rec?.etag, entries[1]!.after?.etag);
      } else t.equal(rec, undefined, 'the interrupted delete is applied');
      // A later write continues from it, and is recorded once more. (MongoDB: a change left
      // unapplied counts as abandoned after STALE_CHANGE_MS; until then its key waits.)
      if (kind.name === 'mongo') await new Promise((r) => setTimeout(r, STALE_CHANGE_MS + 300));
      await store.put(samplePolicy('global-crash', { grant: ['after:crash'] }), { actor: 'later' });
      t.same((await allEntries(store)).filter((e) => e.key === 'global-crash').map((e) => e.actor), ['setup', 'crasher', 'later']);
    });
  }
}

// Relationship batches and schema writes: one entry each, with the actor, on every store.
const relationKinds: Array<[string, (t: Test) => Promise<RelationStore & RelationsHistory>]> = [
  ['memory', async () => new MemoryRelationStore()],
  ['file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pe-rel-history-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    return new FileRelationStore({ dir });
  }],
  ['mongo', async (t) => {
    const mongo = await testMongo(t);
    return new MongoRelationStore({ url: mongo.url, dbName: mongo.dbName });
  }],
];

for (const [name, make] of relationKinds) {
  t.test(`${name} relationships: one entry per batch and schema write`, async (t) => {
    const store = await make(t);
    await store.open();
    t.teardown(() => store.close());
    await store.putSchema('user: {}\n', 'yaml', { actor: 'schema-v1' });
    await store.putSchema('user: {}\ndocument: {}\n', 'yaml', { actor: 'schema-v2' });
    await store.write({ writes: [parseTuple('document:d#owner@user:a'), parseTuple('document:d#owner@user:b')], deletes: [], preconditions: [] }, { actor: 'batcher' });
    await t.rejects(store.write({ writes: [parseTuple('document:e#owner@user:a')], deletes: [], preconditions: [{ mustExist: parseTuple('document:zz#owner@user:q') }] }, { actor: 'refused' }));
    const r = await store.relationHistorySince(0, 100);
    if (r === 'reset') throw new Error('reset');
    t.same(r.entries.map((e) => e.actor), ['schema-v1', 'schema-v2', 'batcher'], 'refused batches leave nothing');
    t.equal(r.entries[0]!.schema?.before, null);
    t.equal(r.entries[1]!.schema?.before?.text, 'user: {}\n', 'a schema write records the schema it replaced');
    t.same(r.entries[2]!.writes, ['document:d#owner@user:a', 'document:d#owner@user:b'], 'a batch is one entry');
  });
}
