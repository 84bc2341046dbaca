// The relation manager: replicas of one store follow each other by polling, `atLeast`
// waits for a revision (boundedly), `fullyConsistent` syncs first; and the shared sync
// loop keeps it going through a store outage (the last state answers meanwhile, the
// status says why, and it catches up by itself).

import t from 'tap';
import { pino } from 'pino';
import { parseObject, parseSubject, parseTuple } from '../../src/core/relations/tuple.js';
import { RelationManager } from '../../src/engine/relation-manager.js';
import { MemoryRelationStore } from '../../src/store/memory/memory-relation-store.js';
import type { RelationStore } from '../../src/store/relation-store.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { exampleSchema, exampleTuples } from '../helpers/relations-example.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('manager: a second replica follows by polling; atLeast waits, fullyConsistent syncs', async (t) => {
  const store = new MemoryRelationStore();
  const logger = pino({ level: 'silent' });
  const a = new RelationManager({ store, pollIntervalMs: 60_000, logger, maxWaitMs: 300 });
  const b = new RelationManager({ store, pollIntervalMs: 60_000, logger, maxWaitMs: 300 });
  t.teardown(() => {
    a.stop();
    b.stop();
  });
  await a.start();
  await b.start();
  await store.putSchema(exampleSchema, 'yaml');
  const { revision } = await store.write({ writes: exampleTuples.map(parseTuple), deletes: [], preconditions: [] });
  t.equal(b.revision, '0', 'b has not polled yet');
  await b.waitFor(Number(revision));
  t.equal(b.revision, revision, 'atLeast: b caught up before answering');
  t.ok(b.engine.check(parseObject('document:draft'), 'read', parseSubject('user:alice')).allowed);
  await store.write({ writes: [], deletes: [parseTuple('document:specs#parent@document:root')], preconditions: [] });
  await a.syncNow();
  t.notOk(a.engine.check(parseObject('document:draft'), 'read', parseSubject('user:alice')).allowed, 'fullyConsistent: a synced first');
  await t.rejects(a.waitFor(Number(revision) + 100), { code: 'RELATIONS_STALE' }, 'a revision never reached: a bounded wait, then 503');
});

t.test('manager: through an outage it answers from the last state, reports it, and catches up by polling', async (t) => {
  const inner = new MemoryRelationStore();
  let down = false;
  let reads = 0;
  // The real memory store, with its reads failing while `down` (as an unreachable database's would).
  const store: RelationStore = Object.assign(Object.create(inner) as RelationStore, {
    loadAll: async () => {
      reads++;
      if (down) throw new StoreUnavailableError('the database is down');
      return inner.loadAll();
    },
    changesSince: async (revision: string) => {
      reads++;
      if (down) throw new StoreUnavailableError('the database is down');
      return inner.changesSince(revision);
    },
  });
  const lines: string[] = [];
  const logger = { info: (_: object, m?: string) => lines.push(`info ${m}`), warn: () => {}, error: (_: object, m?: string) => lines.push(`error ${m}`) };
  const m = new RelationManager({ store, pollIntervalMs: 20, logger, maxWaitMs: 200 });
  t.teardown(() => m.stop());
  await inner.putSchema(exampleSchema, 'yaml');
  await inner.write({ writes: exampleTuples.map(parseTuple), deletes: [], preconditions: [] });
  await m.start();
  t.ok(m.engine.check(parseObject('document:draft'), 'read', parseSubject('user:alice')).allowed, 'loaded');

  down = true;
  const { revision } = await inner.write({ writes: [], deletes: [parseTuple('document:specs#parent@document:root')], preconditions: [] });
  await sleep(300);
  t.match(m.status(), { loaded: true, lastError: /database is down/ }, 'the status says why it is behind');
  t.ok(m.engine.check(parseObject('document:draft'), 'read', parseSubject('user:alice')).allowed, 'the last state still answers');
  await t.rejects(m.syncNow(), { code: 'STORE_UNAVAILABLE' }, 'fullyConsistent cannot be met: 503');
  await t.rejects(m.waitFor(Number(revision)), { code: 'RELATIONS_STALE' }, 'atLeast a newer revision: a bounded wait, then 503');
  // 300 ms at a 20 ms interval would be ~15 polls; backing off (20, 40, 80, 80 … ms) makes fewer.
  const during = reads;
  await sleep(400);
  t.ok(reads - during <= 8, `backs off while failing (${reads - during} reads in 400 ms at a 20 ms interval)`);
  t.equal(lines.filter((l) => l.startsWith('error')).length, 1, 'the failure is logged once, not per poll');

  down = false;
  const deadline = Date.now() + 2000;
  while (m.revision !== revision && Date.now() < deadline) await sleep(10);
  t.equal(m.revision, revision, 'caught up by itself');
  t.notOk(m.status().lastError, 'and the status is clear again');
  t.notOk(m.engine.check(parseObject('document:draft'), 'read', parseSubject('user:alice')).allowed, 'with the change applied');
  t.ok(lines.includes('info relationship store reachable again'), 'recovery is logged');
});
