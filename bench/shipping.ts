// Run: node --import tsx bench/shipping.ts [rounds] [requests per batch] [--aa]
// A/B: what shipping the decision log to NATS JetStream (127.0.0.1:4222) costs decision
// throughput (target: ≥ 0.95× of shipping off). Two services in one process, the same
// policy, every decision logged (sample 1) to a pino destination on /dev/null on both
// sides; side B also ships every line to a JetStream stream this run creates and deletes.
// POST /v1/evaluate through fastify's inject (no socket), a cache hit and a cache miss
// (a new subject per request). Throughput is requests per CPU-second of this process —
// the shipper's batching, serialization and NATS client work run in the same process, so
// they are counted — in short interleaved rounds (the same machine load on both sides),
// medians of the per-round ratios. --aa: both sides without shipping (an A/A run: how far
// the method itself scatters on this machine).

import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { connect } from 'nats';
import { loadConfig } from '../src/config/config.js';
import { createServices, decisionLogOptions } from '../src/compose.js';
import { buildApp } from '../src/server/app.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const aa = process.argv.includes('--aa');
const rounds = Number(args[0] ?? 15);
const NATS = 'nats://127.0.0.1:4222';
const POLICY = 'key: global-base\nrules:\n  - { id: r, subjects: ["role:editor"], grant: ["document:*"], when: \'context.hour >= 9\' }\n  - { id: d, subjects: ["*"], deny: ["document:purge"] }\n';

const suffix = randomBytes(4).toString('hex');
const subject = `bench.decisions.${suffix}`;
const stream = `BENCH_${suffix}`;
const nc = await connect({ servers: NATS });
const jsm = await nc.jetstreamManager();
await jsm.streams.add({ name: stream, subjects: [subject], max_msgs: 1_000_000 });

async function side(ship: boolean) {
  const env: Record<string, string> = { SAMPLES_ENABLED: 'false', DECISION_LOG: 'true', DECISION_LOG_SAMPLE: '1' };
  if (ship) Object.assign(env, { DECISION_SHIP_NATS_URL: NATS, DECISION_SHIP_NATS_SUBJECT: subject });
  const config = { ...loadConfig(env), ui: false };
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const services = await createServices(config, logger, new MemoryStore());
  const app = await buildApp({
    decisions: services.decisions, policies: services.policies, relations: services.relations, manager: services.manager,
    auth: { adminToken: undefined, loopbackOnly: true }, bodyLimit: config.bodyLimit, logger,
    decisionLog: decisionLogOptions(config), decisionSinks: services.shippers,
  });
  const put = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml' }, payload: POLICY });
  if (put.statusCode !== 201) throw new Error(put.body);
  return { app, services };
}

const sides = { off: await side(false), on: await side(!aa) };
let miss = 0;
const body = (id: string) => JSON.stringify({ subject: { id, roles: ['editor'] }, namespace: 'global', context: { hour: 10 } });
const cases: Record<string, () => string> = { hit: () => body('user:alice'), miss: () => body(`user:${miss++}`) };
const N = Number(args[1] ?? 1000);

async function batch(which: 'off' | 'on', make: () => string): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const r = await sides[which].app.inject({ method: 'POST', url: '/v1/evaluate', headers: { host: '127.0.0.1:8080', 'content-type': 'application/json' }, payload: make() });
    if (r.statusCode !== 200) throw new Error(r.body);
  }
  const used = process.cpuUsage(start);
  return N / ((used.user + used.system) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { off: number[]; on: number[]; ratio: number[] }> = {};
for (const name of Object.keys(cases)) results[name] = { off: [], on: [], ratio: [] };
for (const name of Object.keys(cases)) { await batch('off', cases[name]!); await batch('on', cases[name]!); } // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [name, make] of Object.entries(cases)) {
    const order: Array<'off' | 'on'> = r % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    const got: Record<string, number> = {};
    for (const w of order) got[w] = await batch(w, make);
    results[name]!.off.push(got.off!);
    results[name]!.on.push(got.on!);
    results[name]!.ratio.push(got.on! / got.off!);
  }
}
// Let the last batches ship, then read what arrived.
await new Promise((r) => setTimeout(r, 2000));
const stats = sides.on.services.shippers[0]?.stats();
const info = await jsm.streams.info(stream);
console.log(`decision throughput, shipping to NATS JetStream on vs off${aa ? ' (A/A: both off)' : ''} (${rounds} rounds × ${N} requests per case and side; requests per CPU-second)`);
console.log('| case | off (req/CPU-s) | on (req/CPU-s) | on / off (median of rounds) | min–max of rounds |');
console.log('|---|---|---|---|---|');
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${median(r.off).toFixed(0)} | ${median(r.on).toFixed(0)} | ${median(r.ratio).toFixed(3)} | ${Math.min(...r.ratio).toFixed(3)}–${Math.max(...r.ratio).toFixed(3)} |`);
}
if (stats) console.log(`shipped ${stats.shipped}, dropped ${stats.dropped}, queued ${stats.queued}, failures ${stats.failures}; stream holds ${info.state.messages} messages`);
await jsm.streams.delete(stream);
await nc.close();
for (const s of Object.values(sides)) {
  await s.app.close();
  await s.services.close();
}
