// The sync loop both managers use: it polls at its interval, lets one sync run at a time
// (callers meanwhile share it; a full reload asked meanwhile follows it), wakes early on
// a hint, backs off while syncs fail (capped) and returns to the interval after one
// succeeds, reports staleness by the time of the last success, logs a failure once and
// the recovery once, and does nothing after stop.

import t, { type Test } from 'tap';
import { SyncLoop, type SyncLoopOptions } from '../../src/engine/sync-loop.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function loop(t: Test, overrides: Partial<SyncLoopOptions> & { fail?: () => boolean; runMs?: number } = {}) {
  const calls: Array<{ full: boolean; at: number }> = [];
  const lines: string[] = [];
  const l = new SyncLoop({
    run: async (full) => {
      calls.push({ full, at: Date.now() });
      if (overrides.runMs) await sleep(overrides.runMs);
      if (overrides.fail?.()) throw new Error('store down');
    },
    what: 'test store',
    whileFailing: 'keeping the last state',
    logger: { info: (_o, m) => lines.push(`info ${m}`), warn: () => {}, error: (_o, m) => lines.push(`error ${m}`) },
    pollIntervalMs: 20,
    ...overrides,
  });
  t.teardown(() => l.stop());
  return { l, calls, lines };
}

t.test('polls at its interval', async (t) => {
  const { l, calls } = loop(t);
  t.equal(await l.start(), true, 'the first sync succeeded');
  await sleep(210);
  t.ok(calls.length >= 5 && calls.length <= 12, `about every 20 ms (${calls.length} syncs in 210 ms)`);
  t.ok(calls.every((c) => !c.full), 'plain syncs');
});

t.test('one sync at a time: callers share it; a full reload asked meanwhile runs after it', async (t) => {
  const { l, calls } = loop(t, { pollIntervalMs: 60_000, runMs: 30 });
  await l.start();
  calls.length = 0;
  const a = l.sync();
  const b = l.sync();
  const full = l.sync(true);
  t.equal(a, b, 'the same promise');
  await Promise.all([a, b, full]);
  t.same(calls.map((c) => c.full), [false, true], 'the plain sync, then the full one');
  calls.length = 0;
  const first = l.sync();
  await l.syncAfter();
  await first;
  t.equal(calls.length, 2, 'syncAfter waits out the one in flight and runs another');
});

t.test('a hint wakes it before the interval', async (t) => {
  let wake: () => void = () => t.fail('not subscribed');
  let unsubscribed = false;
  const { l, calls } = loop(t, {
    pollIntervalMs: 60_000,
    hints: (w) => {
      wake = w;
      return () => { unsubscribed = true; };
    },
  });
  await l.start();
  t.equal(calls.length, 1);
  wake();
  await sleep(10);
  t.equal(calls.length, 2, 'synced on the hint');
  l.stop();
  t.ok(unsubscribed, 'stop unsubscribes');
});

t.test('backs off while failing, capped, and returns to the interval after a success', async (t) => {
  let failing = true;
  const { l, calls, lines } = loop(t, { fail: () => failing, maxBackoffMs: 80 });
  t.equal(await l.start(), false, 'the first sync failed');
  t.equal(l.lastError, 'store down');
  t.ok(l.isStale(), 'never synced: stale');
  await sleep(500);
  const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
  // 20, 40, 80, 80, 80… ms: 500 ms hold about 7 polls (without back-off 25).
  t.ok(calls.length >= 4 && calls.length <= 10, `fewer polls while failing (${calls.length} in 500 ms; gaps ${gaps.join(', ')})`);
  t.ok(gaps.slice(3).every((g) => g >= 70 && g < 400), `the pause stops growing at the cap (${gaps.join(', ')})`);
  t.same(lines, ['error test store sync failed; keeping the last state'], 'the failure is logged once');

  failing = false;
  await sleep(150);
  t.equal(l.lastError, undefined, 'recovered');
  t.ok(lines.includes('info test store reachable again'), 'the recovery is logged once');
  const n = calls.length;
  await sleep(200);
  t.ok(calls.length - n >= 4, `back to the 20 ms interval (${calls.length - n} polls in 200 ms)`);
});

t.test('stale: no success for longer than staleAfterMs', async (t) => {
  let now = 1_000;
  let failing = false;
  const { l } = loop(t, { pollIntervalMs: 60_000, staleAfterMs: 100, now: () => now, fail: () => failing });
  await l.start();
  t.equal(l.lastSyncAt, 1_000);
  now += 100;
  t.notOk(l.isStale(), 'at the bound: fresh');
  failing = true;
  await l.sync();
  t.notOk(l.isStale(), 'a failure alone does not make it stale before the bound');
  now += 1;
  t.ok(l.isStale(), 'past the bound: stale');
  failing = false;
  await l.sync();
  t.notOk(l.isStale(), 'a success makes it fresh');
  t.equal(l.lastSyncAt, 1_101);
});

t.test('without staleAfterMs, stale while failing', async (t) => {
  let failing = false;
  const { l } = loop(t, { pollIntervalMs: 60_000, fail: () => failing });
  await l.start();
  t.notOk(l.isStale());
  failing = true;
  await l.sync();
  t.ok(l.isStale());
});

t.test('shouldPoll false: no polling; a periodic full reload still runs', async (t) => {
  const { l, calls } = loop(t, { shouldPoll: () => false, resyncIntervalMs: 40 });
  await l.start();
  await sleep(150);
  t.equal(calls[0]!.full, false, 'the first sync');
  t.ok(calls.slice(1).length >= 2 && calls.slice(1).every((c) => c.full), `then only full reloads (${calls.map((c) => (c.full ? 'F' : 'p')).join('')})`);
});

t.test('stop: no more syncs, and sync() answers false', async (t) => {
  const { l, calls } = loop(t, { resyncIntervalMs: 30 });
  await l.start();
  l.stop();
  const n = calls.length;
  await sleep(100);
  t.equal(calls.length, n, 'no timer fired');
  t.equal(await l.sync(), false);
  t.equal(calls.length, n);
});
