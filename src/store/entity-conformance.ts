// The one behaviour suite every directory store runs (memory, file and MongoDB), so the
// in-memory store cannot drift from the real ones. A store's test file calls
// `entityStoreConformance(t, name, make)`; each subtest gets a fresh, unopened store.

import type { Test } from 'tap';
import { entityEtag, type EntityData } from '../core/entities/entity.js';
import { StoreUnavailableError } from './store.js';
import { EntityConflictError, type EntityStore } from './entity-store.js';

export type MakeEntityStore = () => Promise<{ store: EntityStore; cleanup(): Promise<void> }>;

const E = (roles: string[] = [], attributes: Record<string, unknown> = {}, groups: string[] = []): EntityData => ({ roles, groups, attributes });

async function refs(store: EntityStore): Promise<string[]> {
  return (await store.loadAll()).entities.map((e) => e.ref).sort();
}

export function entityStoreConformance(t: Test, name: string, make: MakeEntityStore): void {
  const withStore = (title: string, body: (t: Test, store: EntityStore) => Promise<void>) =>
    t.test(`${name}: ${title}`, async (t) => {
      const { store, cleanup } = await make();
      t.teardown(async () => {
        await store.close();
        await cleanup();
      });
      await store.open();
      await body(t, store);
    });

  withStore('an empty store', async (t, store) => {
    t.equal(await store.revision(), '0');
    t.same(await store.loadAll(), { entities: [], revision: '0' });
    t.equal(await store.get('user:alice'), undefined);
    t.same(await store.list({ limit: 10 }), { entities: [] });
    t.equal(await store.delete('user:alice'), false, 'deleting what is not there writes nothing');
    t.equal(await store.revision(), '0');
  });

  withStore('put, get, replace, delete: each a new revision, etags follow', async (t, store) => {
    const a = await store.put('user:alice', E(['admin'], { email: 'a@x', 'mfa.verified': true, nested: { k: [1, 2] } }, ['eng']));
    t.equal(a.created, true);
    t.equal(a.entity.revision, '1');
    const got = await store.get('user:alice');
    t.same(got && { ref: got.ref, roles: got.roles, groups: got.groups, attributes: got.attributes, revision: got.revision },
      { ref: 'user:alice', roles: ['admin'], groups: ['eng'], attributes: { email: 'a@x', 'mfa.verified': true, nested: { k: [1, 2] } }, revision: '1' },
      'attributes come back exactly, dotted names included');
    t.ok(!Number.isNaN(Date.parse(got!.updatedAt)));
    const b = await store.put('user:alice', E(['viewer']));
    t.equal(b.created, false);
    t.equal(b.entity.revision, '2');
    t.same((await store.get('user:alice'))?.roles, ['viewer'], 'a put replaces the whole entity');
    t.same((await store.get('user:alice'))?.attributes, {});
    t.same(await store.delete('user:alice'), { revision: '3' });
    t.equal(await store.get('user:alice'), undefined);
    t.equal(await store.revision(), '3');
    const again = await store.put('user:alice', E(['x']));
    t.equal(again.created, true, 'a deleted ref is created anew');
    t.equal(again.entity.revision, '4');
  });

  withStore('If-Match and If-None-Match: a stale or missing version writes nothing', async (t, store) => {
    await store.put('record:101', E([], { owner: 'alice' }));
    const etag = entityEtag('1');
    await t.rejects(store.put('record:101', E(), { ifNoneMatch: true }), EntityConflictError, 'If-None-Match: * on an existing ref');
    await t.rejects(store.put('record:101', E(), { ifMatch: '"e7"' }), EntityConflictError, 'a stale etag');
    await t.rejects(store.put('record:102', E(), { ifMatch: '*' }), EntityConflictError, 'If-Match on a missing ref');
    await t.rejects(store.delete('record:101', { ifMatch: '"e9"' }), EntityConflictError);
    t.equal(await store.revision(), '1', 'no refused write made a revision');
    t.same((await store.get('record:101'))?.attributes, { owner: 'alice' });
    const ok = await store.put('record:101', E([], { owner: 'bob' }), { ifMatch: `W/${etag}` });
    t.equal(ok.entity.revision, '2', 'a weak form of the current etag matches');
    t.ok(await store.delete('record:101', { ifMatch: entityEtag('2') }));
    const created = await store.put('record:103', E(), { ifNoneMatch: true });
    t.equal(created.created, true);
  });

  withStore('import: one revision for all, created and replaced counted', async (t, store) => {
    await store.put('user:alice', E(['a']));
    const r = await store.import([
      { ref: 'user:alice', entity: E(['b']) },
      { ref: 'user:bob', entity: E(['c'], { team: 'x' }) },
      { ref: 'record:1', entity: E([], { owner: 'bob' }) },
    ]);
    t.same(r, { revision: '2', created: 2, replaced: 1 });
    t.same(await refs(store), ['record:1', 'user:alice', 'user:bob']);
    t.same((await store.get('user:alice'))?.roles, ['b']);
    for (const ref of ['record:1', 'user:alice', 'user:bob']) t.equal((await store.get(ref))?.revision, '2');
  });

  withStore('list: ref order, a type filter, cursors that never repeat or skip', async (t, store) => {
    const all = ['user:a', 'user:b', 'user:c', 'userx:z', 'record:1', 'record:10', 'record:2', 'user:é'];
    await store.import(all.map((ref) => ({ ref, entity: E() })));
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.list({ limit: 3, ...(after !== undefined ? { after } : {}) });
      seen.push(...page.entities.map((e) => e.ref));
      if (page.next === undefined) break;
      after = page.next;
    }
    t.same(seen, [...all].sort(), 'every ref once, in code-unit order');
    const users = await store.list({ type: 'user', limit: 10 });
    t.same(users.entities.map((e) => e.ref), ['user:a', 'user:b', 'user:c', 'user:é'], 'the type is exact: userx is another type');
    t.equal(users.next, undefined);
    const full = await store.list({ type: 'record', limit: 3 });
    t.equal(full.next, undefined, 'a full last page says there is no more');
    await store.delete('user:b');
    t.same((await store.list({ type: 'user', limit: 10 })).entities.map((e) => e.ref), ['user:a', 'user:c', 'user:é'], 'deleted refs are not listed');
  });

  withStore('changesSince replays every change in order', async (t, store) => {
    await store.put('user:a', E(['r1']));
    await store.import([{ ref: 'user:b', entity: E() }, { ref: 'user:c', entity: E() }]);
    await store.delete('user:a');
    const c = await store.changesSince('0');
    if (c === 'reset') {
      t.fail('reset');
      return;
    }
    t.equal(c.revision, '3');
    t.same(c.changes.map((x) => [x.revision, x.puts.map((p) => p.ref), x.deletes]), [['1', ['user:a'], []], ['2', ['user:b', 'user:c'], []], ['3', [], ['user:a']]]);
    t.same(c.changes[0]!.puts[0]!.entity.roles, ['r1']);
    const later = await store.changesSince('2');
    t.same(later !== 'reset' && later.changes.map((x) => x.revision), ['3']);
    t.same(await store.changesSince('3'), { changes: [], revision: '3' });
    t.equal(await store.changesSince('99'), 'reset', 'a revision beyond the store is a reset');
    t.equal(await store.changesSince('x'), 'reset');
  });

  withStore('a closed store refuses instead of answering', async (t, store) => {
    await store.put('user:a', E());
    await store.close();
    await t.rejects(store.get('user:a'), StoreUnavailableError);
    await t.rejects(store.put('user:b', E()), StoreUnavailableError);
    await t.rejects(store.loadAll(), StoreUnavailableError);
  });
}
