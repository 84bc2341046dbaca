// The shipper's queue without a real sink (decision-shipping.ts): a decision's `offer`
// does no JSON and starts no timer; records are turned into lines once per turn of the
// event loop, a full batch starts without waiting for the flush timer, and every record
// arrives once, in order, however the queue is compacted; close() sends what was offered
// in its own turn; what is shipped is the decision-log line, sampled and redacted.

import t from 'tap';
import { DecisionShipper, type ShipBatch, type ShipTransport } from '../../src/observability/decision-shipping.js';
import { createDecisionLog, SILENT_SINK } from '../../src/observability/decision-log.js';
import type { Decision } from '../../src/core/evaluate/types.js';
import { captureLog } from './log-capture.js';

function collecting(): ShipTransport & { batches: ShipBatch[]; records(): Array<Record<string, unknown>> } {
  const batches: ShipBatch[] = [];
  return {
    name: 'test',
    batches,
    async send(batch) {
      await new Promise((r) => setImmediate(r)); // an answer takes a turn, as a socket's does
      batches.push(batch);
    },
    async close() {},
    records: () => batches.flatMap((b) => b.lines.map((l) => JSON.parse(l) as Record<string, unknown>)),
  };
}

const turn = () => new Promise((r) => setImmediate(r));

async function until(what: string, probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('offer does no JSON and starts no timer, however many records a turn offers', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 10, flushMs: 60_000, buffer: 10_000 });
  t.teardown(() => shipper.close());
  const realSetTimeout = globalThis.setTimeout;
  const realStringify = JSON.stringify;
  let timers = 0;
  let stringified = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => {
    stringified++;
    return realStringify(...args);
  }) as typeof JSON.stringify;
  try {
    for (let i = 0; i < 2000; i++) shipper.offer({ n: i }, Date.now());
  } finally {
    globalThis.setTimeout = realSetTimeout;
    JSON.stringify = realStringify;
  }
  t.equal(timers, 0, 'no timer set (nor reset) by offering');
  t.equal(stringified, 0, 'no record serialised while the decisions are being answered');
  await until('2000 records shipped', () => shipper.stats().shipped === 2000);
  t.same(sink.records().map((r) => r.n), Array.from({ length: 2000 }, (_, i) => i), 'all of them, once each, in order');
});

t.test('a full batch goes out without waiting for the flush timer', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 5, flushMs: 60_000, buffer: 100 });
  t.teardown(() => shipper.close());
  for (let i = 0; i < 5; i++) shipper.offer({ n: i }, Date.now());
  await until('the full batch sent', () => sink.batches.length === 1, 2000);
  t.equal(sink.batches[0]!.lines.length, 5);
  shipper.offer({ n: 5 }, Date.now());
  await turn();
  await turn();
  t.equal(shipper.stats().queued, 1, 'a partial batch waits for the flush timer');
});

t.test('records offered one per turn, over many batches and compactions, arrive once each and in order', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 50, flushMs: 20, buffer: 100_000 });
  t.teardown(() => shipper.close());
  const N = 6000;
  for (let i = 0; i < N; i++) {
    shipper.offer({ n: i, at: 'x'.repeat(i % 7) }, Date.now());
    if (i % 3 === 0) await turn();
  }
  await until(`${N} records shipped`, () => shipper.stats().shipped === N);
  t.same(sink.records().map((r) => r.n), Array.from({ length: N }, (_, i) => i));
  t.ok(sink.batches.every((b) => b.lines.length <= 50), 'no batch above DECISION_SHIP_BATCH');
  t.equal(shipper.stats().dropped, 0);
  t.equal(shipper.stats().queued, 0);
});

t.test('close() sends what was offered in its own turn, lines or not yet', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 100, flushMs: 60_000, buffer: 100 });
  shipper.offer({ n: 0 }, Date.now());
  await turn(); // the first is a line already
  shipper.offer({ n: 1 }, Date.now());
  shipper.offer({ n: 2 }, Date.now());
  await shipper.close();
  t.same(sink.records().map((r) => r.n), [0, 1, 2]);
  t.same(shipper.stats(), { sink: 'test', queued: 0, shipped: 3, dropped: 0, failures: 0 });
  shipper.offer({ n: 3 }, Date.now());
  t.equal(shipper.stats().queued, 0, 'nothing is taken after close');
});

t.test('a record that is not JSON is dropped and counted at its batch, the rest go', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 3, flushMs: 10, buffer: 100 });
  t.teardown(() => shipper.close());
  shipper.offer({ n: 0 }, Date.now());
  shipper.offer({ n: 1n }, Date.now());
  shipper.offer({ n: 2 }, Date.now());
  await until('two shipped', () => shipper.stats().shipped === 2);
  t.same(sink.records().map((r) => r.n), [0, 2]);
  t.equal(shipper.stats().dropped, 1);
});

t.test('past the buffer new records are dropped and counted, with no send in flight', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const sent: ShipBatch[] = [];
  const shipper = new DecisionShipper({ name: 'slow', async send(b) { sent.push(b); await gate; }, async close() {} }, { batch: 5, flushMs: 10, buffer: 12 });
  t.teardown(() => shipper.close());
  for (let i = 0; i < 5; i++) shipper.offer({ n: i }, Date.now());
  await until('the first batch in flight', () => sent.length === 1);
  for (let i = 5; i < 20; i++) shipper.offer({ n: i }, Date.now());
  t.same(shipper.stats(), { sink: 'slow', queued: 12, shipped: 0, dropped: 8, failures: 0 }, 'the batch in flight counts against the buffer');
  release();
  await until('the held records shipped', () => shipper.stats().shipped === 12);
});

t.test('shipped records are the decision-log lines: sampled and redacted as configured, never more', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 100, flushMs: 10, buffer: 100 });
  t.teardown(() => shipper.close());
  const draws = [0.1, 0.9, 0.2, 0.95];
  const log = createDecisionLog(SILENT_SINK, { enabled: true, sample: 0.5, redact: ['ssn'], attributes: true, random: () => draws.shift()! }, [shipper])!;
  const request = { subject: { id: 'u1', roles: ['editor'], attributes: { ssn: '123', team: 'blue', api_key: 'k' } }, namespace: 'ns', context: { auth: { token: 't' }, hour: 9 } };
  const decision = { permissions: ['doc:read'], denied: [], default: false, exact: true, policies: ['p'] } as unknown as Decision;
  for (let i = 0; i < 4; i++) {
    if (!log.sampled()) continue;
    log.write({ endpoint: 'evaluate', requestId: `r${i}`, decisionId: `d${i}`, request, decision, response: { permissions: ['doc:read'], cached: false } as never, latencyUs: 1 });
  }
  request.subject.attributes.team = 'changed later'; // the caller's objects are not what is shipped
  await until('the sampled records shipped', () => shipper.stats().shipped >= 2); // one turn, one batch
  const records = sink.records();
  t.same(records.map((r) => r.decisionId), ['d0', 'd2'], 'only the sampled decisions');
  t.match(records[0], { subject: { id: 'u1', attributes: { ssn: '[redacted]', team: 'blue', api_key: '[redacted]' } }, context: { auth: { token: '[redacted]' }, hour: 9 } });
  t.notMatch(JSON.stringify(records), /"123"|"k"|"t"/, 'no redacted value anywhere in the batch');
});

t.test('a record offered as its JSON text ships with its time in front, whether batched after its turn or within it', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 100, flushMs: 60_000, buffer: 100 });
  const at = Date.parse('2026-12-06T10:00:00.000Z');
  shipper.offer('{"n":0}', at);
  shipper.offer({ n: 1 }, at);
  await turn(); // both are lines now
  shipper.offer('{"n":2,"s":"a\\"b"}', at + 1);
  shipper.offer('{}', at + 2);
  await shipper.close(); // batched in the turn they were offered in: still given their time
  const lines = sink.batches.flatMap((b) => b.lines);
  t.same(lines, [
    '{"time":"2026-12-06T10:00:00.000Z","n":0}',
    '{"time":"2026-12-06T10:00:00.000Z","n":1}',
    '{"time":"2026-12-06T10:00:00.001Z","n":2,"s":"a\\"b"}',
    '{"time":"2026-12-06T10:00:00.002Z"}',
  ]);
  t.same(sink.records().map((r) => r.n), [0, 1, 2, undefined], 'every line is JSON');
});

t.test('with a stdout logger the line is serialised once: the shipped record is the stdout line, time apart', async (t) => {
  const sink = collecting();
  const shipper = new DecisionShipper(sink, { batch: 100, flushMs: 10, buffer: 100 });
  t.teardown(() => shipper.close());
  const out = captureLog();
  const log = createDecisionLog(out.logger, { enabled: true, sample: 1, redact: [], attributes: true }, [shipper])!;
  const request = { subject: { id: 'u1', roles: ['editor'], attributes: { password: 'p', team: 'blue' } }, namespace: 'ns', context: { note: 'quote " and \\ and \u2028' } };
  const decision = { permissions: ['doc:read'], denied: [], default: false, exact: true, policies: ['p'] } as unknown as Decision;
  log.write({ endpoint: 'evaluate', requestId: 'r1', decisionId: 'd1', request, decision, response: { permissions: ['doc:read'], cached: false } as never, latencyUs: 7 });
  await until('shipped', () => shipper.stats().shipped === 1);
  const [stdout] = out.decisions();
  const [shipped] = sink.records();
  const { level, time, pid, hostname, name, msg, ...fields } = stdout!;
  t.same({ level, name, msg, pid }, { level: 30, name: 'decision', msg: 'decision', pid: process.pid }, 'a pino info line');
  t.type(time, 'number');
  t.type(hostname, 'string');
  const { time: shippedTime, ...shippedFields } = shipped!;
  t.type(shippedTime, 'string');
  t.same(shippedFields, fields, 'the same fields, in the same order');
  t.same(Object.keys(shippedFields), Object.keys(fields));
  t.match(fields, { decisionId: 'd1', subject: { attributes: { password: '[redacted]', team: 'blue' } }, context: { note: 'quote " and \\ and \u2028' }, latencyUs: 7 });
});
