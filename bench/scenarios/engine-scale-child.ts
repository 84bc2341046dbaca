// Child process of scenario 1 (one per size): load global + org + N tenant namespaces
// into a MemoryStore and a PolicyManager (through createServices, as the server does),
// measure RSS, then the evaluation of one path, then one write being applied. Prints
// one JSON line `{"done":true,...}`. Run with --expose-gc.

import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createServices } from '../../src/compose.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { makeDocument } from '../fixtures.js';
import { micro } from '../lib/micro.js';
import { recordOf, ALICE } from '../lib/sets.js';
import type { PolicyDocument } from '../../src/core/document/types.js';
import { compilePolicy } from '../../src/core/compile/compile-policy.js';
import { comparePolicies, type CompiledPolicy } from '../../src/core/compile/types.js';
import { buildPlan, evaluatePlan } from '../../src/core/evaluate/plan.js';

const { tenants, quick, mode } = JSON.parse(process.env.BENCH_SCALE ?? '{}') as { tenants: number; quick: boolean; mode: 'manager' | 'direct' };
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

gc();
const baseRssMiB = rssMiB();

const docs: PolicyDocument[] = [];
for (let i = 0; i < 10; i++) docs.push(makeDocument('global', i, 5));
for (let i = 0; i < 20; i++) docs.push(makeDocument('org', i, 5));
for (let t = 0; t < tenants; t++) for (let i = 0; i < 2; i++) docs.push(makeDocument(`org:t${t}`, i, 5));

if (mode === 'direct') {
  // Without the PolicyManager: compile every document, group by namespace, build the
  // path's plan. What the manager's state costs in memory, when loading it would take
  // too long through the manager.
  const t0 = performance.now();
  const byNamespace = new Map<string, CompiledPolicy[]>();
  for (const d of docs) {
    const r = compilePolicy(d);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const list = byNamespace.get(r.policy.namespace);
    if (list) list.push(r.policy);
    else byNamespace.set(r.policy.namespace, [r.policy]);
  }
  for (const list of byNamespace.values()) list.sort(comparePolicies);
  const loadMs = performance.now() - t0;
  const documents = docs.length;
  docs.length = 0;
  gc();
  gc();
  const rss = rssMiB();
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
  const namespaces = ['global', 'org', 'org:t0'];
  const plan = buildPlan(namespaces.flatMap((ns) => byNamespace.get(ns) ?? []));
  let seq = 0;
  const opts = { defaultPermissions: ['*'] };
  const miss = await micro(() => evaluatePlan(plan, { subject: { id: `user:u${seq++}`, roles: ALICE.roles, groups: [], attributes: {} }, namespaces }, opts), quick);
  process.stdout.write(`${JSON.stringify({ done: true, mode, tenants, documents, baseRssMiB, rssMiB: rss, heapMiB, loadMs, miss, namespacesHeld: byNamespace.size })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.once('SIGTERM', () => process.exit(0));
} else {
  const t0 = performance.now();
  const store = new MemoryStore();
  await store.putMany(docs.map(recordOf));
  const services = await createServices(loadConfig({ LOG_LEVEL: 'silent' }), pino({ level: 'silent' }), store);
  const loadMs = performance.now() - t0;
  docs.length = 0;
  gc();
  gc();
  const rss = rssMiB();
  const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;

  const path = 'global.org.org:t0';
  const decisions = services.decisions;
  const hitReq = { subject: ALICE, namespace: path };
  // Stored at its second ask (CACHE_ADMISSION=second, the default), a hit from the third.
  decisions.evaluate(hitReq);
  decisions.evaluate(hitReq);
  if (!decisions.evaluate(hitReq).response.cached) throw new Error('no cache hit');
  let seq = 0;
  const miss = await micro(() => decisions.evaluate({ subject: { id: `user:u${seq++}`, roles: ALICE.roles }, namespace: path }), quick);
  const hit = await micro(() => decisions.evaluate(hitReq), quick);

  // One write into the evaluated path's tenant, applied by the manager (MemoryStore events
  // are delivered synchronously from put).
  const doc = makeDocument('org:t0', 1, 5);
  doc.description = 'changed';
  const w0 = process.hrtime.bigint();
  await store.put(recordOf(doc));
  const writeNs = Number(process.hrtime.bigint() - w0);
  if (decisions.evaluate(hitReq).response.cached) throw new Error('the write did not invalidate the cached decision');

  const result = {
    done: true,
    mode,
    tenants,
    documents: services.manager!.status().documents,
    baseRssMiB,
    rssMiB: rss,
    heapMiB,
    loadMs,
    miss,
    hit,
    writeNs,
    cacheEntries: services.cache.size,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await services.close();
  // stay until the parent stops us (it reads the line first)
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.once('SIGTERM', () => process.exit(0));
}
