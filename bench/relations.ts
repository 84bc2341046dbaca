// Relationship numbers: `node --import tsx bench/relations.ts [--quick] [--node-flags "…"]`
// (--node-flags: Node/V8 flags for the service after `npm start`'s, e.g. a larger
// `--max-old-space-size`, to weigh the heap bound against the graph's size).
//
// A graph of 100,000 tuples (5,000 users in 500 nested groups; 20,000 documents in
// 1,000 trees of parents; owners, editors, readers, group readers on the roots) is
// written through the MongoDB relationship store into FerretDB (the test server:
// FerretDB v1 filters in its own process, so store times here understate MongoDB),
// then a service (compose + buildApp from dist/, started with the flags of `npm start`,
// relationships on FerretDB) runs in a child
// process and is measured over HTTP against a bare fastify route taking the same body:
// checks/s with the answer cached (one question asked again and again) and uncached
// (a different document and user every request; its bare route gets the same stream of
// bodies, in interleaved slices), and lookup-resources latency for
// users who can read about 100 documents (asked one at a time from a fresh process, after
// as many lookups of other users). In-process engine numbers and the index's
// memory are measured here too. The machine's load is printed first: numbers from a
// busy machine are lower bounds.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { pino } from 'pino';
import { RelationEngine } from '../src/core/relations/relation-engine.js';
import { RelationIndex } from '../src/core/relations/relation-index.js';
import { compileSchema } from '../src/core/relations/schema/compile-schema.js';
import { MongoRelationStore } from '../src/store/mongo/mongo-relation-store.js';
import { parseObject, parseSubject, parseTuple, type Tuple } from '../src/core/relations/tuple.js';
import { ensureBuilt, shipped } from './lib/shipped.js';
import { startSettings } from './lib/start-flags.js';
import { startFerretDB } from '../test/helpers/ferretdb.js';
import { startChild } from './lib/child.js';
import { interleavedLoads, runLoad, loadProblems, mergeLoads, type LoadRequest, type LoadResult } from './lib/load.js';
import { percentileSorted } from './lib/util.js';

const SCHEMA = `user: {}
group:
  relations: { member: [user, "group#member"] }
document:
  relations: { owner: [user], editor: [user, "group#member"], reader: [user, "group#member", "user:*"], parent: [document] }
  permissions:
    read: owner | editor | reader | parent->read
    write: owner | editor | parent->editor
`;
const USERS = 5000;
const GROUPS = 500;
const TREES = 1000;
const TREE_SIZE = 20;
const DOCS = TREES * TREE_SIZE;

/** A small deterministic PRNG (mulberry32), so every run measures the same graph. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function graph(): string[] {
  const rnd = prng(42);
  const pick = (n: number) => Math.floor(rnd() * n);
  const out = new Set<string>();
  for (let u = 0; u < USERS; u++) for (let k = 0; k < 2; k++) out.add(`group:g${pick(GROUPS)}#member@user:u${u}`);
  for (let k = 0; k < 100; k++) out.add(`group:g${pick(GROUPS)}#member@group:g${pick(GROUPS)}#member`);
  for (let tr = 0; tr < TREES; tr++) {
    const root = tr * TREE_SIZE;
    for (let k = 1; k <= 3; k++) out.add(`document:d${root + k}#parent@document:d${root}`);
    for (let k = 4; k < TREE_SIZE; k++) out.add(`document:d${root + k}#parent@document:d${root + ((k - 4) % 3) + 1}`);
    out.add(`document:d${root}#reader@group:g${tr % GROUPS}#member`);
  }
  for (let d = 0; d < DOCS; d++) {
    out.add(`document:d${d}#owner@user:u${pick(USERS)}`);
    if (d % 2 === 0) out.add(`document:d${d}#editor@user:u${pick(USERS)}`);
  }
  // Readers fill the graph up to exactly 100,000 tuples.
  while (out.size < 100_000) out.add(`document:d${pick(DOCS)}#reader@user:u${pick(USERS)}`);
  return [...out];
}

// ---- child process: the service, or the bare fastify ceiling ----------------------------

async function serve(cfg: { mode: 'app' | 'bare'; mongoUrl?: string }): Promise<void> {
  let port: number;
  const extra: Record<string, unknown> = {};
  if (cfg.mode === 'bare') {
    const app = Fastify({ logger: false, onProtoPoisoning: 'error', onConstructorPoisoning: 'error' });
    const body = JSON.stringify({ allowed: true, revision: '101' });
    app.post('/v1/relations/check', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  } else {
    // STORE_TIMEOUT_MS: loading 100,000 tuples from a FerretDB on a busy machine can hold
    // one round trip past the 2 s default; the graph must load before anything is measured.
    // The code that ships (dist/, see bench/lib/shipped.ts), not src/ through tsx.
    const { loadConfig, createServices, buildApp } = await shipped();
    const config = loadConfig({ MONGO_URL: cfg.mongoUrl!, LOG_LEVEL: 'silent', POLL_INTERVAL_MS: '1000', STORE_TIMEOUT_MS: '30000' });
    const t0 = performance.now();
    const services = await createServices(config, pino({ level: 'silent' }));
    extra.loadMs = Math.round(performance.now() - t0);
    extra.heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    const app = await buildApp({
      decisions: services.decisions, policies: services.policies, manager: services.manager, relations: services.relations,
      auth: { adminToken: undefined, loopbackOnly: true }, bodyLimit: config.bodyLimit, logger: false,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  }
  process.stdout.write(`${JSON.stringify({ ready: true, port, ...extra })}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.once('SIGTERM', () => process.exit(0));
}

// ---- lookups over HTTP, timed by the asking process ----------------------------------------

/** Child process: the lookups, their latencies as JSON on stdout. */
async function lookupsChild(cfg: { port: number; users: number }): Promise<void> {
  await lookupLatencies(cfg.port, cfg.users, cfg.users); // warm-up: the next users
  const out = JSON.stringify(await lookupLatencies(cfg.port, cfg.users));
  // Exit once written: fetch's kept-alive socket would hold the process a few seconds more.
  process.stdout.write(out, () => process.exit(0));
}

interface Lookups { lat: number[]; results: number }

/** `users` lookups, of user:u<first> onwards. */
async function lookupLatencies(port: number, users: number, first = 0): Promise<Lookups> {
  const lat: number[] = [];
  let results = 0;
  for (let u = first; u < first + users; u++) {
    const t1 = performance.now();
    const r = await fetch(`http://127.0.0.1:${port}/v1/relations/lookup-resources`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceType: 'document', permission: 'read', subject: `user:u${u}`, limit: 1000 }),
    });
    const body = (await r.json()) as { resources: string[] };
    lat.push(performance.now() - t1);
    results += body.resources.length;
  }
  return { lat: lat.sort((a, b) => a - b), results };
}

function lookupRow(label: string, { lat, results }: Lookups): string {
  return `${label}: p50 ${percentileSorted(lat, 50).toFixed(2)} ms, p99 ${percentileSorted(lat, 99).toFixed(2)} ms, max ${lat[lat.length - 1]!.toFixed(2)} ms (${(results / lat.length).toFixed(0)} results on average, ${lat.length} users)`;
}

// ---- the parent: data, loads, report ------------------------------------------------------

const execFileAsync = promisify(execFile);
const quick = process.argv.includes('--quick');
const flagsAt = process.argv.indexOf('--node-flags');
const EXTRA_FLAGS = flagsAt > 0 ? (process.argv[flagsAt + 1] ?? '').split(' ').filter(Boolean) : [];
const log = (s: string) => console.log(s);

function heapMiB(): number {
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function inProcess(tuples: Tuple[]): void {
  const compiled = compileSchema(SCHEMA, 'yaml');
  if (!compiled.ok) throw new Error('schema');
  const before = heapMiB();
  const index = new RelationIndex();
  const t0 = performance.now();
  for (const t of tuples) index.add(t);
  const buildMs = performance.now() - t0;
  const engine = new RelationEngine(index, compiled.schema);
  log(`in process: index of ${index.size} tuples built in ${buildMs.toFixed(0)} ms, heap +${(heapMiB() - before).toFixed(0)} MiB (approximate: no forced GC)`);
  const rnd = prng(7);
  const n = quick ? 50_000 : 300_000;
  const queries = Array.from({ length: n }, () => [parseObject(`document:d${Math.floor(rnd() * DOCS)}`), parseSubject(`user:u${Math.floor(rnd() * USERS)}`)] as const);
  let allowed = 0;
  const t1 = performance.now();
  for (const [doc, user] of queries) if (engine.check(doc, 'read', user).allowed) allowed++;
  const s = (performance.now() - t1) / 1000;
  log(`in process: ${Math.round(n / s).toLocaleString('en')} uncached checks/s (random document and user; ${allowed} allowed of ${n})`);
  const lat: number[] = [];
  let results = 0;
  for (let u = 0; u < (quick ? 100 : 500); u++) {
    const t2 = performance.now();
    results += engine.lookupResources('document', 'read', parseSubject(`user:u${u}`), 1000).ids.length;
    lat.push(performance.now() - t2);
  }
  lat.sort((a, b) => a - b);
  log(`in process: lookup-resources p50 ${percentileSorted(lat, 50).toFixed(2)} ms, p99 ${percentileSorted(lat, 99).toFixed(2)} ms (${(results / lat.length).toFixed(0)} results on average)`);
}

function row(label: string, r: LoadResult, bare?: LoadResult): string {
  const problems = loadProblems(r);
  const ratio = bare ? ` = ${(r.rps / bare.rps).toFixed(2)}× bare` : '';
  // The load generator shares the machine: server CPU per request says what the server costs.
  const cpu = r.serverCores !== undefined ? `, server ${r.serverCores.toFixed(2)} cores = ${((r.serverCores * 1e6) / r.rps).toFixed(0)} µs CPU/request` : '';
  return `${label.padEnd(42)} ${Math.round(r.rps).toLocaleString('en').padStart(7)} req/s${ratio}, p50 ${r.latencyMs.p50.toFixed(2)} ms, p99 ${r.latencyMs.p99.toFixed(2)} ms${cpu}${problems ? `  (PROBLEMS: ${problems})` : ''}`;
}

async function main(): Promise<void> {
  log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  ensureBuilt(log);
  const lines = graph();
  const tuples = lines.map(parseTuple);
  inProcess(tuples);

  const ferret = await startFerretDB();
  const mongoUrl = `${ferret.url.replace(/\/$/, '')}/bench_relations`;
  const children: Array<{ stop(): Promise<void> }> = [];
  try {
    // A patient loader: on a busy machine a 1,000-tuple batch can take longer than the
    // store's default 2 s timeout, which would end the run before anything is measured.
    const store = new MongoRelationStore({ url: mongoUrl, serverSelectionTimeoutMS: 30_000 });
    await store.open();
    await store.putSchema(SCHEMA, 'yaml');
    const t0 = performance.now();
    for (let i = 0; i < tuples.length; i += 1000) await store.write({ writes: tuples.slice(i, i + 1000), deletes: [], preconditions: [] });
    log(`FerretDB: ${tuples.length} tuples written in batches of 1,000 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await store.close();

    const me = [process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname]] as const;
    const bare = await startChild(me[0], [...me[1]], { env: { BENCH_RELATIONS_SERVER: JSON.stringify({ mode: 'bare' }) }, label: 'bare fastify' });
    children.push(bare);
    // The service as `npm start` and the image start it: its heap flags and environment.
    const start = startSettings();
    if (EXTRA_FLAGS.length > 0) log(`service: started with ${[...start.flags, ...EXTRA_FLAGS].join(' ')} (the later of two equal flags wins)`);
    const app = await startChild(me[0], [...start.flags, ...EXTRA_FLAGS, ...me[1]], { env: { ...start.env, BENCH_RELATIONS_SERVER: JSON.stringify({ mode: 'app', mongoUrl }) }, label: 'service', timeoutMs: 600_000 });
    children.push(app);
    log(`service: loaded the graph from FerretDB in ${String(app.info.loadMs)} ms (heap ${String(app.info.heapMiB)} MiB after start)`);

    const durationSec = quick ? 3 : 10;
    const load = { connections: 10, durationSec, maxRequests: 2_000_000 };
    const hitBody = JSON.stringify({ resource: 'document:d4', permission: 'read', subject: 'user:u17' });
    const post = (path: string, body: string) => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body });
    // Warm both up (JIT, connections), then measure.
    await runLoad({ port: bare.port, requests: [post('/v1/relations/check', hitBody)], ...load, durationSec: 2, pids: [bare.pid] });
    await runLoad({ port: app.port, requests: [post('/v1/relations/check', hitBody)], ...load, durationSec: 2, pids: [app.pid] });
    const bareR = await runLoad({ port: bare.port, requests: [post('/v1/relations/check', hitBody)], ...load, pids: [bare.pid] });
    const hit = await runLoad({ port: app.port, requests: [post('/v1/relations/check', hitBody)], ...load, pids: [app.pid] });
    // The uncached run sends a new body every request, which costs the load generator (it
    // shares the 2 cores and sets the pace: the server is not saturated here) more than a
    // fixed body. Its ratio is therefore taken against the bare route fed the same stream
    // of bodies (interleaved with it, in slices, so a change in the machine's speed falls
    // on both); the ratio against the fixed-body bare run is printed beside it.
    const randomBodies = (seed: number): LoadRequest => {
      const rnd = prng(seed);
      return {
        ...post('/v1/relations/check', hitBody),
        setupRequest: (req: { body?: string }) => {
          req.body = JSON.stringify({ resource: `document:d${Math.floor(rnd() * DOCS)}`, permission: 'read', subject: `user:u${Math.floor(rnd() * USERS)}` });
          return req;
        },
      };
    };
    const rounds = quick ? 1 : 4;
    const slices = await interleavedLoads([bare, app], rounds, (child, round) => ({
      port: child.port, requests: [randomBodies(11 + round)], ...load, durationSec: durationSec / rounds, pids: [child.pid],
    }));
    const bareStream = mergeLoads(slices.get(bare)!);
    const miss = mergeLoads(slices.get(app)!);
    log(row('bare fastify (same body, fixed answer)', bareR));
    log(row('check, cached answer', hit, bareR));
    log(row('bare fastify (the uncached run\'s bodies)', bareStream));
    log(`${row('check, uncached (random doc × user)', miss, bareStream)}; against the fixed-body bare run ${(miss.rps / bareR.rps).toFixed(2)}×`);

    // lookup-resources, one request at a time, for users reading about 100 documents,
    // asked from a fresh process (this one holds the in-process graph and the loads'
    // latencies: its garbage collection would be counted) after as many lookups of other
    // users (the service's lookup code is not compiled by the checks above).
    const users = quick ? 50 : 300;
    const asked = JSON.parse((await execFileAsync(me[0], [...me[1]], { env: { ...process.env, BENCH_RELATIONS_LOOKUPS: JSON.stringify({ port: app.port, users }) } })).stdout) as Lookups;
    log(lookupRow('lookup-resources over HTTP', asked));
    log(`uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  } finally {
    for (const c of children.reverse()) await c.stop();
    await ferret.stop();
  }
}

const childConfig = process.env.BENCH_RELATIONS_SERVER;
const lookupsConfig = process.env.BENCH_RELATIONS_LOOKUPS;
const role = childConfig ? serve(JSON.parse(childConfig) as { mode: 'app' | 'bare'; mongoUrl?: string })
  : lookupsConfig ? lookupsChild(JSON.parse(lookupsConfig) as { port: number; users: number })
  : main();
role.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
