// Writes over time: does a write (and a replica's sync) cost the same after 100,000
// writes as after the first few? Through the store API (MongoStore.put of a new version
// of one of 1,000 keys; MongoRelationStore.write of a batch that adds one tuple and
// removes the one added 1,000 batches before, so the live state stays at ~1,000 of each),
// plus a smaller sample through HTTP (PUT /v1/policies/:key on a child server) and a raw
// driver insert loop (the database's own growth, none of our code).
//
// Per decile of the run: writes/s, and a replica's sync cost at that point (a second
// store on the same database: `changesSince` of an up-to-date replica, of one 100
// changes behind, and a full `loadAll`). Verdict: the last 10% of writes must not be
// slower than the first 10% by more than 20% (throughput ratio last/first ≥ 0.8).
//
//   npx tsx bench/write-growth.ts [--quick] [--count N] [--http N] [--raw N] [--only policies,relations,http,raw] [--vacuum postgres://…]
//
// --vacuum URL: MONGO_URL is a FerretDB on the PostgreSQL backend (scripts/ferretdb
// -postgresql-url) whose PostgreSQL runs without autovacuum (as on these test machines):
// VACUUM that database after every 1,000 writes, inside the timed run, as autovacuum would.
// Without it the tables of a log that inserts and deletes keep every dead row, and every
// scan slows down with the number of writes: PostgreSQL's bloat, not this project's log.
//
// N defaults to 100,000 (--quick: 10,000); --http and --raw default to N/10. MONGO_URL
// (a server; each run makes its own database and drops it) or else a throw-away FerretDB
// v1 on SQLite (test/helpers/ferretdb.ts), which is far slower than MongoDB.

import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoStore } from '../src/store/mongo/mongo-store.js';
import { MongoRelationStore } from '../src/store/mongo/mongo-relation-store.js';
import { parseTuple } from '../src/core/relations/tuple.js';
import type { NewPolicy } from '../src/store/store.js';
import { samplePolicy } from '../src/store/conformance-support.js';
import { startNodeServer } from './lib/child.js';
import { loadavgText, median, round } from './lib/util.js';

type Args = { count: number; http: number; raw: number; only: Set<string>; vacuum?: string };

function parseArgs(argv: string[]): Args {
  const quick = argv.includes('--quick');
  const num = (flag: string, dflt: number) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const count = num('--count', quick ? 10_000 : 100_000);
  const i = argv.indexOf('--only');
  const only = new Set(i >= 0 ? argv[i + 1]!.split(',') : ['policies', 'relations', 'http', 'raw']);
  const v = argv.indexOf('--vacuum');
  return { count, http: num('--http', Math.round(count / 10)), raw: num('--raw', Math.round(count / 10)), only, ...(v >= 0 ? { vacuum: argv[v + 1]! } : {}) };
}

const KEYS = 1_000;

/** One decile's numbers. */
interface Decile { writesPerSec: number; pollUpToDateMs?: number; pollBehind100Ms?: number; loadAllMs?: number; logLength?: number; loadavg: string }

interface Replica {
  poll(): Promise<{ upToDate: number; behind: number; loadAll: number }>;
  logLength(): Promise<number>;
}

/** Run `count` writes, measuring each decile (writes/s) and then the replica's sync cost. */
async function deciles(label: string, count: number, writeOne: (i: number) => Promise<void>, replica?: Replica): Promise<Decile[]> {
  const out: Decile[] = [];
  const write = maintenance === undefined ? writeOne : async (i: number) => {
    await writeOne(i);
    if ((i + 1) % 1000 === 0) await maintenance!();
  };
  const size = Math.max(1, Math.floor(count / 10));
  let i = 0;
  for (let d = 0; d < 10; d++) {
    const end = d === 9 ? count : i + size;
    const t0 = performance.now();
    for (; i < end; i++) await write(i);
    const secs = (performance.now() - t0) / 1000;
    const row: Decile = { writesPerSec: (d === 9 ? count - 9 * size : size) / secs, loadavg: loadavgText() };
    if (replica) {
      const p = await replica.poll();
      row.pollUpToDateMs = p.upToDate;
      row.pollBehind100Ms = p.behind;
      row.loadAllMs = p.loadAll;
      row.logLength = await replica.logLength();
    }
    out.push(row);
    const extra = replica ? `, replica poll ${round(row.pollUpToDateMs!, 2)} ms (up to date) / ${round(row.pollBehind100Ms!, 2)} ms (100 behind), loadAll ${round(row.loadAllMs!, 1)} ms, log ${row.logLength} docs` : '';
    console.log(`${label}: decile ${d + 1}/10 (to ${i}): ${round(row.writesPerSec, 1)} writes/s${extra}  [load ${row.loadavg}]`);
  }
  const ratio = out[9]!.writesPerSec / out[0]!.writesPerSec;
  console.log(`${label}: last 10% / first 10% throughput = ${round(ratio, 3)} (${ratio >= 0.8 ? 'PASS' : 'FAIL'}: ≥ 0.8 needed)`);
  return out;
}

/** --vacuum: what autovacuum would do, run in line (set by main). */
let maintenance: (() => Promise<void>) | undefined;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Median of 5 runs of each sync step, by a replica that reached `revision`. */
async function syncCost(changesSince: (rev: string) => Promise<unknown>, loadAll: () => Promise<unknown>, revision: () => Promise<number>) {
  const rev = await revision();
  const up: number[] = [];
  const behind: number[] = [];
  const load: number[] = [];
  for (let k = 0; k < 5; k++) {
    up.push(await timed(() => changesSince(String(rev))));
    behind.push(await timed(() => changesSince(String(Math.max(0, rev - 100)))));
  }
  for (let k = 0; k < 3; k++) load.push(await timed(loadAll));
  return { upToDate: median(up), behind: median(behind), loadAll: median(load) };
}

/** Write i: a new version of one of KEYS keys. */
function policy(i: number): NewPolicy {
  const k = i % KEYS;
  return samplePolicy(`bench-k${k}`, { grant: [`doc${k}:v${i}`] });
}

async function putOverHttp(port: number, i: number): Promise<void> {
  const p = policy(i);
  const r = await fetch(`http://127.0.0.1:${port}/v1/policies/${p.key}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: p.text });
  if (r.status >= 300) throw new Error(`PUT ${p.key}: ${r.status} ${await r.text()}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let base = process.env.MONGO_URL;
  let ferret: { url: string; stop(): Promise<void> } | undefined;
  let backend = 'MongoDB-wire server at MONGO_URL';
  if (!base) {
    const { startFerretDB } = await import('../test/helpers/ferretdb.js');
    ferret = await startFerretDB();
    base = ferret.url;
    backend = 'FerretDB v1 (SQLite backend), throw-away, started for this run';
  }
  const dbName = `pe_wg_${randomBytes(4).toString('hex')}`;
  const url = `${base.replace(/\/[^/?]*(\?.*)?$/, '/')}${dbName}`;
  let vacuumClient: { query(sql: string): Promise<unknown>; end(): Promise<void> } | undefined;
  if (args.vacuum !== undefined) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: args.vacuum });
    await client.connect();
    vacuumClient = client;
    maintenance = async () => { await client.query('VACUUM'); };
    backend += `, VACUUM of ${args.vacuum} every 1,000 writes (its autovacuum is off)`;
  }
  console.log(`write-growth: ${backend}; database ${dbName}; ${args.count} store writes, ${args.http} HTTP, ${args.raw} raw inserts; load ${loadavgText()}`);
  const results: Record<string, Decile[]> = {};
  const client = new MongoClient(url);
  try {
    if (args.only.has('policies')) {
      const store = new MongoStore({ url, collection: 'p', serverSelectionTimeoutMS: 30_000 });
      const replica = new MongoStore({ url, collection: 'p', serverSelectionTimeoutMS: 30_000 });
      await store.open();
      // Every key exists before the measured run: the state stays at KEYS documents, only the log can grow.
      for (let i = 0; i < KEYS; i++) await store.put(policy(i));
      results.policies = await deciles('policies (store API)', args.count, async (i) => {
        await store.put(policy(i));
      }, {
        poll: () => syncCost((r) => replica.changesSince(r), () => replica.loadAll(), async () => Number((await replica.loadAll()).revision)),
        logLength: () => client.db().collection('p_changes').countDocuments(),
      });
      await store.close();
      await replica.close();
    }
    if (args.only.has('relations')) {
      const store = new MongoRelationStore({ url, collection: 'r', serverSelectionTimeoutMS: 30_000 });
      const replica = new MongoRelationStore({ url, collection: 'r', serverSelectionTimeoutMS: 30_000 });
      await store.open();
      const tuple = (i: number) => parseTuple(`doc:d${(i + KEYS) % KEYS}#viewer@user:u${i + KEYS}`);
      // Warm-up: KEYS live tuples (numbered below 0) before the measured run; each write then adds one and removes one.
      for (let i = -KEYS; i < 0; i++) await store.write({ writes: [tuple(i)], deletes: [], preconditions: [] });
      results.relations = await deciles('relationships (store API)', args.count, async (i) => {
        await store.write({ writes: [tuple(i)], deletes: [tuple(i - KEYS)], preconditions: [] });
      }, {
        poll: () => syncCost((r) => replica.changesSince(r), () => replica.loadAll(), async () => Number(await replica.revision())),
        logLength: () => client.db().collection('r_changes').countDocuments(),
      });
      await store.close();
      await replica.close();
    }
    if (args.only.has('http') && args.http > 0) {
      const httpDb = `${dbName}_http`;
      const server = await startNodeServer({ mode: 'mongo', env: { MONGO_URL: `${base.replace(/\/[^/?]*(\?.*)?$/, '/')}${httpDb}`, STORE: 'mongo' } }, 'mongo');
      try {
        for (let i = 0; i < Math.min(KEYS, args.http); i++) await putOverHttp(server.port, i);
        results.http = await deciles('policies (HTTP PUT)', args.http, (i) => putOverHttp(server.port, i));
      } finally {
        await server.stop();
        await client.db(httpDb).dropDatabase().catch(() => undefined);
      }
    }
    if (args.only.has('raw') && args.raw > 0) {
      // The database alone: one small document per insert into a plain collection.
      const raw = client.db().collection<{ _id: number; at: Date; text: string }>('raw');
      results.raw = await deciles('raw driver insertOne', args.raw, async (i) => {
        await raw.insertOne({ _id: i, at: new Date(), text: `version ${i}` });
      });
    }
  } finally {
    await client.db().dropDatabase().catch(() => undefined);
    await client.close();
    await ferret?.stop();
    await vacuumClient?.end();
  }
  console.log(JSON.stringify({ backend, count: args.count, results }));
}

await main();
