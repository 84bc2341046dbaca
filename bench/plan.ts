// Query plans (POST /v1/plan, docs/plans.md): what a plan costs and what it saves.
//
//   MONGO_URL=mongodb://127.0.0.1:27999/ node --import tsx bench/plan.ts [--rows 100000] [--quick]
//
// 1. plan latency in process (PlanService over compiled documents): 3 namespaces × 10
//    documents, conditions over subject, context and resource; p50 / p99.
// 2. HTTP: POST /v1/plan on the real app against a bare fastify route answering a
//    constant, both on loopback with autocannon (requests per second, latency p50/p99).
// 3. "The first page of 50 authorized documents out of N rows in FerretDB", sorted by
//    _id, three ways, all over HTTP to a real engine:
//      a. plan + one query: POST /v1/plan, then find(plan.mongo).sort.limit(50)
//      b. lookup ids + $in: the same authorization held as relationships; every id from
//         lookup-resources (paged), then find({_id: {$in: ids}}).sort.limit(50)
//      c. row by row: read rows in _id order, POST /v1/check each (16 at a time), until 50
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createServices } from '../src/compose.js';
import { buildApp } from '../src/server/app.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { compile, localPlanner } from '../test/core/plan/helpers.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const rowsArg = argv.indexOf('--rows');
const ROWS = rowsArg >= 0 ? Number(argv[rowsArg + 1]) : quick ? 20_000 : 100_000;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;

// ---- 1. in process

function documents(): string[] {
  const out: string[] = [];
  for (const ns of ['global', 'org', 'org:o7']) {
    for (let d = 0; d < 10; d++) {
      out.push(JSON.stringify({
        key: `${ns}-d${d}`, namespace: ns, ordinal: d,
        rules: [
          { id: 'own', subjects: ['*'], grant: [`document:read`], when: `resource.attributes.owner == subject.id && context.hour >= ${d}` },
          { id: 'status', subjects: ['role:member'], grant: ['document:*'], when: `resource.attributes.status in ['published', 'archived'] && subject.attributes.level > ${d % 3}` },
          { id: 'purge', subjects: ['*'], deny: ['document:purge'] },
          { id: 'secret', subjects: ['*'], revoke: ['document:read'], when: `resource.attributes.secret == true && !('admin' in subject.roles)` },
          { id: `team${d}`, subjects: [`group:team${d}`], grant: ['document:read'], when: `'x' in resource.attributes.tags || context.hour < ${d}` },
        ],
      }));
    }
  }
  return out;
}

function inProcess(): { p50: number; p99: number; n: number } {
  const planner = localPlanner(compile(...documents()));
  const req = { subject: { id: 'user:alice', roles: ['member'], groups: ['team1'], attributes: { level: 2 } }, namespace: 'global.org.org:o7', permission: 'document:read', resource: { type: 'document' }, context: { hour: 10 }, allowPartial: true };
  for (let i = 0; i < 2000; i++) planner.plan(req);
  const n = quick ? 2000 : 10_000;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    planner.plan({ ...req, context: { hour: i % 24 } });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p99: pct(times, 99), n };
}

// ---- 2. HTTP

async function load(url: string, body: string): Promise<{ rps: number; p50: number; p99: number }> {
  const r = await autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: 10, duration: quick ? 3 : 8 });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

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

async function main(): Promise<void> {
  console.log(`# query plans — ${new Date().toISOString()}, loadavg ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const ip = inProcess();
  console.log(`1. in process, 3 namespaces × 10 documents: p50 ${ms(ip.p50)}, p99 ${ms(ip.p99)} (${ip.n} plans)`);

  const e = await engine();
  for (const text of documents()) {
    const doc = JSON.parse(text) as { key: string };
    const r = await e.app.inject({ method: 'PUT', url: `/v1/policies/${doc.key}`, headers: { 'content-type': 'application/json' }, payload: text });
    if (r.statusCode >= 300) throw new Error(r.body);
  }
  const bare = Fastify();
  bare.post('/bare', async () => ({ kind: 'always', exact: true, revision: '1', filter: true, mongo: {}, sql: { where: 'TRUE', params: [] } }));
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });
  const planBody = JSON.stringify({ subject: { id: 'user:alice', roles: ['member'], groups: ['team1'], attributes: { level: 2 } }, namespace: 'global.org.org:o7', permission: 'document:read', resource: { type: 'document' }, context: { hour: 10 }, allowPartial: true });
  const viaHttp = await load(`${e.url}/v1/plan`, planBody);
  const viaBare = await load(`${bareUrl}/bare`, '{}');
  await bare.close();
  console.log(`2. HTTP POST /v1/plan: ${viaHttp.rps.toFixed(0)} req/s (p50 ${viaHttp.p50} ms, p99 ${viaHttp.p99} ms); bare fastify route: ${viaBare.rps.toFixed(0)} req/s (p50 ${viaBare.p50} ms, p99 ${viaBare.p99} ms); ratio ${(viaHttp.rps / viaBare.rps).toFixed(2)}`);

  // ---- 3. FerretDB
  const mongo = await MongoClient.connect(process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27999/');
  const db = mongo.db(`pe_bench_plan_${randomBytes(4).toString('hex')}`);
  try {
    const col = db.collection<{ _id: string; owner: string; status: string; org: string }>('documents');
    // u1 may read what it owns (1 in 500) and what is published in orgs o0…o4 (1 in 3 × 5 in 50): about 3.5 %
    const rowOf = (i: number) => ({ _id: `doc${String(i).padStart(6, '0')}`, owner: `user:u${i % 500}`, status: ['draft', 'published', 'archived'][(i * 7) % 3]!, org: `o${(i * 13) % 50}` });
    let t0 = performance.now();
    for (let i = 0; i < ROWS; i += 5000) await col.insertMany(Array.from({ length: Math.min(5000, ROWS - i) }, (_, k) => rowOf(i + k)), { ordered: false });
    console.log(`   (${ROWS} rows inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    await e.app.inject({ method: 'PUT', url: '/v1/policies/global-bench', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({
      key: 'global-bench', ordinal: -1, rules: [{ id: 'owner', subjects: ['*'], grant: ['doc:read'], when: "resource.attributes.owner == subject.id || (resource.attributes.status == 'published' && resource.attributes.org in ['o0', 'o1', 'o2', 'o3', 'o4'])" }],
    }) });
    const allowedIds: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      const r = rowOf(i);
      if (r.owner === 'user:u1' || (r.status === 'published' && ['o0', 'o1', 'o2', 'o3', 'o4'].includes(r.org))) allowedIds.push(r._id);
    }
    // the same authorization as relationships, for lookup-resources
    await e.app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: 'user: {}\ndoc:\n  relations: { viewer: [user] }\n  permissions: { read: viewer }\n' });
    for (let i = 0; i < allowedIds.length; i += 1000) {
      const r = await e.app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: allowedIds.slice(i, i + 1000).map((id) => `doc:${id}#viewer@user:u1`) } });
      if (r.statusCode !== 200) throw new Error(r.body);
    }
    const subject = 'user:u1';
    const expected = allowedIds.slice(0, 50);
    const timeIt = async (label: string, run: () => Promise<string[]>) => {
      const times: number[] = [];
      for (let k = 0; k < (quick ? 2 : 3); k++) {
        const s = performance.now();
        const ids = await run();
        times.push(performance.now() - s);
        if (JSON.stringify(ids) !== JSON.stringify(expected)) throw new Error(`${label}: wrong page ${JSON.stringify(ids.slice(0, 5))}…`);
      }
      times.sort((a, b) => a - b);
      return times[Math.floor(times.length / 2)]!;
    };
    const a = await timeIt('plan', async () => {
      const plan = await post(e.url, '/v1/plan', { subject, namespace: 'global', permission: 'doc:read', resource: { type: 'doc' }, fields: { id: '_id' } });
      return (await col.find(plan.mongo, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(50).toArray()).map((d) => d._id);
    });
    const b = await timeIt('lookup', async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { resources: string[]; cursor: string | null } = await post(e.url, '/v1/relations/lookup-resources', { subject, resourceType: 'doc', permission: 'read', limit: 1000, ...(cursor ? { cursor } : {}) });
        ids.push(...page.resources.map((r) => r.slice('doc:'.length)));
        cursor = page.cursor;
      } while (cursor);
      return (await col.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(50).toArray()).map((d) => d._id);
    });
    let checked = 0;
    const c = await timeIt('row by row', async () => {
      const out: string[] = [];
      checked = 0;
      const cursor = col.find({}).sort({ _id: 1 }).batchSize(1000);
      let batch: Array<{ _id: string; owner: string; status: string; org: string }> = [];
      const flush = async () => {
        const answers = await Promise.all(batch.map((r) => post(e.url, '/v1/check', { subject, namespace: 'global', permission: 'doc:read', resource: { type: 'doc', id: r._id, attributes: { owner: r.owner, status: r.status, org: r.org } } })));
        checked += batch.length;
        answers.forEach((ans, i) => { if (ans.allowed && out.length < 50) out.push(batch[i]!._id); });
        batch = [];
      };
      for await (const row of cursor) {
        batch.push(row);
        if (batch.length === 16) await flush();
        if (out.length >= 50) break;
      }
      if (out.length < 50) await flush();
      await cursor.close();
      return out;
    });
    console.log(`3. first page of 50 authorized of ${ROWS} rows (${allowedIds.length} authorized), median of ${quick ? 2 : 3}:`);
    console.log(`   a. plan + one query:     ${a.toFixed(0)} ms`);
    console.log(`   b. lookup ids + $in:     ${b.toFixed(0)} ms (${allowedIds.length} ids through lookup-resources)  → plan ${(b / a).toFixed(1)}× faster`);
    console.log(`   c. row by row (check):   ${c.toFixed(0)} ms (${checked} rows checked)  → plan ${(c / a).toFixed(1)}× faster`);
  } finally {
    await db.dropDatabase().catch(() => {});
    await mongo.close();
    await e.close();
  }
}

await main();
