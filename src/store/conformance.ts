// The one behaviour suite every policy store runs (STYLE: no fake may drift from the
// real stores). A store's test file calls `storeConformance(t, name, make)`; each
// subtest gets a fresh, unopened store from `make`, opens it, and closes it and runs
// `cleanup` on teardown. Capability checks (events, polling) run when the store has
// the capability.

import type { Test } from 'tap';
import { meaningfulEvents, samplePolicy, sleep, waitUntil } from './conformance-support.js';
import {
  StoreConflictError, etagOf, isPollable, isSubscribable,
  type PolicyRecord, type PolicyStore, type StoreEvent,
} from './store.js';

export { meaningfulEvents, samplePolicy, waitUntil } from './conformance-support.js';

export type MakeStore = () => Promise<{ store: PolicyStore; cleanup(): Promise<void> }>;

function summary(e: StoreEvent): string {
  return e.type === 'put' ? `put ${e.record.key} ${e.record.etag}` : e.type === 'delete' ? `delete ${e.key} ${e.namespace}` : 'reset';
}

function keys(records: readonly PolicyRecord[]): string[] {
  return records.map((r) => r.key).sort();
}

export function storeConformance(t: Test, name: string, make: MakeStore): void {
  async function fresh(t: Test): Promise<PolicyStore> {
    const { store, cleanup } = await make();
    t.teardown(async () => {
      await store.close();
      await cleanup();
    });
    await store.open();
    return store;
  }

  t.test(`${name}: an empty store`, async (t) => {
    const store = await fresh(t);
    const snap = await store.loadAll();
    t.same(snap.records, []);
    t.type(snap.revision, 'string');
    t.equal(await store.get('org-missing'), undefined);
    t.same(await store.list({ limit: 10 }), { records: [] });
    t.equal(await store.delete('org-missing'), false);
    await store.ping();
  });

  t.test(`${name}: put creates, then replaces with a new etag`, async (t) => {
    const store = await fresh(t);
    const json = samplePolicy('org-editors', { ordinal: 20 });
    const created = await store.put(json);
    t.equal(created.created, true);
    t.equal(created.record.etag, etagOf('json', json.text));
    t.match(created.record.etag, /^"[^"]+"$/, 'a strong, quoted etag');
    t.ok(!Number.isNaN(Date.parse(created.record.updatedAt)), 'updatedAt is an ISO time');

    const yaml = samplePolicy('org-editors', { format: 'yaml', grant: ['document:*'] });
    const replaced = await store.put(yaml);
    t.equal(replaced.created, false);
    t.not(replaced.record.etag, created.record.etag);
    t.not(replaced.revision, created.revision);

    const got = await store.get('org-editors');
    t.ok(got);
    t.equal(got?.text, yaml.text, 'the original text, comments included, byte for byte');
    t.equal(got?.format, 'yaml');
    t.same(got?.document, yaml.document);
    t.equal(got?.etag, replaced.record.etag);
    t.equal(got?.namespace, 'org');
    t.equal(got?.ordinal, null, 'no ordinal is null');
    t.equal(got?.disabled, false);
  });

  t.test(`${name}: fields round-trip`, async (t) => {
    const store = await fresh(t);
    const p = samplePolicy('org:1a-b2-admins', { namespace: 'org:1a-b2', ordinal: -1.5, disabled: true, format: 'yaml' });
    await store.put(p);
    const got = await store.get(p.key);
    t.match(got, { key: p.key, namespace: 'org:1a-b2', ordinal: -1.5, disabled: true, format: 'yaml', text: p.text });
    t.same(got?.document, p.document);
    t.same((await store.loadAll()).records.map((r) => r.text), [p.text]);
  });

  t.test(`${name}: equal content gives an equal etag`, async (t) => {
    const store = await fresh(t);
    const p = samplePolicy('global-base', { format: 'yaml' });
    const a = await store.put(p);
    const b = await store.put(samplePolicy('global-base', { format: 'yaml' }));
    t.equal(b.created, false);
    t.equal(a.record.etag, b.record.etag);
    t.equal(a.record.etag, etagOf('yaml', p.text), 'the same tag every store computes');
  });

  t.test(`${name}: If-Match and If-None-Match`, async (t) => {
    const store = await fresh(t);
    const first = await store.put(samplePolicy('org-a'), { ifNoneMatch: true });
    t.equal(first.created, true, 'If-None-Match on a missing key creates it');
    const stale = first.record.etag;
    const second = await store.put(samplePolicy('org-a', { grant: ['x:y'] }), { ifMatch: stale });
    t.equal(second.created, false, 'If-Match with the current etag replaces');

    const err = await store.put(samplePolicy('org-a', { grant: ['x:z'] }), { ifMatch: stale }).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof StoreConflictError, 'a stale If-Match conflicts');
    t.equal((err as StoreConflictError).currentEtag, second.record.etag, 'and names the current etag');
    t.equal((await store.get('org-a'))?.etag, second.record.etag, 'the stored version is untouched');

    await t.rejects(store.put(samplePolicy('org-a'), { ifNoneMatch: true }), StoreConflictError, 'If-None-Match on an existing key conflicts');
    await t.rejects(store.put(samplePolicy('org-missing'), { ifMatch: stale }), StoreConflictError, 'If-Match on a missing key conflicts');
    t.equal(await store.get('org-missing'), undefined);
    const star = await store.put(samplePolicy('org-a', { grant: ['w:*'] }), { ifMatch: '*' });
    t.equal(star.created, false, 'If-Match: * matches any existing version');
    const listed = await store.put(samplePolicy('org-a'), { ifMatch: `"nope", W/${star.record.etag}` });
    t.equal(listed.created, false, 'a list with a weak form of the current etag matches');
  });

  t.test(`${name}: delete`, async (t) => {
    const store = await fresh(t);
    const put = await store.put(samplePolicy('org-a', { format: 'yaml' }));
    await t.rejects(store.delete('org-a', { ifMatch: '"stale"' }), StoreConflictError, 'a stale If-Match conflicts');
    t.ok(await store.get('org-a'), 'and the policy stays');
    await t.rejects(store.delete('org-missing', { ifMatch: put.record.etag }), StoreConflictError, 'If-Match on a missing key conflicts');

    const deleted = await store.delete('org-a', { ifMatch: put.record.etag });
    t.ok(deleted !== false && typeof deleted.revision === 'string');
    t.not(deleted !== false ? deleted.revision : '', put.revision);
    t.equal(await store.get('org-a'), undefined);
    t.equal(await store.delete('org-a'), false, 'deleting again finds nothing');
    t.same((await store.loadAll()).records, []);
    t.same((await store.list({ namespace: 'org', limit: 5 })).records, []);
    t.equal((await store.put(samplePolicy('org-a'))).created, true, 'a deleted key is created anew');
  });

  t.test(`${name}: list pages by key within a namespace`, async (t) => {
    const store = await fresh(t);
    const org = ['org-e', 'org-b', 'org-d', 'org-a', 'org-c'];
    for (const k of org) await store.put(samplePolicy(k, { format: k === 'org-c' ? 'yaml' : 'json' }));
    for (const k of ['org:1-x', 'org:1-y', 'orga-z', 'global-z']) await store.put(samplePolicy(k));

    const seen: string[] = [];
    const pages: number[] = [];
    let after: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.list({ namespace: 'org', limit: 2, ...(after !== undefined ? { after } : {}) });
      pages.push(page.records.length);
      seen.push(...page.records.map((r) => r.key));
      for (const r of page.records) t.equal(r.namespace, 'org', `${r.key} is in org`);
      if (page.next === undefined) break;
      t.equal(page.next, page.records[page.records.length - 1]?.key, 'the cursor is the last key');
      after = page.next;
    }
    t.same(pages, [2, 2, 1]);
    t.same(seen, [...org].sort(), 'every key once, in key order; org:1 and orga are not org');

    const full = await store.list({ namespace: 'org', limit: 5 });
    t.equal(full.records.length, 5);
    t.equal(full.next, undefined, 'no cursor when nothing follows');
    t.same(keys((await store.list({ namespace: 'org:1', limit: 10 })).records), ['org:1-x', 'org:1-y']);
    t.same(await store.list({ namespace: 'nowhere', limit: 10 }), { records: [] });
    t.same(keys((await store.list({ namespace: 'org', after: 'org-bb', limit: 10 })).records), ['org-c', 'org-d', 'org-e'],
      'a cursor need not be a stored key');

    const all: string[] = [];
    after = undefined;
    for (let i = 0; i < 10; i++) {
      const page = await store.list({ limit: 3, ...(after !== undefined ? { after } : {}) });
      all.push(...page.records.map((r) => r.key));
      if (page.next === undefined) break;
      after = page.next;
    }
    t.same(all, [...org, 'org:1-x', 'org:1-y', 'orga-z', 'global-z'].sort(), 'without a namespace: everything, paged');
    const c = (await store.list({ namespace: 'org', after: 'org-b', limit: 1 })).records[0];
    t.equal(c?.text, samplePolicy('org-c', { format: 'yaml' }).text, 'listed records are complete');
  });

  t.test(`${name}: loadAll, revisions and putMany`, async (t) => {
    const store = await fresh(t);
    const revisions = [(await store.loadAll()).revision];
    revisions.push((await store.put(samplePolicy('org-a'))).revision);
    revisions.push((await store.put(samplePolicy('org-b', { format: 'yaml' }))).revision);
    revisions.push((await store.put(samplePolicy('org-b', { format: 'yaml' }))).revision);
    const many = await store.putMany([samplePolicy('org-b'), samplePolicy('global-x', { format: 'yaml' }), samplePolicy('org:9-y')]);
    t.same({ created: many.created, replaced: many.replaced }, { created: 2, replaced: 1 });
    revisions.push(many.revision);
    const del = await store.delete('org-a');
    revisions.push(del !== false ? del.revision : 'no delete');
    t.equal(new Set(revisions).size, revisions.length, 'every write moves the revision');
    if (isPollable(store)) {
      const numbers = revisions.map(Number);
      t.same(numbers, [...numbers].sort((a, b) => a - b), 'a polled store\'s revisions increase');
    }

    const snap = await store.loadAll();
    t.equal(snap.revision, revisions[revisions.length - 1], 'loadAll reports the newest revision');
    t.same(keys(snap.records), ['global-x', 'org-b', 'org:9-y']);
    t.equal(snap.records.find((r) => r.key === 'org-b')?.format, 'json', 'putMany replaced org-b');

    const none = await store.putMany([]);
    t.same(none, { revision: snap.revision, created: 0, replaced: 0 });
  });

  t.test(`${name}: concurrent writers`, async (t) => {
    const store = await fresh(t);
    const base = await store.put(samplePolicy('org-hot'));
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.put(samplePolicy('org-hot', { grant: [`document:p${i}`] }), { ifMatch: base.record.etag })),
    );
    const won = attempts.filter((a): a is PromiseFulfilledResult<Awaited<ReturnType<PolicyStore['put']>>> => a.status === 'fulfilled');
    const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
    t.equal(won.length, 1, 'exactly one If-Match writer wins');
    t.ok(lost.every((a) => a.reason instanceof StoreConflictError), 'the others conflict');
    t.equal((await store.get('org-hot'))?.etag, won[0]?.value.record.etag, 'the stored version is the winner\'s');

    const creates = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => store.put(samplePolicy('org-new', { grant: [`n:${i}`] }), { ifNoneMatch: true })),
    );
    t.equal(creates.filter((a) => a.status === 'fulfilled').length, 1, 'exactly one If-None-Match creator wins');

    const free = await Promise.all(Array.from({ length: 10 }, (_, i) => store.put(samplePolicy(`global-k${i}`))));
    t.equal(new Set(free.map((r) => r.revision)).size, 10, 'unconditional writes of different keys all land');
    t.equal((await store.loadAll()).records.length, 12);
  });

  t.test(`${name}: change events`, async (t) => {
    const store = await fresh(t);
    if (isSubscribable(store)) {
      const events: StoreEvent[] = [];
      const off = store.subscribe((e) => events.push(e));
      const a = await store.put(samplePolicy('org-a'));
      const b = await store.put(samplePolicy('org-a', { format: 'yaml' }));
      const d = await store.delete('org-a');
      const expected = [`put org-a ${a.record.etag}`, `put org-a ${b.record.etag}`, 'delete org-a org'];
      await waitUntil(() => meaningfulEvents(events).length >= expected.length);
      const seen = meaningfulEvents(events);
      t.same(seen.map(summary), expected, 'put, put, delete, in order');
      t.same(seen.map((e) => e.revision), [a.revision, b.revision, d !== false ? d.revision : ''], 'each with its write\'s revision');
      off();
      const before = events.length;
      await store.put(samplePolicy('org-b'));
      await sleep(150);
      t.equal(events.length, before, 'no events after unsubscribing');
    }
    if (isPollable(store)) {
      const start = (await store.loadAll()).revision;
      const a = await store.put(samplePolicy('org-p'));
      const b = await store.put(samplePolicy('global-q', { format: 'yaml' }));
      const d = await store.delete('org-p');
      const changes = await store.changesSince(start);
      if (changes === 'reset') {
        t.fail('changesSince answered reset for a revision it gave');
        return;
      }
      t.same(changes.events.map(summary), [`put org-p ${a.record.etag}`, `put global-q ${b.record.etag}`, 'delete org-p org']);
      t.same(changes.events.map((e) => e.revision), [a.revision, b.revision, d !== false ? d.revision : '']);
      t.equal(changes.revision, d !== false ? d.revision : '');
      const put = changes.events[1];
      t.equal(put?.type === 'put' ? put.record.text : undefined, samplePolicy('global-q', { format: 'yaml' }).text, 'events carry whole records');
      const none = await store.changesSince(changes.revision);
      t.same(none, { events: [], revision: changes.revision }, 'nothing after the newest revision');
      t.equal(await store.changesSince('not a revision'), 'reset');
    }
    if (!isSubscribable(store) && !isPollable(store)) t.pass('the store offers neither events nor polling');
  });
}
