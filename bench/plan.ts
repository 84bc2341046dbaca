// Query plans (POST /v1/plan, docs/plans.md): what a plan costs and what it saves.
//
//   MONGO_URL=mongodb://127.0.0.1:27999/ node --import tsx bench/plan.ts [--rows 100000] [--quick] [--no-ferretdb] [--no-postgres]
//       [--page-only] [--ferretdb-backend sqlite|postgresql|both] [--tenant]
//
// --page-only skips 1 and 2. --ferretdb-backend postgresql starts a FerretDB of its own on
// FerretDB's PostgreSQL backend (a database created for the run in the local PostgreSQL,
// PGHOST/PGPORT/PGUSER, dropped after); sqlite (the default) uses MONGO_URL. --tenant adds
// the list query of a real API: one org's documents, the org equality at the top level
// beside the authorization filter, for an org the subject reads widely (o3) and one where
// it reads only what it owns (o13: u1's own documents are all there).
//
// 1. plan latency in process, on the composed PlanService (answer cache on, as served):
//    3 namespaces × 10 documents, conditions over subject, context and resource; p50 / p99
//    of a miss (a new subject id every plan: the plan is computed) and of a hit.
// 2. HTTP: POST /v1/plan on the real app, hits (one body) and misses (a new subject id
//    per request), each against a bare fastify route answering a constant, measured in
//    the same run (autocannon, loopback).
// 3. "The first page of 50 authorized documents out of N rows", sorted by _id with a
//    limit of 50 in every strategy, over HTTP to a real engine, with the indexes an API
//    would have ({owner}, {status, org}; _id is the primary key):
//      a. plan + one query: POST /v1/plan, then the filter in the database
//      b. lookup ids + $in: the same authorization held as relationships; every id from
//         lookup-resources (paged), then _id in ids
//      c. row by row: read rows in _id order, POST /v1/check each (16 at a time), until 50
//    in FerretDB (find(plan.mongo)) and in PostgreSQL (plan.sql). FerretDB v1 on SQLite
//    pushes only `{_id: <string>}` down to SQLite (backends/sqlite/collection.go, Query):
//    every other filter and every sort runs in FerretDB's process over every row, so
//    each strategy pays a full scan there; its cost is printed as a floor. On its
//    PostgreSQL backend (backends/postgresql/query.go, prepareWhereClause) FerretDB v1
//    pushes down top-level `{field: <scalar>}`, `$eq` and `$ne` (as jsonb `@>`, which a
//    btree index does not serve: a sequential scan in PostgreSQL, but only matching rows
//    reach FerretDB); never `$or`, `$in`, `$and`, `$nor`, nor a sort other than $natural.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createServices } from '../src/compose.js';
import { buildApp } from '../src/server/app.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { planDocuments, PLAN_REQUEST } from './plan-fixtures.js';
import { ferretDBBinary } from '../test/helpers/ferretdb.js';
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const rowsArg = argv.indexOf('--rows');
const ROWS = rowsArg >= 0 ? Number(argv[rowsArg + 1]) : quick ? 20_000 : 100_000;
const withFerret = !argv.includes('--no-ferretdb');
const withPostgres = !argv.includes('--no-postgres');
const pageOnly = argv.includes('--page-only');
const tenant = argv.includes('--tenant');
const backendArg = argv.indexOf('--ferretdb-backend');
const BACKEND = backendArg >= 0 ? argv[backendArg + 1]! : 'sqlite';
if (!['sqlite', 'postgresql', 'both'].includes(BACKEND)) throw new Error(`--ferretdb-backend: sqlite, postgresql or both, not ${BACKEND}`);
/** The tenants of --tenant: one whose published documents the subject reads, one where it reads only its own. */
const TENANTS = ['o3', 'o13'];

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;

// ---- 1. in process

type Plans = Awaited<ReturnType<typeof engine>>['services']['plans'];

function percentiles(run: (i: number) => void, n: number): { p50: number; p99: number } {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    run(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p99: pct(times, 99) };
}

/** Misses: a subject id never asked before, so the answer cache cannot have it (and context varies too). */
const missRequest = (i: number) => ({ ...PLAN_REQUEST, subject: { ...PLAN_REQUEST.subject, id: `user:m${i}` }, context: { hour: i % 24 } });

function inProcess(plans: Plans): { miss: { p50: number; p99: number }; hit: { p50: number; p99: number }; n: number } {
  for (let i = 0; i < 2000; i++) plans.plan(missRequest(1_000_000 + i));
  const n = quick ? 2000 : 10_000;
  const miss = percentiles((i) => plans.plan(missRequest(i)), n);
  plans.plan(PLAN_REQUEST);
  const hit = percentiles(() => plans.plan(PLAN_REQUEST), n);
  return { miss, hit, n };
}

// ---- 2. HTTP

interface Load { rps: number; p50: number; p99: number }

/** autocannon on one route: one body for every request, or a new one per request. */
async function load(url: string, body: string | ((i: number) => string)): Promise<Load> {
  let i = 0;
  const options = typeof body === 'string'
    ? { body }
    : { requests: [{ method: 'POST' as const, setupRequest: (req: Record<string, unknown>) => ({ ...req, body: body(i++) }) }] };
  const r = await autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, connections: 10, duration: quick ? 3 : 8, ...options });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

const showLoad = (l: Load) => `${l.rps.toFixed(0)} req/s (p50 ${l.p50} ms, p99 ${l.p99} ms)`;

async function engine() {
  const config = { ...loadConfig({ POLL_INTERVAL_MS: '100', CACHE_MAX: '0' }), planMaxIds: 200_000 };
  const services = await createServices(config, pino({ level: 'silent' }), new MemoryStore());
  const app = await buildApp({
    decisions: services.decisions, policies: services.policies, relations: services.relations, manager: services.manager,
    plans: services.plans, planMaxIds: services.planMaxIds,
    auth: { adminToken: undefined, allowedHosts: config.allowedHosts, loopbackOnly: true }, bodyLimit: config.bodyLimit,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, services, url, close: async () => { await app.close(); await services.close(); } };
}

async function post(url: string, path: string, body: unknown): Promise<any> {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

type Row = { _id: string; owner: string; status: string; org: string };
type Strategy = (subject: string) => Promise<string[]>;

// u1 may read what it owns (1 in 500) and what is published in orgs o0…o4 (1 in 3 × 5 in 50): about 3.5 %
const rowOf = (i: number): Row => ({ _id: `doc${String(i).padStart(6, '0')}`, owner: `user:u${i % 500}`, status: ['draft', 'published', 'archived'][(i * 7) % 3]!, org: `o${(i * 13) % 50}` });
const SUBJECT = 'user:u1';

/** Median time of a strategy over a few runs; every run must return exactly the expected page (undefined: any page). */
async function timeIt(label: string, expected: string[] | undefined, run: Strategy): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < (quick ? 2 : 3); k++) {
    const s = performance.now();
    const ids = await run(SUBJECT);
    times.push(performance.now() - s);
    if (expected && JSON.stringify(ids) !== JSON.stringify(expected)) throw new Error(`${label}: wrong page ${JSON.stringify(ids.slice(0, 5))}… (${ids.length}), expected ${JSON.stringify(expected.slice(0, 5))}… (${expected.length})`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Every id lookup-resources answers, paged. */
async function lookupIds(url: string, subject: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { resources: string[]; cursor: string | null } = await post(url, '/v1/relations/lookup-resources', { subject, resourceType: 'doc', permission: 'read', limit: 1000, ...(cursor ? { cursor } : {}) });
    ids.push(...page.resources.map((r) => r.slice('doc:'.length)));
    cursor = page.cursor;
  } while (cursor);
  return ids;
}

/** Rows in _id order, checked 16 at a time with POST /v1/check, until 50 are allowed. */
async function rowByRow(url: string, subject: string, rows: AsyncIterable<Row>, counted: { checked: number }): Promise<string[]> {
  const out: string[] = [];
  counted.checked = 0;
  let batch: Row[] = [];
  const flush = async () => {
    const answers = await Promise.all(batch.map((r) => post(url, '/v1/check', { subject, namespace: 'global', permission: 'doc:read', resource: { type: 'doc', id: r._id, attributes: { owner: r.owner, status: r.status, org: r.org } } })));
    counted.checked += batch.length;
    answers.forEach((ans, i) => { if (ans.allowed && out.length < 50) out.push(batch[i]!._id); });
    batch = [];
  };
  for await (const row of rows) {
    batch.push(row);
    if (batch.length === 16) await flush();
    if (out.length >= 50) break;
  }
  if (out.length < 50 && batch.length > 0) await flush();
  return out;
}

/** A list query measured: every row, or one org's rows (the org equality beside the authorization filter). */
interface Scenario {
  label: string;
  org?: string;
  /** the first page: at most 50 authorized ids in _id order */
  expected: string[];
  authorized: number;
}

const indexOf = (id: string) => Number(id.slice('doc'.length));

function scenarios(allowedIds: string[]): Scenario[] {
  const out: Scenario[] = [{ label: `all ${ROWS} rows`, expected: allowedIds.slice(0, 50), authorized: allowedIds.length }];
  if (tenant) {
    for (const org of TENANTS) {
      const ids = allowedIds.filter((id) => rowOf(indexOf(id)).org === org);
      out.push({ label: `tenant org = ${org} (${ROWS / 50} of the ${ROWS} rows)`, org, expected: ids.slice(0, 50), authorized: ids.length });
    }
  }
  return out;
}

function report(name: string, sc: Scenario, floor: string | undefined, a: number, b: number, c: number, checked: number): void {
  console.log(`   ${name}, ${sc.label}: first page of ${sc.expected.length} authorized (${sc.authorized} authorized in all), median of ${quick ? 2 : 3}, loadavg ${loadavg()}:`);
  if (floor) console.log(`      ${floor}`);
  console.log(`      a. plan + one query:     ${a.toFixed(1)} ms`);
  console.log(`      b. lookup ids + $in:     ${b.toFixed(1)} ms (${allowedCount} ids through lookup-resources)  → plan ${(b / a).toFixed(1)}× faster`);
  console.log(`      c. row by row (check):   ${c.toFixed(1)} ms (${checked} rows checked)  → plan ${(c / a).toFixed(1)}× faster`);
}

let allowedCount = 0;

const loadavg = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

async function latencies(e: Awaited<ReturnType<typeof engine>>): Promise<void> {
  const ip = inProcess(e.services.plans);
  console.log(`1. in process, 3 namespaces × 10 documents (${ip.n} plans each), loadavg ${loadavg()}:`);
  console.log(`   miss (computed): p50 ${ms(ip.miss.p50)}, p99 ${ms(ip.miss.p99)}; hit (answer cache): p50 ${ms(ip.hit.p50)}, p99 ${ms(ip.hit.p99)}`);

  const bare = Fastify();
  bare.post('/bare', async () => ({ kind: 'always', exact: true, revision: '1', filter: true, mongo: {}, sql: { where: 'TRUE', params: [] } }));
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
  const bare1 = await load(`${bareUrl}/bare`, '{}');
  const hits = await load(`${e.url}/v1/plan`, JSON.stringify(PLAN_REQUEST));
  const misses = await load(`${e.url}/v1/plan`, (i) => JSON.stringify(missRequest(2_000_000 + i)));
  const bare2 = await load(`${bareUrl}/bare`, '{}');
  await bare.close();
  const bareRps = (bare1.rps + bare2.rps) / 2;
  console.log(`2. HTTP POST /v1/plan, loadavg ${loadavg()}: bare fastify route ${showLoad(bare1)} before, ${showLoad(bare2)} after`);
  console.log(`   hits: ${showLoad(hits)}, ratio ${(hits.rps / bareRps).toFixed(2)}; misses: ${showLoad(misses)}, ratio ${(misses.rps / bareRps).toFixed(2)}`);
}

async function main(): Promise<void> {
  console.log(`# query plans — ${new Date().toISOString()}, loadavg ${loadavg()}`);
  const e = await engine();
  try {
    for (const text of planDocuments()) {
      const doc = JSON.parse(text) as { key: string };
      const r = await e.app.inject({ method: 'PUT', url: `/v1/policies/${doc.key}`, headers: { 'content-type': 'application/json' }, payload: text });
      if (r.statusCode >= 300) throw new Error(r.body);
    }
    if (!pageOnly) await latencies(e);
    // ---- 3. the first page of 50
    await e.app.inject({ method: 'PUT', url: '/v1/policies/global-bench', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({
      key: 'global-bench', ordinal: -1, rules: [{ id: 'owner', subjects: ['*'], grant: ['doc:read'], when: "resource.attributes.owner == subject.id || (resource.attributes.status == 'published' && resource.attributes.org in ['o0', 'o1', 'o2', 'o3', 'o4'])" }],
    }) });
    const allowedIds: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      const r = rowOf(i);
      if (r.owner === SUBJECT || (r.status === 'published' && ['o0', 'o1', 'o2', 'o3', 'o4'].includes(r.org))) allowedIds.push(r._id);
    }
    // the same authorization as relationships, for lookup-resources
    await e.app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: 'user: {}\ndoc:\n  relations: { viewer: [user] }\n  permissions: { read: viewer }\n' });
    for (let i = 0; i < allowedIds.length; i += 1000) {
      const r = await e.app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: allowedIds.slice(i, i + 1000).map((id) => `doc:${id}#viewer@${SUBJECT}`) } });
      if (r.statusCode !== 200) throw new Error(r.body);
    }
    allowedCount = allowedIds.length;
    const planFor = (subject: string) => post(e.url, '/v1/plan', { subject, namespace: 'global', permission: 'doc:read', resource: { type: 'doc' }, fields: { id: '_id' } });
    console.log(`3. the first page of 50 authorized rows, sorted by _id, limit 50 in every strategy`);
    if (withFerret && BACKEND !== 'postgresql') await ferret('FerretDB v1 (SQLite backend)', process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27999/', e.url, planFor, allowedIds);
    if (withFerret && BACKEND !== 'sqlite') await withFerretOnPostgres((mongoUrl) => ferret('FerretDB v1 (PostgreSQL backend)', mongoUrl, e.url, planFor, allowedIds));
    if (withPostgres) await postgres(e.url, planFor, allowedIds);
  } finally {
    await e.close();
  }
}

type PlanFor = (subject: string) => Promise<{ mongo: Record<string, unknown>; sql: { where: string; params: unknown[] } }>;

/** The plan's filter with the tenant's org beside it at the top level (where FerretDB can push an equality down). */
function withOrg(filter: Record<string, unknown>, org: string | undefined): Record<string, unknown> {
  if (org === undefined) return filter;
  return 'org' in filter ? { $and: [{ org }, filter] } : { org, ...filter };
}

async function ferret(name: string, mongoUrl: string, url: string, planFor: PlanFor, allowedIds: string[]): Promise<void> {
  const mongo = await MongoClient.connect(mongoUrl);
  const db = mongo.db(`pe_bench_plan_${randomBytes(4).toString('hex')}`);
  try {
    const col = db.collection<Row>('documents');
    const t0 = performance.now();
    for (let i = 0; i < ROWS; i += 5000) await col.insertMany(Array.from({ length: Math.min(5000, ROWS - i) }, (_, k) => rowOf(i + k)), { ordered: false });
    await col.createIndex({ owner: 1 });
    await col.createIndex({ status: 1, org: 1 });
    await col.createIndex({ org: 1, _id: 1 });
    console.log(`   ${name}: ${ROWS} rows inserted and indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const page = (filter: Record<string, unknown>) => col.find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(50).toArray().then((d) => d.map((x) => x._id));
    for (const sc of scenarios(allowedIds)) {
      // what a query costs there before any authorization: a filter matching nothing; {_id: <string>}; the tenant's rows alone
      const scan = await timeIt('scan', [], () => page(withOrg({ absent: 'x' }, sc.org)));
      const byId = await timeIt('by id', undefined, () => page({ _id: allowedIds[0]! }));
      const tenantOnly = sc.org === undefined ? undefined : await timeIt('tenant only', undefined, () => page({ org: sc.org }));
      const a = await timeIt('plan', sc.expected, async (subject) => page(withOrg((await planFor(subject)).mongo, sc.org)));
      const b = await timeIt('lookup', sc.expected, async (subject) => page(withOrg({ _id: { $in: await lookupIds(url, subject) } }, sc.org)));
      const counted = { checked: 0 };
      const c = await timeIt('row by row', sc.expected, async (subject) => {
        const cursor = col.find(withOrg({}, sc.org)).sort({ _id: 1 }).batchSize(1000);
        try {
          return await rowByRow(url, subject, cursor, counted);
        } finally {
          await cursor.close();
        }
      });
      const floor = `floor: a filter matching nothing${sc.org ? ` (beside the org)` : ''} ${scan.toFixed(1)} ms; {_id: <string>} ${byId.toFixed(1)} ms${tenantOnly === undefined ? '' : `; the org's first 50 rows, no authorization ${tenantOnly.toFixed(1)} ms`}`;
      report(name, sc, floor, a, b, c, counted.checked);
    }
  } finally {
    await db.dropDatabase().catch(() => {});
    await mongo.close();
  }
}

const pgConfig = () => ({ host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres' });

/** A FerretDB of this run on its PostgreSQL backend, in a database made for it and dropped after. */
async function withFerretOnPostgres(run: (mongoUrl: string) => Promise<void>): Promise<void> {
  const admin = new pg.Client({ ...pgConfig(), database: process.env.PGDATABASE ?? 'test' });
  try {
    await admin.connect();
  } catch (err) {
    console.log(`   FerretDB v1 (PostgreSQL backend): PostgreSQL not reachable (${(err as Error).message}), skipped`);
    return;
  }
  const database = `pe_bench_ferret_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const { host, port, user } = pgConfig();
  const child = spawn(await ferretDBBinary(), ['-listen', '127.0.0.1:0', '-postgresql-url', `postgres://${user}@${host}:${port}/${database}`, '-exit-on-stdin-eof', '-log-level', 'error'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const mongoUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /\((mongodb:\/\/[^)]+)\)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`FerretDB (PostgreSQL backend) exited with ${code} before listening`)));
    });
    await run(mongoUrl);
  } finally {
    child.stdin!.end();
    child.kill('SIGTERM');
    await exited;
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err) => console.log(`   could not drop ${database}: ${(err as Error).message}`));
    await admin.end();
  }
}

async function postgres(url: string, planFor: PlanFor, allowedIds: string[]): Promise<void> {
  const client = new pg.Client({ ...pgConfig(), database: process.env.PGDATABASE ?? 'test' });
  try {
    await client.connect();
  } catch (err) {
    console.log(`   PostgreSQL: not reachable (${(err as Error).message}), skipped`);
    return;
  }
  const table = `pe_bench_plan_${randomBytes(4).toString('hex')}`;
  try {
    const t0 = performance.now();
    await client.query(`CREATE TABLE ${table} ("_id" text PRIMARY KEY, "owner" text NOT NULL, "status" text NOT NULL, "org" text NOT NULL)`);
    for (let i = 0; i < ROWS; i += 10_000) {
      const rows = Array.from({ length: Math.min(10_000, ROWS - i) }, (_, k) => rowOf(i + k));
      await client.query(`INSERT INTO ${table} SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`, [rows.map((r) => r._id), rows.map((r) => r.owner), rows.map((r) => r.status), rows.map((r) => r.org)]);
    }
    await client.query(`CREATE INDEX ON ${table} ("owner")`);
    await client.query(`CREATE INDEX ON ${table} ("status", "org")`);
    await client.query(`CREATE INDEX ON ${table} ("org", "_id")`);
    await client.query(`ANALYZE ${table}`);
    console.log(`   PostgreSQL: ${ROWS} rows inserted and indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const sc of scenarios(allowedIds)) {
      // the org, when there is one, is the last parameter, beside the plan's own
      const page = async (where: string, params: unknown[]) => {
        const scoped = sc.org === undefined ? where : `"org" = $${params.length + 1} AND (${where})`;
        return (await client.query<{ _id: string }>(`SELECT "_id" FROM ${table} WHERE ${scoped} ORDER BY "_id" LIMIT 50`, sc.org === undefined ? params : [...params, sc.org])).rows.map((r) => r._id);
      };
      const a = await timeIt('plan', sc.expected, async (subject) => {
        const { sql } = await planFor(subject);
        return page(sql.where, sql.params);
      });
      const b = await timeIt('lookup', sc.expected, async (subject) => page(`"_id" = ANY($1::text[])`, [await lookupIds(url, subject)]));
      const counted = { checked: 0 };
      const c = await timeIt('row by row', sc.expected, (subject) => rowByRow(url, subject, (async function* () {
        // keyset pages of 1,000 in _id order
        let after = '';
        for (;;) {
          const rows = sc.org === undefined
            ? (await client.query<Row>(`SELECT * FROM ${table} WHERE "_id" > $1 ORDER BY "_id" LIMIT 1000`, [after])).rows
            : (await client.query<Row>(`SELECT * FROM ${table} WHERE "org" = $2 AND "_id" > $1 ORDER BY "_id" LIMIT 1000`, [after, sc.org])).rows;
          if (rows.length === 0) return;
          yield* rows;
          after = rows[rows.length - 1]!._id;
        }
      })(), counted));
      report('PostgreSQL 15', sc, undefined, a, b, c, counted.checked);
    }
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await client.end();
  }
}

await main();
