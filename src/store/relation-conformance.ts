// The one behaviour suite every relationship store runs (memory, file and MongoDB, so
// the in-memory store cannot drift from the real one). A store's test file calls
// `relationStoreConformance(t, name, make)`; each subtest gets a fresh, unopened store.

import type { Test } from 'tap';
import { StoreUnavailableError } from './store.js';
import { formatTuple, parseTuple, type Tuple } from '../core/relations/tuple.js';
import { RelationPreconditionError, type RelationStore, type WriteBatch } from './relation-store.js';

export type MakeRelationStore = () => Promise<{ store: RelationStore; cleanup(): Promise<void> }>;

const T = (s: string): Tuple => parseTuple(s);
const keys = (ts: Tuple[]): string[] => ts.map(formatTuple);
const batch = (b: Partial<WriteBatch>): WriteBatch => ({ writes: [], deletes: [], preconditions: [], ...b });

async function all(store: RelationStore): Promise<string[]> {
  return keys((await store.loadAll()).tuples).sort();
}

export function relationStoreConformance(t: Test, name: string, make: MakeRelationStore): void {
  const withStore = (title: string, body: (t: Test, store: RelationStore) => Promise<void>) =>
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
    t.same(await store.loadAll(), { tuples: [], revision: '0' });
    t.equal(await store.getSchema(), undefined);
    t.same((await store.read({}, { limit: 10 })).tuples, []);
  });

  withStore('writes, idempotent touches and deletes, each batch a new revision', async (t, store) => {
    const r1 = await store.write(batch({ writes: [T('document:d1#reader@user:alice'), T('document:d1#reader@group:eng#member')] }));
    t.equal(r1.revision, '1');
    const r2 = await store.write(batch({ writes: [T('document:d1#reader@user:alice'), T('document:d2#reader@user:*')] }));
    t.equal(r2.revision, '2', 'a write of an existing tuple is still a batch');
    t.same(await all(store), ['document:d1#reader@group:eng#member', 'document:d1#reader@user:alice', 'document:d2#reader@user:*']);
    const r3 = await store.write(batch({ deletes: [T('document:d1#reader@user:alice'), T('document:zz#reader@user:nobody')] }));
    t.equal(r3.revision, '3');
    t.same(await all(store), ['document:d1#reader@group:eng#member', 'document:d2#reader@user:*']);
    t.equal(await store.revision(), '3');
    t.equal((await store.loadAll()).revision, '3');
  });

  withStore('a failed precondition writes nothing; passing ones write', async (t, store) => {
    await store.write(batch({ writes: [T('document:d1#owner@user:alice')] }));
    const bad = batch({
      writes: [T('document:d1#reader@user:bob'), T('document:d2#reader@user:bob')],
      deletes: [T('document:d1#owner@user:alice')],
      preconditions: [{ mustExist: T('document:d1#owner@user:alice') }, { mustNotExist: T('document:d1#owner@user:alice') }],
    });
    const err = await store.write(bad).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof RelationPreconditionError, 'RelationPreconditionError');
    t.match((err as Error).message, /document:d1#owner@user:alice exists/);
    t.same(await all(store), ['document:d1#owner@user:alice'], 'nothing of the batch was written');
    t.equal(await store.revision(), '1', 'the revision did not move');
    await t.rejects(store.write(batch({ writes: [T('document:d3#reader@user:x')], preconditions: [{ mustExist: T('document:d9#owner@user:alice') }] })), RelationPreconditionError);
    const ok = await store.write(batch({
      writes: [T('document:d1#editor@user:bob')],
      preconditions: [{ mustExist: T('document:d1#owner@user:alice') }, { mustNotExist: T('document:d1#editor@user:bob') }],
    }));
    t.equal(ok.revision, '2');
    t.same(await all(store), ['document:d1#editor@user:bob', 'document:d1#owner@user:alice']);
    // A precondition sees deletes of earlier batches.
    await store.write(batch({ deletes: [T('document:d1#owner@user:alice')] }));
    await t.rejects(store.write(batch({ writes: [T('document:d5#owner@user:a')], preconditions: [{ mustExist: T('document:d1#owner@user:alice') }] })), RelationPreconditionError);
  });

  withStore('reads by every filter, in order, with cursors', async (t, store) => {
    const tuples = [
      'document:d1#reader@user:alice', 'document:d1#reader@group:eng#member', 'document:d1#owner@user:bob',
      'document:d2#reader@user:alice', 'document:d2#reader@user:*', 'folder:f1#viewer@user:alice', 'group:eng#member@user:carol',
    ];
    await store.write(batch({ writes: tuples.map(T) }));
    const read = async (f: Parameters<RelationStore['read']>[0]) => keys((await store.read(f, { limit: 100 })).tuples);
    t.same(await read({}), [...tuples].sort(), 'everything, sorted by the canonical string');
    t.same(await read({ resourceType: 'document', resourceId: 'd1' }), ['document:d1#owner@user:bob', 'document:d1#reader@group:eng#member', 'document:d1#reader@user:alice']);
    t.same(await read({ relation: 'reader', resourceType: 'document' }), ['document:d1#reader@group:eng#member', 'document:d1#reader@user:alice', 'document:d2#reader@user:*', 'document:d2#reader@user:alice']);
    t.same(await read({ subjectType: 'user', subjectId: 'alice', subjectRelation: '' }), ['document:d1#reader@user:alice', 'document:d2#reader@user:alice', 'folder:f1#viewer@user:alice']);
    t.same(await read({ subjectType: 'group', subjectId: 'eng', subjectRelation: 'member' }), ['document:d1#reader@group:eng#member']);
    t.same(await read({ subjectType: 'group', subjectId: 'eng', subjectRelation: '' }), [], 'a subject filter without a relation matches only subjects without one');
    t.same(await read({ subjectType: 'user', subjectId: '*' }), ['document:d2#reader@user:*']);
    t.same(await read({ resourceType: 'nothing' }), []);

    const many = Array.from({ length: 23 }, (_, i) => `page:p${String(i).padStart(2, '0')}#reader@user:u${i}`);
    await store.write(batch({ writes: many.map(T) }));
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const p = await store.read({ resourceType: 'page' }, { limit: 7, ...(after !== undefined ? { after } : {}) });
      seen.push(...keys(p.tuples));
      if (p.next === undefined) break;
      t.equal(p.tuples.length, 7);
      after = p.next;
    }
    t.same(seen, many, 'pages cover every tuple once, in order, and the last has no cursor');
    const exact = await store.read({ resourceType: 'page' }, { limit: 23 });
    t.equal(exact.next, undefined, 'a page that ends exactly at the last tuple has no cursor');
  });

  withStore('forward and reverse lookups', async (t, store) => {
    await store.write(batch({ writes: ['document:d1#reader@user:alice', 'document:d1#reader@group:eng#member', 'document:d2#owner@user:alice', 'document:d1#owner@user:bob'].map(T) }));
    const fwd = (await store.forward({ type: 'document', id: 'd1' }, 'reader')).map((s) => `${s.type}:${s.id}${s.relation ? `#${s.relation}` : ''}`).sort();
    t.same(fwd, ['group:eng#member', 'user:alice']);
    const rev = (await store.reverse({ type: 'user', id: 'alice' })).map((r) => `${r.resource.type}:${r.resource.id}#${r.relation}`).sort();
    t.same(rev, ['document:d1#reader', 'document:d2#owner']);
    t.same(await store.reverse({ type: 'group', id: 'eng' }), [], 'the userset is a different subject than the group itself');
    t.equal((await store.reverse({ type: 'group', id: 'eng', relation: 'member' })).length, 1);
  });

  withStore('the schema: stored as written, versioned with the tuples', async (t, store) => {
    await store.write(batch({ writes: [T('document:d1#reader@user:alice')] }));
    const { revision } = await store.putSchema('user: {}\n# a comment\n', 'yaml');
    t.equal(revision, '2');
    t.same(await store.getSchema(), { text: 'user: {}\n# a comment\n', format: 'yaml', revision: '2' });
    await store.putSchema('{"user":{}}', 'json');
    t.same(await store.getSchema(), { text: '{"user":{}}', format: 'json', revision: '3' });
    const snap = await store.loadAll();
    t.same(snap.schema, { text: '{"user":{}}', format: 'json', revision: '3' });
    t.equal(snap.revision, '3');
  });

  withStore('changes since a revision, in order; reset when the store cannot tell', async (t, store) => {
    await store.write(batch({ writes: [T('document:d1#reader@user:alice')] }));
    await store.putSchema('user: {}', 'yaml');
    await store.write(batch({ writes: [T('document:d2#reader@user:bob')], deletes: [T('document:d1#reader@user:alice')] }));
    const c = await store.changesSince('0');
    if (c === 'reset') throw new Error('unexpected reset');
    t.equal(c.revision, '3');
    t.same(c.changes.map((x) => ({ r: x.revision, w: keys(x.writes), d: keys(x.deletes), s: x.schema?.text })), [
      { r: '1', w: ['document:d1#reader@user:alice'], d: [], s: undefined },
      { r: '2', w: [], d: [], s: 'user: {}' },
      { r: '3', w: ['document:d2#reader@user:bob'], d: ['document:d1#reader@user:alice'], s: undefined },
    ]);
    const later = await store.changesSince('2');
    t.same(later !== 'reset' && later.changes.map((x) => x.revision), ['3']);
    t.same(await store.changesSince('3'), { changes: [], revision: '3' });
    t.equal(await store.changesSince('not-a-revision'), 'reset');
    t.equal(await store.changesSince('99999'), 'reset', 'a revision the store never reached');
  });

  withStore('racing writers: batches get distinct revisions without gaps; one mustNotExist winner', async (t, store) => {
    const n = 6;
    const revisions = await Promise.all(Array.from({ length: n }, (_, i) => store.write(batch({ writes: [T(`document:r${i}#reader@user:u${i}`)] }))));
    t.same(revisions.map((r) => Number(r.revision)).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1));
    const claim = T('lock:l1#holder@user:anyone');
    const outcomes = await Promise.allSettled(Array.from({ length: n }, (_, i) => store.write(batch({
      writes: [claim, T(`lock:l1#note@user:w${i}`)],
      preconditions: [{ mustNotExist: claim }],
    }))));
    const won = outcomes.filter((o) => o.status === 'fulfilled').length;
    t.equal(won, 1, 'exactly one writer passes a mustNotExist on the same tuple');
    t.ok(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof RelationPreconditionError), 'the others fail on the precondition');
    t.equal((await all(store)).filter((k) => k.startsWith('lock:l1#note')).length, 1, 'and wrote nothing');
  });

  withStore('a closed store refuses', async (t, store) => {
    await store.close();
    await t.rejects(store.revision(), StoreUnavailableError);
  });
}
