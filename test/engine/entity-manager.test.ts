// The directory in memory: refuses before its first load (a decision must not go without
// it), follows its store, tells listeners exactly which refs changed (a full reload: only
// those whose version differs), and pages by type for searches.
import t from 'tap';
import { pino } from 'pino';
import { EntityManager } from '../../src/engine/entity-manager.js';
import { MemoryEntityStore } from '../../src/store/memory/memory-entity-store.js';
import { PolicyEngineError } from '../../src/errors.js';

const E = (roles: string[] = []) => ({ roles, groups: [], attributes: {} });
const logger = pino({ level: 'silent' });

t.test('NOT_READY before the first load; then answers from memory', async (t) => {
  const store = new MemoryEntityStore();
  await store.put('user:a', E(['r']));
  const m = new EntityManager({ store, pollIntervalMs: 60_000, logger });
  t.throws(() => m.get('user:a'), { code: 'NOT_READY' });
  t.throws(() => m.page({ limit: 10 }), PolicyEngineError);
  await m.start();
  t.teardown(() => m.stop());
  t.same(m.get('user:a')?.roles, ['r']);
  t.equal(m.get('user:b'), undefined);
  t.match(m.status(), { loaded: true, revision: '1', entities: 1 });
});

t.test('changes: listeners hear exactly the refs touched', async (t) => {
  const store = new MemoryEntityStore();
  await store.import([{ ref: 'user:a', entity: E() }, { ref: 'user:b', entity: E() }, { ref: 'doc:1', entity: E() }]);
  const m = new EntityManager({ store, pollIntervalMs: 60_000, logger });
  await m.start();
  t.teardown(() => m.stop());
  const heard: string[][] = [];
  m.onChange((refs) => heard.push([...refs].sort()));
  await store.put('user:a', E(['x']));
  await store.delete('doc:1');
  await m.sync();
  t.same(heard, [['doc:1', 'user:a']]);
  t.same(m.get('user:a')?.roles, ['x']);
  t.equal(m.get('doc:1'), undefined);
  t.same(m.page({ type: 'user', limit: 1 }), { entities: [m.get('user:a')], next: 'user:a' });
  t.same(m.page({ type: 'user', limit: 1, after: 'user:a' }).entities.map((e) => e.ref), ['user:b']);
});
