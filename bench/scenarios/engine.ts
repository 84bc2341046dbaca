// Scenario 1: the engine in process. Throughput and per-evaluation latency of
//  - the realistic path (3 namespaces, 50 documents, 5 rules each): the raw plan
//    evaluation, and DecisionService.evaluate with the cache warm (hit) and with a new
//    subject id on every call (miss: the cache is on, default size, so each call also
//    pays the lookup, the insert and, past 10,000 entries, an eviction);
//  - 3 namespaces × 10 documents (3 rules each, as bench/engine-quick.ts) uncached,
//    against the product target of 500,000 evaluations/s;
//  - documents in the path: 10 … 10,000 (5 rules each, over 3 namespaces);
//  - namespaces stored: one child process per size (clean RSS), see engine-scale-child.ts.

import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createServices } from '../../src/compose.js';
import { buildPlan, evaluatePlan } from '../../src/core/evaluate/plan.js';
import { evaluatePolicies } from '../../src/core/evaluate/evaluate.js';
import { Summary } from '../../src/core/evaluate/summary.js';
import type { Pattern } from '../../src/core/pattern.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { compileAll, makePath } from '../fixtures.js';
import { BENCH_DIR, startChild } from '../lib/child.js';
import { micro, type MicroResult } from '../lib/micro.js';
import type { ScenarioContext, ScenarioReport, Table } from '../lib/report.js';
import { ALICE, REALISTIC_NAMESPACES, REALISTIC_PATH, makeDocs, realisticDocs, realisticPolicies, recordOf, splitCounts, subject } from '../lib/sets.js';
import { int, ns, round } from '../lib/util.js';

const TARGET_PER_SEC = 500_000;

function row(label: string, r: MicroResult, extra: string[] = []): string[] {
  return [label, int(r.perSec), ns(r.avgNs), ns(r.p50Ns), ns(r.p99Ns), ...extra];
}

export async function engineScenario(ctx: ScenarioContext): Promise<Omit<ScenarioReport, 'loadavgBefore' | 'busyBefore' | 'startedAt' | 'durationSec'>> {
  const q = ctx.quick;
  const data: Record<string, unknown> = {};
  const notes: string[] = [];
  const opts = { defaultPermissions: ['*'] };
  const alice = subject(ALICE.id, ALICE.roles);

  // --- realistic set ----------------------------------------------------------------
  const policies = realisticPolicies();
  const plan = buildPlan(policies);
  const input = { subject: alice, namespaces: [...REALISTIC_NAMESPACES] };
  const walk = evaluatePolicies(policies, input, opts);
  const planned = evaluatePlan(plan, input, opts);
  if (JSON.stringify({ ...walk, applied: walk.applied.length }) !== JSON.stringify({ ...planned, applied: planned.applied.length })) {
    throw new Error('evaluatePlan and evaluatePolicies disagree on the realistic set');
  }

  const store = new MemoryStore();
  await store.putMany(realisticDocs().map(recordOf));
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const services = await createServices(config, pino({ level: 'silent' }), store);
  const decisions = services.decisions;
  const hitReq = { subject: ALICE, namespace: REALISTIC_PATH };
  // Stored at its second ask (CACHE_ADMISSION=second, the default), a hit from the third.
  const first = decisions.evaluate(hitReq);
  decisions.evaluate(hitReq);
  const second = decisions.evaluate(hitReq);
  if (first.response.cached || !second.response.cached) throw new Error('DecisionService cache did not warm as expected');
  if (JSON.stringify(second.response.permissions) !== JSON.stringify(planned.permissions)) throw new Error('DecisionService and evaluatePlan disagree');
  let seq = 0;
  const missReq = () => ({ subject: { id: `user:u${seq++}`, roles: ALICE.roles }, namespace: REALISTIC_PATH });
  const probe = decisions.evaluate(missReq());
  if (probe.response.cached) throw new Error('a fresh subject was answered from the cache');

  const rPlan = await micro(() => evaluatePlan(plan, input, opts), q);
  ctx.log(`engine: realistic (3 ns, 50 docs × 5 rules) evaluatePlan uncached: ${int(rPlan.perSec)}/s, p50 ${ns(rPlan.p50Ns)}, p99 ${ns(rPlan.p99Ns)}`);
  const rWalk = await micro(() => evaluatePolicies(policies, input, opts), q);
  ctx.log(`engine: realistic evaluatePolicies (full walk) uncached: ${int(rWalk.perSec)}/s, p50 ${ns(rWalk.p50Ns)}, p99 ${ns(rWalk.p99Ns)}`);
  const rHit = await micro(() => decisions.evaluate(hitReq), q);
  ctx.log(`engine: realistic DecisionService.evaluate cache hit: ${int(rHit.perSec)}/s, p50 ${ns(rHit.p50Ns)}, p99 ${ns(rHit.p99Ns)}`);
  const rMiss = await micro(() => decisions.evaluate(missReq()), q);
  ctx.log(`engine: realistic DecisionService.evaluate miss (new subject id per call): ${int(rMiss.perSec)}/s, p50 ${ns(rMiss.p50Ns)}, p99 ${ns(rMiss.p99Ns)}`);
  await services.close();
  data.realistic = { evaluatePlan: rPlan, evaluatePolicies: rWalk, serviceHit: rHit, serviceMiss: rMiss, permissions: planned.permissions, denied: planned.denied, appliedRules: planned.applied.length, rules: plan.rules.length };

  // --- 3 × 10 uncached: the product target ------------------------------------------
  const small = makePath([...REALISTIC_NAMESPACES], 10);
  const smallPlan = buildPlan(small);
  const r3x10 = await micro(() => evaluatePlan(smallPlan, input, opts), q);
  const meets = r3x10.perSec >= TARGET_PER_SEC;
  ctx.log(`engine: 3 ns × 10 docs (3 rules each) evaluatePlan uncached: ${int(r3x10.perSec)}/s (target ≥ ${int(TARGET_PER_SEC)}/s: ${meets ? 'met' : 'NOT met'}), p50 ${ns(r3x10.p50Ns)}, p99 ${ns(r3x10.p99Ns)}`);
  data.threeByTen = { ...r3x10, targetPerSec: TARGET_PER_SEC, met: meets };

  const main: Table = {
    title: 'Evaluations in process (one core)',
    columns: ['case', 'evaluations/s', 'mean', 'p50', 'p99'],
    rows: [
      row('realistic path, `evaluatePlan` uncached (plan built once)', rPlan),
      row('realistic path, `evaluatePolicies` full walk uncached', rWalk),
      row('realistic path, `DecisionService.evaluate` cache hit', rHit),
      row('realistic path, `DecisionService.evaluate` miss: new subject id per call, cache on (10,000 entries)', rMiss),
      row(`3 namespaces × 10 documents (3 rules each), \`evaluatePlan\` uncached: target ≥ ${int(TARGET_PER_SEC)}/s **${meets ? 'met' : 'not met'}**`, r3x10),
    ],
    notes: [
      `Realistic path: ${REALISTIC_PATH}, documents 10 + 20 + 20, 5 rules each (${plan.rules.length} rules); subject user:alice with roles editor, viewer (${planned.applied.length} rules apply). Answer: permissions ${JSON.stringify(planned.permissions)}, denied ${JSON.stringify(planned.denied)}.`,
      'evaluations/s and mean from mitata; p50 / p99 from individually timed calls (hrtime around each call, timer cost subtracted).',
    ],
  };

  // --- documents in the path ---------------------------------------------------------
  const docRows: string[][] = [];
  const docData: unknown[] = [];
  for (const n of q ? [10, 100, 1_000] : [10, 100, 1_000, 10_000]) {
    const compiled = compileAll(makeDocs(REALISTIC_NAMESPACES, splitCounts(n)));
    const t0 = process.hrtime.bigint();
    const p = buildPlan(compiled);
    const buildNs = Number(process.hrtime.bigint() - t0);
    const d = evaluatePlan(p, input, opts);
    const r = await micro(() => evaluatePlan(p, input, opts), q);
    ctx.log(`engine: ${int(n)} docs in path (${int(p.rules.length)} rules, ${int(d.applied.length)} apply) evaluatePlan uncached: ${int(r.perSec)}/s, p50 ${ns(r.p50Ns)}, p99 ${ns(r.p99Ns)}; buildPlan ${ns(buildNs)}`);
    docRows.push(row(int(n), r, [int(p.rules.length), int(d.applied.length), ns(buildNs)]));
    docData.push({ documents: n, rules: p.rules.length, applied: d.applied.length, buildPlanNs: buildNs, ...r });
  }
  data.documentsInPath = docData;
  const docNotes: string[] = [];
  const dd = docData as Array<{ documents: number; avgNs: number }>;
  for (let i = 1; i < dd.length; i++) {
    const growth = dd[i]!.avgNs / dd[i - 1]!.avgNs;
    const factor = dd[i]!.documents / dd[i - 1]!.documents;
    if (growth > factor * 3) {
      let cause = '';
      // Look inside the summary the evaluation builds: are denied patterns kept once each?
      const probe = compileAll(makeDocs(REALISTIC_NAMESPACES, splitCounts(dd[i]!.documents)));
      const applied = evaluatePlan(buildPlan(probe), input, opts).applied;
      const sum = new Summary() as unknown as { grant(p: Pattern): void; revoke(p: Pattern): void; deny(p: Pattern): void; blocked?: Pattern[] };
      for (const r of applied) {
        for (const g of r.grant) sum.grant(g);
        for (const g of r.revoke) sum.revoke(g);
        for (const g of r.deny) sum.deny(g);
      }
      if (Array.isArray(sum.blocked) && sum.blocked.length > new Set(sum.blocked).size * 2) {
        cause = ` Cause: \`Summary.deny\` appends to \`blocked\` on every applied deny, duplicates included (${int(dd[i]!.documents)} documents: ${int(sum.blocked.length)} entries for ${new Set(sum.blocked).size} distinct patterns), and every \`Summary.grant\` scans all of \`blocked\`, so an evaluation costs grants × denies applied (\`revoked\` can grow the same way).`;
      }
      docNotes.push(`From ${int(dd[i - 1]!.documents)} to ${int(dd[i]!.documents)} documents (×${factor}) an evaluation takes ×${round(growth, 0)} as long: worse than linear.${cause}`);
      break;
    }
  }
  const docTable: Table = {
    title: 'Scaling with documents in the path (`evaluatePlan`, uncached, 5 rules per document over 3 namespaces)',
    columns: ['documents', 'evaluations/s', 'mean', 'p50', 'p99', 'rules', 'rules applied', 'buildPlan (once per path and change)'],
    rows: docRows,
    notes: ['Subject user:alice (editor, viewer). Evaluations of a millisecond or more are timed call by call (10 s budget, 3 s in quick mode).', ...docNotes],
  };

  // --- namespaces stored: one child per size --------------------------------------------
  // Loading goes through the PolicyManager, as in the server. Its full load rebuilds
  // every namespace by scanning every entry (PolicyManager.rebuild), which grows as
  // namespaces × documents: sizes whose load would exceed the cap (extrapolated from the
  // previous size once that took over a second, or hitting the cap) are measured
  // without the manager instead ("direct"), and the row says so.
  const sizes = q ? [1, 100, 1_000] : [1, 10, 100, 1_000, 10_000, 100_000];
  const capMs = (q ? 30 : 120) * 1000;
  const nsRows: string[][] = [];
  const nsData: unknown[] = [];
  let last: { size: number; loadMs: number } | undefined;
  const runChild = async (size: number, mode: 'manager' | 'direct') => {
    const child = await startChild(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', path.join(BENCH_DIR, 'scenarios', 'engine-scale-child.ts')],
      { env: { BENCH_SCALE: JSON.stringify({ tenants: size, quick: q, mode }) }, ready: /^\{"done":true/, port: 0, timeoutMs: capMs + 60_000, label: `scale child (${size} namespaces, ${mode})` },
    );
    const info = child.info as any;
    await child.stop();
    return info;
  };
  for (const size of sizes) {
    let why: string | undefined;
    if (last && last.loadMs > 1_000) {
      const predicted = last.loadMs * (size / last.size) ** 2;
      if (predicted > capMs) why = `manager load not run: ~${int(predicted / 1000)} s extrapolated (× namespaces²) from ${int(last.loadMs)} ms at ${int(last.size)}, over the ${capMs / 1000} s cap`;
    }
    let r: any;
    if (!why) {
      try {
        r = await runChild(size, 'manager');
      } catch (err) {
        why = `manager load did not finish within ${capMs / 1000 + 60} s (${String((err as Error).message).split('\n')[0]})`;
      }
    }
    if (r) {
      last = { size, loadMs: r.loadMs };
      ctx.log(`engine: ${int(size)} tenant namespaces stored (${int(r.documents)} docs): load ${int(r.loadMs)} ms, RSS ${round(r.rssMiB)} MiB, heap ${round(r.heapMiB)} MiB; path miss ${int(r.miss.perSec)}/s p99 ${ns(r.miss.p99Ns)}, hit ${int(r.hit.perSec)}/s p99 ${ns(r.hit.p99Ns)}; one write applied in ${ns(r.writeNs)}`);
      nsRows.push([
        int(size), int(r.documents), 'PolicyManager', `${int(r.loadMs)} ms`, `${round(r.rssMiB)} MiB`, `${round(r.heapMiB)} MiB`,
        `${int(r.miss.perSec)}/s`, ns(r.miss.p50Ns), ns(r.miss.p99Ns), `${int(r.hit.perSec)}/s`, ns(r.hit.p99Ns), ns(r.writeNs),
      ]);
      nsData.push({ tenants: size, ...r });
      continue;
    }
    ctx.log(`engine: ${int(size)} tenant namespaces: ${why}; measuring without the manager`);
    try {
      const d = await runChild(size, 'direct');
      ctx.log(`engine: ${int(size)} tenant namespaces (direct, ${int(d.documents)} docs): compile ${int(d.loadMs)} ms, RSS ${round(d.rssMiB)} MiB, heap ${round(d.heapMiB)} MiB; evaluatePlan miss ${int(d.miss.perSec)}/s p99 ${ns(d.miss.p99Ns)}`);
      nsRows.push([
        int(size), int(d.documents), `direct (no manager): ${why}`, `${int(d.loadMs)} ms (compile only)`, `${round(d.rssMiB)} MiB`, `${round(d.heapMiB)} MiB`,
        `${int(d.miss.perSec)}/s (evaluatePlan)`, ns(d.miss.p50Ns), ns(d.miss.p99Ns), '—', '—', '—',
      ]);
      nsData.push({ tenants: size, managerSkipped: why, ...d });
    } catch (err) {
      nsRows.push([int(size), '—', `failed: ${why}; direct: ${(err as Error).message.split('\n')[0]}`, '—', '—', '—', '—', '—', '—', '—', '—', '—']);
      nsData.push({ tenants: size, managerSkipped: why, error: (err as Error).message });
    }
  }
  data.namespacesStored = nsData;
  const loadNotes: string[] = [];
  const managed = (nsData as Array<{ tenants: number; loadMs?: number; mode?: string }>).filter((d) => d.mode === 'manager' && d.loadMs! > 0);
  for (let i = 1; i < managed.length; i++) {
    const factor = managed[i]!.tenants / managed[i - 1]!.tenants;
    const growth = managed[i]!.loadMs! / managed[i - 1]!.loadMs!;
    if (factor >= 10 && growth > factor * 3 && managed[i]!.loadMs! > 500) {
      loadNotes.push(`Loading grows worse than linearly: ×${factor} namespaces took ×${round(growth, 0)} the time (${int(managed[i - 1]!.loadMs!)} ms → ${int(managed[i]!.loadMs!)} ms). Cause: PolicyManager.replaceAll calls rebuild(ns) once per namespace, and rebuild scans every entry of the manager, so a full load (start-up, the resync every RESYNC_INTERVAL_MS, a poll answered 'reset') costs namespaces × documents; each applied write also runs rebuild, a scan of every entry, and the cache invalidation scans every cached decision.`);
      break;
    }
  }
  const nsTable: Table = {
    title: 'Scaling with namespaces stored (PolicyManager over a MemoryStore, one fresh process per size)',
    columns: ['tenant namespaces', 'documents', 'loaded by', 'load + compile', 'process RSS', 'V8 heap used', 'path miss', 'miss p50', 'miss p99', 'path hit', 'hit p99', 'one write applied'],
    rows: nsRows,
    notes: [
      'Each size: namespaces global (10 documents) and org (20), plus N tenant namespaces org:t<i> with 2 documents each (5 rules per document); the evaluated path is global.org.org:t0 (32 documents).',
      'RSS and heap after loading and a forced GC (node --expose-gc), before the measurements; the same process before loading had ~' + (nsData.length ? `${round((nsData[0] as any).baseRssMiB ?? NaN)} MiB` : '?') + ' RSS.',
      ...loadNotes,
      'miss = DecisionService.evaluate with a new subject id each call (cache on); hit = the same request again. "one write applied" = MemoryStore.put of one tenant document and the PolicyManager applying it (recompile, namespace rebuild, plan and cache invalidation) with the cache full of miss entries.',
    ],
  };

  return {
    id: 'engine',
    title: '1. Engine in process',
    tables: [main, docTable, nsTable],
    notes,
    data,
  };
}
