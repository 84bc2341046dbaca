// The PolicyManager's path-plan cache: bounded in bytes (PLAN_CACHE_MAX_BYTES, by
// planBytes), and a change drops exactly the plans over the changed namespaces (found
// through a namespace index, not a scan of the cache).
import t, { type Test } from 'tap';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { samplePolicy, waitUntil } from '../../src/store/conformance.js';
import { PolicyManager } from '../../src/engine/policy-manager.js';
import { buildPlan, planBytes } from '../../src/core/evaluate/plan.js';

const logger = { info() {}, warn() {}, error() {} };

async function managerOver(t: Test, tenants: number, planCacheMaxBytes?: number): Promise<{ store: MemoryStore; manager: PolicyManager }> {
  const store = new MemoryStore();
  await store.open();
  await store.put(samplePolicy('global-base', { grant: ['document:read'] }));
  for (let i = 0; i < tenants; i++) {
    await store.put(samplePolicy(`org:t${i}-docs`, { grant: Array.from({ length: 20 }, (_, j) => `document:action${j}`) }));
  }
  const manager = new PolicyManager({ store, pollIntervalMs: 60_000, staleAfterMs: 600_000, resyncIntervalMs: 0, logger, ...(planCacheMaxBytes !== undefined ? { planCacheMaxBytes } : {}) });
  await manager.start();
  t.teardown(() => manager.stop());
  return { store, manager };
}

const pathOf = (i: number) => ['global', 'org', `org:t${i}`];

t.test('planBytes grows with the plan', async (t) => {
  const { manager } = await managerOver(t, 2);
  const small = buildPlan([]);
  const large = manager.plan('global.org.org:t0', pathOf(0)).plan;
  t.ok(planBytes(small) > 0);
  t.ok(planBytes(large) > planBytes(small), `${planBytes(large)} > ${planBytes(small)}`);
  t.ok(large.table !== undefined && planBytes(large) > large.table.coveredBy.byteLength * 3, 'the pattern table is counted');
});

t.test('the plan cache stays within its byte budget', async (t) => {
  const tenants = 200;
  const { manager } = await managerOver(t, tenants, 64 * 1024);
  for (let i = 0; i < tenants; i++) manager.plan(`global.org.org:t${i}`, pathOf(i));
  const { entries, bytes } = manager.planCacheSize();
  t.ok(bytes <= 64 * 1024, `${bytes} bytes ≤ 64 KiB`);
  t.ok(entries > 0 && entries < tenants, `${entries} of ${tenants} plans kept`);
  // The most recent ones are kept, and a dropped one is planned again with the same rules.
  const last = manager.plan(`global.org.org:t${tenants - 1}`, pathOf(tenants - 1)).plan;
  t.equal(manager.plan(`global.org.org:t${tenants - 1}`, pathOf(tenants - 1)).plan, last, 'a kept plan is reused');
  const again = manager.plan('global.org.org:t0', pathOf(0)).plan;
  t.same(again.keys, ['global-base', 'org:t0-docs']);
});

t.test('a change drops the plans over its namespace, and only those', async (t) => {
  const { store, manager } = await managerOver(t, 3);
  const before = [0, 1, 2].map((i) => manager.plan(`global.org.org:t${i}`, pathOf(i)).plan);
  await store.put(samplePolicy('org:t1-extra', { grant: ['document:write'] }));
  await manager.sync();
  await waitUntil(() => manager.plan('global.org.org:t1', pathOf(1)).plan !== before[1], 2000);
  const after = [0, 1, 2].map((i) => manager.plan(`global.org.org:t${i}`, pathOf(i)).plan);
  t.equal(after[0], before[0], 'another tenant keeps its plan');
  t.equal(after[2], before[2]);
  t.not(after[1], before[1], 'the changed tenant is planned again');
  t.ok(after[1]!.keys.includes('org:t1-extra'));
  // A change of a namespace every path holds drops them all.
  await store.put(samplePolicy('global-more', { grant: ['document:list'] }));
  await manager.sync();
  await waitUntil(() => manager.plan('global.org.org:t0', pathOf(0)).plan !== after[0], 2000);
  for (let i = 0; i < 3; i++) t.ok(manager.plan(`global.org.org:t${i}`, pathOf(i)).plan.keys.includes('global-more'));
});

t.test('paths share the segments of their common namespaces, and a change rebuilds only its own', async (t) => {
  const { store, manager } = await managerOver(t, 3);
  await store.put(samplePolicy('org-base', { grant: ['document:list'] }));
  await manager.sync();
  await waitUntil(() => manager.plan('global.org.org:t0', pathOf(0)).plan.keys.includes('org-base'), 2000);
  const plans = [0, 1, 2].map((i) => manager.plan(`global.org.org:t${i}`, pathOf(i)).plan);
  t.same(plans.map((p) => p.segments.length), [3, 3, 3]);
  t.equal(plans[1]!.segments[0], plans[0]!.segments[0], 'one global segment for every tenant path');
  t.equal(plans[2]!.segments[1], plans[0]!.segments[1], 'one org segment for every tenant path');
  t.not(plans[1]!.segments[2], plans[0]!.segments[2], 'each tenant has its own');
  t.equal(plans[1]!.table, plans[0]!.table, 'the same pattern set shares one pattern table');
  t.same(plans[0]!.keys, ['global-base', 'org-base', 'org:t0-docs']);
  // A change of org: every plan over it is rebuilt with a new org segment (here every plan:
  // the other segments go with their last plan and are built again, once, and shared).
  await store.put(samplePolicy('org-more', { grant: ['document:write'] }));
  await manager.sync();
  await waitUntil(() => manager.plan('global.org.org:t0', pathOf(0)).plan !== plans[0], 2000);
  const after = [0, 1, 2].map((i) => manager.plan(`global.org.org:t${i}`, pathOf(i)).plan);
  t.not(after[0]!.segments[1], plans[0]!.segments[1], 'org is segmented again');
  t.equal(after[1]!.segments[1], after[0]!.segments[1], 'and shared again');
  t.equal(after[2]!.segments[0], after[0]!.segments[0], 'one global segment again');
  t.same(after[2]!.segments[2]!.keys, ['org:t2-docs']);
  for (const p of after) t.ok(p.keys.includes('org-more'));
  // A tenant's change: only its own segment is built again.
  await store.put(samplePolicy('org:t1-extra', { grant: ['document:write'] }));
  await manager.sync();
  await waitUntil(() => manager.plan('global.org.org:t1', pathOf(1)).plan !== after[1], 2000);
  const t1 = manager.plan('global.org.org:t1', pathOf(1)).plan;
  t.equal(t1.segments[0], after[0]!.segments[0], 'global shared still');
  t.equal(t1.segments[1], after[0]!.segments[1], 'org shared still');
  t.same(t1.segments[2]!.keys, ['org:t1-docs', 'org:t1-extra']);
  t.equal(manager.plan('global.org.org:t0', pathOf(0)).plan, after[0], 'another tenant keeps its plan');
});
