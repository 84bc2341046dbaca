// Byte budgets (issue 20): the decision cache (CACHE_MAX_BYTES) and the request samples
// (SAMPLES_MAX_BYTES) filled well past their budgets hold at most that many bytes by their
// own accounting, drop the least recently used first, and refuse an entry larger than
// the whole budget; the settings reach the running service.

import t from 'tap';
import { DecisionCache, entryBytes, type CachedDecision } from '../../src/cache/decision-cache.js';
import type { Decision } from '../../src/core/evaluate/types.js';
import { RequestSamples, sampleBytes } from '../../src/engine/request-samples.js';
import type { CheckRequest } from '../../src/core/request.js';
import { putYaml, testApp } from '../helpers/app.js';

const decision = (n: number): Decision => ({
  permissions: Array.from({ length: n }, (_, i) => `document:perm-${i}`),
  denied: [`document:denied-${n}`],
  exact: true,
  default: false,
  policies: ['global-base'],
  applied: [],
});
const entry = (n: number): CachedDecision => ({ decision: decision(n), namespaces: ['global'], revision: 'r1' });

t.test('the decision cache stays within CACHE_MAX_BYTES', async (t) => {
  const maxBytes = 64 * 1024;
  const cache = new DecisionCache({ max: 100_000, maxBytes, ttlMs: 0 });
  const stored: Array<[string, CachedDecision]> = [];
  let offered = 0;
  for (let i = 0; i < 2_000; i++) {
    const key = `perm-user:u${i}-global`;
    const value = entry(1 + (i % 40));
    offered += entryBytes(key, value);
    cache.set(key, value);
    stored.push([key, value]);
  }
  t.ok(offered > 10 * maxBytes, `offered ${offered} bytes, ten times the budget`);
  t.ok(cache.bytes <= maxBytes, `holds ${cache.bytes} ≤ ${maxBytes} bytes`);
  t.ok(cache.bytes > maxBytes / 2, 'and uses the budget');
  const held = stored.filter(([k]) => cache.get(k) !== undefined);
  t.equal(held.length, cache.size, 'every held entry is one stored');
  t.ok(held.length < 2_000 && held.length > 0, `${held.length} entries held`);
  t.equal(held.reduce((sum, [k, v]) => sum + entryBytes(k, v), 0), cache.bytes, 'the held entries account for the bytes');
  t.same(held.map(([k]) => k), stored.slice(-held.length).map(([k]) => k), 'the most recent ones, the oldest dropped first');

  const huge = entry(10_000);
  t.ok(entryBytes('huge', huge) > maxBytes);
  cache.set('huge', huge);
  t.equal(cache.get('huge'), undefined, 'an entry larger than the budget is not stored');
  t.ok(cache.bytes <= maxBytes);
  const small = entry(1);
  cache.set('again', small);
  t.equal(cache.get('again'), small, 'a small entry is stored');
  const before = cache.bytes;
  cache.set('again', huge);
  t.equal(cache.get('again'), undefined, 'the same key offered again, too large: the older entry is not kept either');
  t.equal(cache.bytes, before - entryBytes('again', small), 'and its bytes are given back');

  const counted = new DecisionCache({ max: 10, ttlMs: 0 });
  for (let i = 0; i < 20; i++) counted.set(`k${i}`, entry(3));
  t.equal(counted.size, 10, 'without a byte budget the count bounds it');
});

t.test('entry bytes grow with what an entry holds (its serialized answer estimated from the lists)', async (t) => {
  const small = entryBytes('k', entry(1));
  const large = entryBytes('k', entry(30));
  // the lists count twice: once held, once in the answer's estimate
  t.ok(large > small + 2 * 30 * 'document:perm-00'.length, `${small} < ${large}`);
});

const request = (i: number, pad = 0): CheckRequest => ({
  subject: { id: `user:u${i}`, roles: ['member'], attributes: { note: 'n'.repeat(pad) } },
  namespace: 'global.org',
  permission: 'document:read',
} as CheckRequest);

t.test('request samples stay within SAMPLES_MAX_BYTES', async (t) => {
  const maxBytes = 64 * 1024;
  const samples = new RequestSamples({ max: 100_000, maxBytes, redact: [], attributes: true, perSecond: 0 });
  for (let i = 0; i < 3_000; i++) samples.record('check', request(i, i % 200));
  const texts = samples.texts();
  const accounted = texts.reduce((sum, text) => sum + sampleBytes(text), 0);
  t.equal(samples.bytes, accounted, 'the held samples account for the bytes');
  t.ok(samples.bytes <= maxBytes, `holds ${samples.bytes} ≤ ${maxBytes} bytes`);
  t.ok(samples.bytes > maxBytes * 0.9, 'and uses the budget');
  t.ok(texts.length < 3_000, `${texts.length} samples held`);
  t.match(texts.at(-1)!, /user:u2999/, 'the newest is kept');
  t.notOk(texts.some((text) => text.includes('"user:u0"')), 'the oldest went first');

  // Recorded inputs are already bounded (boundedCopy); samples merged from elsewhere are not.
  samples.merge([{ endpoint: 'check', subject: { id: 'user:huge', attributes: { note: 'n'.repeat(100_000) } }, namespace: 'global' }]);
  t.notOk(samples.texts().some((text) => text.includes('user:huge')), 'a sample larger than the budget is not kept');
  t.ok(samples.bytes <= maxBytes);

  samples.merge([{ endpoint: 'check', subject: 'user:merged', namespace: 'global' }]);
  t.ok(samples.bytes <= maxBytes, 'merged samples count too');
  t.equal(samples.bytes, samples.texts().reduce((sum, text) => sum + sampleBytes(text), 0));
  samples.clear();
  t.equal(samples.bytes, 0);

  t.equal(sampleBytes('ab'), sampleBytes('cd'), 'one byte a Latin-1 character…');
  t.equal(sampleBytes('€€') - sampleBytes('ab'), 2, '…two beyond Latin-1');
});

t.test('the settings reach the running service', async (t) => {
  const { app, services } = await testApp(t, { env: { CACHE_MAX_BYTES: '65536', SAMPLES_MAX_BYTES: '65536', SAMPLES_PER_SECOND: '0' } });
  await putYaml(t, app, 'global-base', 'key: global-base\nrules:\n  - { subjects: ["role:member"], grant: ["document:*"], revoke: ["document:purge"] }\n');
  for (let i = 0; i < 400; i++) {
    const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: `user:u${i}`, roles: ['member'], attributes: { note: 'x'.repeat(300) } }, namespace: 'global' } });
    t.equal(r.statusCode, 200);
  }
  t.ok(services.cache.size < 400, `the cache holds ${services.cache.size} of 400`);
  t.ok(services.cache.bytes <= 65536 && services.cache.bytes > 0, `cache: ${services.cache.bytes} bytes`);
  t.ok(services.samples !== undefined);
  t.ok(services.samples!.bytes <= 65536 && services.samples!.size < 400, `samples: ${services.samples!.size}, ${services.samples!.bytes} bytes`);
});
