// policy_engine_policy_sync_age_seconds is what an operator alerts on ("a growing sync
// age"): it must not grow while the state is current. With the file store (which pushes
// its changes; nothing is polled) it stays 0 through writes and time; with a polled store
// (MongoDB) it counts from the last successful poll.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { testMongo } from '../helpers/mongo.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const yaml = { 'content-type': 'application/yaml' };

async function syncAge(app: Awaited<ReturnType<typeof testApp>>['app']): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const m = /^policy_engine_policy_sync_age_seconds (\S+)$/m.exec(text);
  if (!m) throw new Error('no sync age in /metrics');
  return Number(m[1]);
}

t.test('file store: the sync age stays 0 while the state follows the directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-sync-age-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { app } = await testApp(t, { store: new FileStore({ dir }), env: { RESYNC_INTERVAL_MS: '0' } });
  await sleep(1500);
  const put = await app.inject({ method: 'PUT', url: '/v1/policies/global-a', headers: yaml, payload: 'key: global-a\nrules:\n  - subjects: ["*"]\n    grant: ["a:read"]\n' });
  t.equal(put.statusCode, 201);
  await sleep(500);
  t.equal(await syncAge(app), 0, 'no age after 2 s and a write');
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
});

t.test('polled store: the age counts from the last successful poll', async (t) => {
  const mongo = await testMongo(t);
  const { app } = await testApp(t, { store: new MongoStore({ url: mongo.url }), env: { POLL_INTERVAL_MS: '100' } });
  // Polls every 100 ms: within a few seconds the age must read below one second, i.e.
  // it restarts at each poll instead of growing since the start. Busy machines delay a
  // poll; they do not make the age keep growing, so the wait is generous.
  const started = Date.now();
  let age = await syncAge(app);
  while (!(age < 1) && Date.now() - started < 15_000) {
    await sleep(100);
    age = await syncAge(app);
  }
  t.ok(age >= 0 && age < 1, `reset by the polls (${age} s)`);
  await sleep(2500);
  const later = await syncAge(app);
  t.ok(later < (Date.now() - started) / 1000, `it does not count from the start (${later} s after ${((Date.now() - started) / 1000).toFixed(1)} s)`);
});
