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
import { connect, type NatsConnection } from 'nats';
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

async function streamFor(t: Test, servers: string): Promise<{ nc: NatsConnection; subject: string; stream: string; records(): Promise<Array<Record<string, unknown>>> }> {
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
    async records() {
      const info = await jsm.streams.info(stream);
      const out: Array<Record<string, unknown>> = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq });
        out.push(m.json<Record<string, unknown>>());
      }
      return out;
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
  const { app } = await testApp(t, { env: { DECISION_SHIP_NATS_URL: SYSTEM_NATS, DECISION_SHIP_NATS_SUBJECT: s.subject, DECISION_SHIP_FLUSH_MS: '20', DECISION_SHIP_BATCH: '8' } });
  await app.inject({ method: 'PUT', url: '/v1/policies/ship-a', headers: { 'content-type': 'application/yaml' }, payload: policy });
  const ids = await decide(app, 30);
  t.equal(new Set(ids).size, 30, 'every decision has its own id');
  const records = await until('30 records', async () => {
    const r = await s.records();
    return r.length >= 30 ? r : undefined;
  });
  t.same(records.map((r) => r.decisionId).sort(), [...ids].sort(), 'exactly the decisions made, by id');
  const first = records.find((r) => r.decisionId === ids[0])!;
  t.match(first, { endpoint: 'evaluate', subject: { id: 'u0' }, decision: { permissions: ['doc:read'] } }, 'a record is the decision-log line');
  t.equal(await metric(app, 'policy_engine_decision_ship_shipped_total', 'nats'), 30);
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
  const shippedIds = async () => {
    const info = await jsm.streams.info(`OUTAGE_${suffix}`);
    const ids = new Set<string>();
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) ids.add((await jsm.streams.getMessage(`OUTAGE_${suffix}`, { seq })).json<{ decisionId: string }>().decisionId);
    return ids;
  };
  const ids = await until('shipping resumed', async () => {
    const got = await shippedIds();
    return after.every((id) => got.has(id)) ? got : undefined;
  }, 600);
  t.ok(after.every((id) => ids.has(id)), 'decisions made after NATS returned arrive');
  t.ok(during.filter((id) => ids.has(id)).length <= 60, 'of those made during the outage, only the buffered ones arrive');
  t.equal(await metric(app, 'policy_engine_decision_ship_queued', 'nats'), 0, 'nothing left waiting');
});
