// Replacing a stored document never opens a window in which decisions run without it:
// while the example documents are PUT again and again (same text, and changed text),
// every decision asked in between comes from either the old or the new version.

import t from 'tap';
import type { AddressInfo } from 'node:net';
import { testApp } from '../helpers/app.js';
import { testMongo } from '../helpers/mongo.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { read, walk } from '../deploy/fixtures/util.js';

const ORG = '57af7f6d-f6f7-4af1-b182-3a30440fa781';
const TOKEN = 'test-admin-token-0123456789';

t.test('decisions during repeated replacement of the example documents', async (t) => {
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: TOKEN } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const docs = walk('examples/policies', (n) => n.endsWith('.yaml')).map((f) => {
    const text = read(f);
    return { key: /^key:\s*(\S+)/m.exec(text)![1]!, text };
  });
  const put = async (key: string, text: string) => {
    const r = await fetch(`${base}/v1/policies/${key}`, { method: 'PUT', headers: { 'content-type': 'application/yaml', authorization: `Bearer ${TOKEN}` }, body: text });
    if (!r.ok) throw new Error(`PUT ${key}: ${r.status} ${await r.text()}`);
  };
  const check = async () => {
    const r = await fetch(`${base}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: { id: 'user:alice', roles: ['editor'], groups: [] }, namespace: `global.org.org:${ORG}`, resource: { type: 'document', id: 'doc1' }, permission: 'document:read' }) });
    return { status: r.status, body: await r.json() as { allowed?: boolean } };
  };
  for (const d of docs) await put(d.key, d.text);
  let stop = false;
  const wrong: unknown[] = [];
  let asked = 0;
  const checker = (async () => {
    while (!stop) {
      const r = await check();
      asked++;
      if (r.status !== 200 || r.body.allowed !== true) wrong.push(r);
    }
  })();
  const rounds = Number(process.env.REPLACE_ROUNDS ?? 60);
  for (let i = 0; i < rounds; i++) {
    for (const d of docs) {
      // every other round a changed text (a new etag), else the same text again
      await put(d.key, i % 2 === 0 ? d.text : `${d.text}\n# round ${i}\n`);
      const r = await check();
      asked++;
      if (r.status !== 200 || r.body.allowed !== true) wrong.push({ after: d.key, round: i, ...r });
    }
  }
  stop = true;
  await checker;
  t.same(wrong.slice(0, 5), [], `every one of ${asked} decisions saw the documents`);
});

// A write this replica made is applied at once, and comes back later from a poll or a
// full load that may have read the store before it. Such a late read must never roll
// the document back (or bring a deleted one back), not even until the next poll.

/** A real MongoStore whose reads can be held between reading the server and answering. */
class HeldStore extends MongoStore {
  private hold: { read: () => void; release: Promise<void>; which: 'poll' | 'load' } | undefined;

  /** The next poll (or full load) reads the server, calls back, then waits for `release`. */
  holdNext(which: 'poll' | 'load'): { readDone: Promise<void>; release: () => void } {
    let read!: () => void;
    let release!: () => void;
    const readDone = new Promise<void>((r) => { read = r; });
    this.hold = { read, release: new Promise<void>((r) => { release = r; }), which };
    return { readDone, release };
  }

  private async held<T>(which: 'poll' | 'load', result: T): Promise<T> {
    const h = this.hold;
    if (h === undefined || h.which !== which) return result;
    this.hold = undefined;
    h.read();
    await h.release;
    return result;
  }

  override async changesSince(revision: string) {
    return this.held('poll', await super.changesSince(revision));
  }

  override async loadAll() {
    return this.held('load', await super.loadAll());
  }
}

t.test('a late poll or full load never rolls back a write this replica made', async (t) => {
  const mongo = await testMongo(t);
  const store = new HeldStore({ url: mongo.url });
  const { app, services } = await testApp(t, { store, env: { POLL_INTERVAL_MS: '60000' } });
  const manager = services.manager!;
  const doc = (rules: string) => `key: global-base\nrules:\n${rules}`;
  const grant = doc('  - subjects: ["*"]\n    grant: ["doc:read"]\n');
  const denied = doc('  - subjects: ["*"]\n    grant: ["doc:read"]\n  - subjects: ["*"]\n    deny: ["doc:read"]\n');
  const put = async (text: string) => {
    const r = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml' }, payload: text });
    t.ok(r.statusCode === 200 || r.statusCode === 201, `PUT ${r.statusCode} ${r.body}`);
  };
  const allowed = async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/check', payload: { subject: 'user:alice', namespace: 'global', permission: 'doc:read' } });
    return (r.json() as { allowed: boolean }).allowed;
  };

  // A second document, so that deleting the first does not leave the path without any
  // (where the configured default would answer).
  const other = await app.inject({ method: 'PUT', url: '/v1/policies/global-other', headers: { 'content-type': 'application/yaml' }, payload: 'key: global-other\nrules:\n  - subjects: ["*"]\n    grant: ["other"]\n' });
  t.equal(other.statusCode, 201);
  for (const which of ['poll', 'load'] as const) {
    // A read that sees the granting version, answered after the denying one was written.
    await put(grant);
    const { readDone, release } = store.holdNext(which);
    const settled = which === 'poll' ? manager.sync() : manager.sync(true);
    await readDone;
    await put(denied);
    t.equal(await allowed(), false, `${which}: the deny written is in force`);
    release();
    await settled;
    t.equal(await allowed(), false, `${which}: still in force after the older read is applied`);

    // The same for a delete: the deleted granting document does not come back.
    await put(grant);
    t.equal(await allowed(), true, `${which}: granted again`);
    await put(doc('  - subjects: ["*"]\n    grant: ["other"]\n'));
    await put(grant);
    const second = store.holdNext(which);
    const settled2 = which === 'poll' ? manager.sync() : manager.sync(true);
    await second.readDone;
    const del = await app.inject({ method: 'DELETE', url: '/v1/policies/global-base' });
    t.equal(del.statusCode, 204, 'deleted');
    t.equal(await allowed(), false, `${which}: nothing grants after the delete`);
    second.release();
    await settled2;
    t.equal(await allowed(), false, `${which}: the deleted document did not come back`);
  }
});
