// Decision records shipped besides stdout (docs/audit.md), against real sinks: the
// machine's NATS JetStream (127.0.0.1:4222), a nats-server this test starts and stops
// itself (for the outage), and a local HTTP server. Every decision has an id (header and
// body), and the shipped records carry it; with the sink down the service keeps
// answering, counts what it drops, and ships again once the sink is back.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { DecisionShipper } from '../../src/observability/decision-shipping.js';
import { natsTransport } from '../../src/observability/ship-transports.js';
import { testApp } from '../helpers/app.js';
import type { FastifyInstance } from 'fastify';

const SYSTEM_NATS = 'nats://127.0.0.1:4222';
const NATS_SERVER = '/usr/sbin/nats-server';
const policy = 'key: ship-a\nrules:\n  - subjects: ["*"]\n    grant: ["doc:read"]\n';

async function decide(app: FastifyInstance, n: number, offset = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const endpoint = i % 2 === 0 ? '/v1/evaluate' : '/v1/check';
    const payload = i % 2 === 0 ? { subject: `u${offset + i}`, namespace: 'ship' } : { subject: `u${offset + i}`, namespace: 'ship', permission: 'doc:read' };
    const r = await app.inject({ method: 'POST', url: endpoint, payload });
    if (r.statusCode !== 200) throw new Error(`${endpoint}: ${r.statusCode} ${r.body}`);
    const id = r.headers['x-decision-id'] as string;
    if (r.json().decisionId !== id) throw new Error('the body and the header name different decisions');
    ids.push(id);
  }
  return ids;
}

/** One JetStream message of decision records: NDJSON, one record per line (docs/audit.md). */
interface ShippedMessage {
  records: Array<Record<string, unknown>>;
  bytes: number;
  headers: Record<string, string | undefined>;
}

/** Reads every message of a stream the way docs/audit.md tells a consumer to. */
async function readStream(jsm: JetStreamManager, stream: string): Promise<ShippedMessage[]> {
  const info = await jsm.streams.info(stream);
  const out: ShippedMessage[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    const text = new TextDecoder().decode(m.data);
    out.push({
      records: text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>),
      bytes: m.data.length,
      headers: { type: m.header.get('Content-Type'), count: m.header.get('Decision-Records'), id: m.header.get('Nats-Msg-Id') },
    });
  }
  return out;
}

async function streamFor(t: Test, servers: string): Promise<{ nc: NatsConnection; subject: string; stream: string; messages(): Promise<ShippedMessage[]>; records(): Promise<Array<Record<string, unknown>>> }> {
  const nc = await connect({ servers });
  const suffix = randomBytes(4).toString('hex');
  const stream = `PE_TEST_${suffix}`;
  const subject = `pe-test.decisions.${suffix}`;
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [subject] });
  t.teardown(async () => {
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  });
  return {
    nc, subject, stream,
    messages: () => readStream(jsm, stream),
    async records() {
      return (await readStream(jsm, stream)).flatMap((m) => m.records);
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting: ${what}`);
}

async function metric(app: FastifyInstance, name: string, sink: string): Promise<number> {
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const m = new RegExp(`^${name}\\{sink="${sink}"\\} (\\d+)`, 'm').exec(body);
  return m ? Number(m[1]) : NaN;
}

t.test('decisions arrive in JetStream with their ids', async (t) => {
  const s = await streamFor(t, SYSTEM_NATS);
  // A flush interval well above a decision's time, even on a loaded machine (at 20 ms,
  // with load 16 on 2 cores, partial batches went out by time: 8 messages, not ≤ 7).
  const { app } = await testApp(t, { env: { DECISION_SHIP_NATS_URL: SYSTEM_NATS, DECISION_SHIP_NATS_SUBJECT: s.subject, DECISION_SHIP_FLUSH_MS: '250', DECISION_SHIP_BATCH: '8' } });
  await app.inject({ method: 'PUT', url: '/v1/policies/ship-a', headers: { 'content-type': 'application/yaml' }, payload: policy });
  const ids = await decide(app, 30);
  t.equal(new Set(ids).size, 30, 'every decision has its own id');
  const records = await until('30 records', async () => {
    const r = await s.records();
    return r.length >= 30 ? r : undefined;
  });
  t.same(records.map((r) => r.decisionId).sort(), [...ids].sort(), 'exactly the decisions made, by id: one record per decision');
  const first = records.find((r) => r.decisionId === ids[0])!;
  t.match(first, { endpoint: 'evaluate', subject: { id: 'u0' }, decision: { permissions: ['doc:read'] } }, 'a record is the decision-log line');
  t.equal(Object.keys(first)[0], 'time', 'the shipping time comes first');
  t.ok(!Number.isNaN(Date.parse(first.time as string)) && (first.time as string).endsWith('Z'), 'an ISO-8601 time');
  const messages = await s.messages();
  t.ok(messages.length <= Math.ceil(30 / 8) + 3 && messages.length < 30, `batched: ${messages.length} messages for 30 decisions`);
  t.ok(messages.some((m) => m.records.length > 1), 'a message holds several records');
  for (const m of messages) {
    t.equal(m.headers.type, 'application/x-ndjson');
    t.equal(m.headers.count, String(m.records.length), 'Decision-Records counts the message\'s records');
    t.ok(m.records.length <= 8, 'no message holds more than DECISION_SHIP_BATCH records');
  }
  t.equal(new Set(messages.map((m) => m.headers.id)).size, messages.length, 'each message has its own Nats-Msg-Id');
  t.equal(await metric(app, 'policy_engine_decision_ship_shipped_total', 'nats'), 30);
});

t.test('a batch closes at DECISION_SHIP_BATCH_BYTES', async (t) => {
  const s = await streamFor(t, SYSTEM_NATS);
  const { app } = await testApp(t, { env: { DECISION_SHIP_NATS_URL: SYSTEM_NATS, DECISION_SHIP_NATS_SUBJECT: s.subject, DECISION_SHIP_FLUSH_MS: '20', DECISION_SHIP_BATCH: '1000', DECISION_SHIP_BATCH_BYTES: '1024' } });
  await app.inject({ method: 'PUT', url: '/v1/policies/ship-a', headers: { 'content-type': 'application/yaml' }, payload: policy });
  const ids = await decide(app, 40);
  const records = await until('40 records', async () => {
    const r = await s.records();
    return r.length >= 40 ? r : undefined;
  });
  t.same(records.map((r) => r.decisionId).sort(), [...ids].sort(), 'every decision once');
  const messages = await s.messages();
  t.ok(messages.length >= 12, `${messages.length} messages of at most ~1 KiB for 40 records of some 300 bytes`);
  for (const m of messages) t.ok(m.bytes <= 1024 || m.records.length === 1, `a message of ${m.bytes} bytes holds ${m.records.length} records`);
});

t.test('a batch whose ack was lost is re-sent as the same batch: stored once, and later records are not lost to de-duplication', async (t) => {
  const s = await streamFor(t, SYSTEM_NATS);
  const nats = natsTransport({ servers: SYSTEM_NATS, subject: s.subject });
  let lose = 1;
  const sent: Array<{ id: string; n: number }> = [];
  // The real transport; the first batch is stored by the stream but its ack "lost" on the way back.
  const transport = {
    name: 'nats',
    async send(batch: Parameters<typeof nats.send>[0]) {
      sent.push({ id: batch.id, n: batch.lines.length });
      await nats.send(batch);
      if (lose-- > 0) throw new Error('ack lost');
    },
    close: () => nats.close(),
  };
  const shipper = new DecisionShipper(transport, { batch: 10, flushMs: 10, buffer: 100, backoffMs: 200 });
  t.teardown(() => shipper.close());
  for (let i = 0; i < 3; i++) shipper.offer({ decisionId: `early-${i}` }, Date.now());
  await until('the first send', async () => (sent.length >= 1 ? true : undefined));
  for (let i = 0; i < 3; i++) shipper.offer({ decisionId: `late-${i}` }, Date.now()); // during the back-off
  await until('everything shipped', async () => (shipper.stats().shipped === 6 ? true : undefined));
  const records = await s.records();
  t.same(records.map((r) => r.decisionId).sort(), ['early-0', 'early-1', 'early-2', 'late-0', 'late-1', 'late-2'], 'each record exactly once');
  t.same(sent[1], sent[0], 'the retry sent the same batch (id and records)');
  t.equal(shipper.stats().failures, 1);
});

t.test('a record too large for NATS, or not JSON, is dropped and counted, not retried for ever', async (t) => {
  const s = await streamFor(t, SYSTEM_NATS);
  const shipper = new DecisionShipper(natsTransport({ servers: SYSTEM_NATS, subject: s.subject }), { batch: 10, flushMs: 10, buffer: 100 });
  t.teardown(() => shipper.close());
  const huge = 'x'.repeat(s.nc.info!.max_payload + 1);
  shipper.offer({ decisionId: 'big', blob: huge }, Date.now());
  shipper.offer({ decisionId: 'not-json', n: 1n }, Date.now()); // JSON.stringify throws on a BigInt
  for (let i = 0; i < 5; i++) shipper.offer({ decisionId: `small-${i}` }, Date.now());
  const records = await until('the small records', async () => {
    const r = await s.records();
    return r.length >= 5 ? r : undefined;
  });
  t.same(records.map((r) => r.decisionId).sort(), ['small-0', 'small-1', 'small-2', 'small-3', 'small-4'], 'the small records arrive');
  t.equal(shipper.stats().dropped, 2, 'the record above max_payload and the one that is not JSON are dropped and counted');
  t.equal(shipper.stats().queued, 0);
});

t.test('a cached answer still gets a fresh id', async (t) => {
  const { app } = await testApp(t);
  await app.inject({ method: 'PUT', url: '/v1/policies/ship-a', headers: { 'content-type': 'application/yaml' }, payload: policy });
  const a = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'same', namespace: 'ship' } });
  const b = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'same', namespace: 'ship' } });
  t.equal(b.json().cached, true, 'the second answer comes from the cache');
  t.not(a.json().decisionId, b.json().decisionId);
  t.equal(b.json().decisionId, b.headers['x-decision-id']);
  t.same(b.json().permissions, ['doc:read'], 'the cached body is intact');
});

t.test('the HTTP sink gets batches, retried after failures', async (t) => {
  const received: Array<Record<string, unknown>> = [];
  let failFirst = 3;
  let posts = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      posts++;
      if (failFirst-- > 0) {
        res.statusCode = 503;
        return res.end();
      }
      received.push(...(JSON.parse(body) as Array<Record<string, unknown>>));
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  const { app } = await testApp(t, { env: { DECISION_SHIP_HTTP_URL: `http://127.0.0.1:${port}/decisions`, DECISION_SHIP_FLUSH_MS: '20', DECISION_SHIP_BATCH: '10' } });
  await app.inject({ method: 'PUT', url: '/v1/policies/ship-a', headers: { 'content-type': 'application/yaml' }, payload: policy });
  const ids = await decide(app, 25);
  await until('25 records', async () => (received.length >= 25 ? true : undefined));
  t.same(received.map((r) => r.decisionId).sort(), [...ids].sort(), 'every decision once, despite three failed posts');
  t.ok(posts < 25, `batched: ${posts} posts for 25 decisions`);
  t.ok(await metric(app, 'policy_engine_decision_ship_failures_total', 'http') >= 1, 'the failures are counted');
});

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function startNats(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' });
  await until('nats-server to listen', async () => {
    try {
      const nc = await connect({ servers: `nats://127.0.0.1:${port}`, timeout: 500 });
      await nc.close();
      return true;
    } catch {
      return undefined;
    }
  });
  return child;
}

async function stopNats(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  await exited;
}

t.test('with NATS down the service keeps answering, counts drops, and resumes', { skip: existsSync(NATS_SERVER) ? false : 'no nats-server on this machine' }, async (t) => {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pe-nats-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let nats = await startNats(port, dir);
  t.teardown(() => stopNats(nats));
  const url = `nats://127.0.0.1:${port}`;
  const suffix = randomBytes(4).toString('hex');
  const subject = `pe-outage.${suffix}`;
  {
    const nc = await connect({ servers: url });
    await (await nc.jetstreamManager()).streams.add({ name: `OUTAGE_${suffix}`, subjects: [subject] });
    await nc.close();
  }
  const { app } = await testApp(t, { env: { DECISION_SHIP_NATS_URL: url, DECISION_SHIP_NATS_SUBJECT: subject, DECISION_SHIP_FLUSH_MS: '20', DECISION_SHIP_BATCH: '10', DECISION_SHIP_BUFFER: '50' } });
  await app.inject({ method: 'PUT', url: '/v1/policies/ship-a', headers: { 'content-type': 'application/yaml' }, payload: policy });
  await decide(app, 10);
  await until('the first records shipped', async () => ((await metric(app, 'policy_engine_decision_ship_shipped_total', 'nats')) >= 10 ? true : undefined));

  await stopNats(nats);
  const during = await decide(app, 300, 1000);
  t.equal(during.length, 300, 'every decision answered while NATS is down');
  const dropped = await until('drops counted', async () => {
    const d = await metric(app, 'policy_engine_decision_ship_dropped_total', 'nats');
    return d > 0 ? d : undefined;
  });
  t.ok(dropped >= 300 - 50 - 10, `past the buffer, records are dropped and counted (${dropped})`);

  nats = await startNats(port, dir);
  // The backlog (the buffered records) goes first; then new decisions ship as before.
  await until('the backlog shipped', async () => ((await metric(app, 'policy_engine_decision_ship_queued', 'nats')) === 0 ? true : undefined), 600);
  const after = await decide(app, 20, 5000);
  const nc = await connect({ servers: url });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  const shippedIds = async () => (await readStream(jsm, `OUTAGE_${suffix}`)).flatMap((m) => m.records.map((r) => r.decisionId as string));
  const all = await until('shipping resumed', async () => {
    const got = new Set(await shippedIds());
    return after.every((id) => got.has(id)) ? await shippedIds() : undefined;
  }, 600);
  const ids = new Set(all);
  t.ok(after.every((id) => ids.has(id)), 'decisions made after NATS returned arrive');
  t.equal(all.filter((id) => after.includes(id)).length, after.length, 'once each');
  t.ok(during.filter((id) => ids.has(id)).length <= 60, 'of those made during the outage, only the buffered ones arrive');
  t.equal(await metric(app, 'policy_engine_decision_ship_queued', 'nats'), 0, 'nothing left waiting');
});
