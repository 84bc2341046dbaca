// SAMPLES_SHARED on a real MongoDB-compatible server: samples recorded by replica A
// reach B's previews through the `request_samples` collection; a store that fails
// leaves previews on local samples; the collection is trimmed to SAMPLES_MAX.

import t from 'tap';
import { testApp, putYaml } from '../../helpers/app.js';
import { testMongo } from '../../helpers/mongo.js';
import { MongoStore } from '../../../src/store/mongo/mongo-store.js';
import { SharedSamples } from '../../../src/engine/shared-samples.js';
import { RequestSamples } from '../../../src/engine/request-samples.js';
import { pino } from 'pino';

const BASE = `key: global-base\nrules:\n  - subjects: ["role:editor"]\n    grant: ["doc:*"]\n`;
const REVOKE = `key: acme-rules\nnamespace: acme\nrules:\n  - subjects: ["*"]\n    revoke: ["doc:write"]\n`;

t.test('samples seen by one replica are previewed by another', async (t) => {
  const mongo = await testMongo(t);
  const env = { SAMPLES_SHARED: 'true', POLL_INTERVAL_MS: '200' };
  const a = await testApp(t, { store: new MongoStore({ url: mongo.url }), env });
  const b = await testApp(t, { store: new MongoStore({ url: mongo.url }), env });
  await putYaml(t, a.app, 'global-base', BASE);
  for (const id of ['ann', 'bob', 'cat']) {
    const r = await a.app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id, roles: ['editor'] }, namespace: 'global.acme' } });
    t.equal(r.statusCode, 200);
  }
  // Flushed every 2 s; wait for B to see them rather than sleep a fixed time.
  const started = Date.now();
  let seen = 0;
  while (Date.now() - started < 8000) {
    await new Promise((r) => setTimeout(r, 250));
    const p = await b.app.inject({ method: 'POST', url: '/v1/preview', payload: { put: [REVOKE], tests: false } });
    if (p.statusCode !== 200) continue;
    const body = p.json() as { summary: { samples: number; changed: number } };
    seen = body.summary.samples;
    if (seen === 3) {
      t.equal(body.summary.changed, 3, 'each of A\'s editors would lose doc:write');
      break;
    }
  }
  t.equal(seen, 3, 'B previews A\'s samples');
  const docs = await mongo.client.db().collection('request_samples').countDocuments();
  t.equal(docs, 3, 'one document per distinct sample');
});

t.test('trimmed to the newest SAMPLES_MAX; a failing store leaves local samples', async (t) => {
  const mongo = await testMongo(t);
  const store = new MongoStore({ url: mongo.url });
  t.teardown(() => store.close());
  const local = new RequestSamples({ max: 5, redact: [], attributes: true });
  const shared = new SharedSamples({ local, store: store.sampleStore(), flushMs: 60_000, logger: pino({ level: 'silent' }), trimEveryMs: 0 });
  for (let i = 0; i < 5; i++) local.record('evaluate', { subject: `u${i}`, namespace: 'global' });
  await shared.flush();
  for (let i = 5; i < 9; i++) local.record('evaluate', { subject: `u${i}`, namespace: 'global' });
  await new Promise((r) => setTimeout(r, 20));
  await shared.flush();
  t.equal(await mongo.client.db().collection('request_samples').countDocuments(), 5, 'the collection keeps SAMPLES_MAX');
  const all = await shared.samples();
  t.equal(all.length, 5);
  t.same(all.map((s) => s.subject).sort(), ['u4', 'u5', 'u6', 'u7', 'u8']);

  await store.close();
  local.record('evaluate', { subject: 'late', namespace: 'global' });
  await shared.flush(); // fails quietly
  const afterClose = await shared.samples();
  t.ok(afterClose.some((s) => s.subject === 'late'), 'local samples still answer');
});
