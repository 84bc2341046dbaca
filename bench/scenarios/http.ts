// Scenario 2: the HTTP ceiling. autocannon (16 connections) against, one server at a
// time, each in its own child process (the service from dist/, started as `npm start`
// starts it: bench/lib/child.ts startNodeServer):
//   (a) bare   — fastify POST /bare: the same request body parsed, a fixed JSON answer of
//                the same size as (b)'s;
//   (b) hit    — POST /v1/evaluate, the same subject every request (cache hit);
//   (c) miss   — POST /v1/evaluate with a new subject id on every request (rotating
//                subjects; the cache is on with its default size, so every request is
//                a miss that also inserts, and evicts past 10,000 entries).
// Per repeat: the three servers are started and warmed up (their answers verified), then
// measured in interleaved slices (bare, hit, miss, then miss, hit, bare, …) and stopped.
// The ratio to the bare route is computed inside each repeat; medians over repeats.

import { postJson, startNodeServer } from '../lib/child.js';
import type { LoadRequest, LoadResult } from '../lib/load.js';
import type { ScenarioContext, ScenarioReport, Table } from '../lib/report.js';
import { ALICE, REALISTIC_PATH } from '../lib/sets.js';
import { sideBySide, type SideBySideTarget } from '../lib/side-by-side.js';
import { int, median, ms, round } from '../lib/util.js';

export const CONNECTIONS = 16;

export function loadSettings(quick: boolean) {
  return {
    connections: CONNECTIONS,
    warmupSec: quick ? 1 : 3,
    durationSec: quick ? 2 : 8,
    repeats: quick ? 1 : 3,
    /** slices per target in a repeat (the HTTP scenario interleaves them; durationSec is their sum) */
    rounds: quick ? 1 : 4,
    /** the count bound: far above what 2 cores serve in the duration */
    maxRequests: (quick ? 2 : 8) * 150_000,
  };
}

export interface Target extends SideBySideTarget {
  id: 'bare' | 'hit' | 'miss';
  label: string;
}

/** The ratio targets to the bare route, and the p99 target. */
export const TARGETS = { hit: 0.85, miss: 0.6, p99Ms: 2 };

/** The hit's request (and the miss's roles and path). */
export const REQUEST_BODY = JSON.stringify({ subject: ALICE, namespace: REALISTIC_PATH });

/** The miss load: POST /v1/evaluate with a new subject id on every request (the same roles and path as the hit). */
export function missRequests(): LoadRequest[] {
  let seq = 0;
  return [{
    path: '/v1/evaluate',
    body: REQUEST_BODY,
    setupRequest: (req: any) => {
      req.body = JSON.stringify({ subject: { id: `user:m${seq++}`, roles: ALICE.roles }, namespace: REALISTIC_PATH });
      return req;
    },
  }];
}

/** The size of the cache-hit answer (the bare route answers as many bytes), from a probe server. */
export async function hitAnswerBytes(): Promise<number> {
  const probe = await startNodeServer({ mode: 'app' }, 'probe');
  try {
    await storeHit(probe.port);
    const r = await postJson(probe.port, '/v1/evaluate', REQUEST_BODY);
    if (r.status !== 200 || r.json?.cached !== true) throw new Error(`probe: expected a cache hit, got ${r.status} ${r.text.slice(0, 200)}`);
    return Buffer.byteLength(r.text);
  } finally {
    await probe.stop();
  }
}

/**
 * Asks the hit's request until the server stores its answer: twice, as a decision is
 * stored at its key's second ask (CACHE_ADMISSION=second, the default); the next is a hit.
 */
export async function storeHit(port: number): Promise<void> {
  for (let ask = 0; ask < 2; ask++) await postJson(port, '/v1/evaluate', REQUEST_BODY);
}

/** The bare route, the hit and the miss, in that order. */
export function httpTargets(hitBytes: number): [Target, Target, Target] {
  return [
    {
      id: 'bare',
      label: `bare fastify route (same request, fixed ${hitBytes}-byte JSON answer)`,
      start: () => startNodeServer({ mode: 'bare', bodyBytes: hitBytes }, 'bare'),
      requests: [{ path: '/bare', body: REQUEST_BODY }],
      verify: (status, body) => status === 200 && body.length === hitBytes,
    },
    {
      id: 'hit',
      label: 'POST /v1/evaluate, cache hit (same subject every request)',
      start: async () => {
        const server = await startNodeServer({ mode: 'app' }, 'hit');
        await storeHit(server.port);
        return server;
      },
      requests: [{ path: '/v1/evaluate', body: REQUEST_BODY }],
      verify: (status, body) => status === 200 && JSON.parse(body).cached === true,
    },
    {
      id: 'miss',
      label: 'POST /v1/evaluate, cache miss (new subject id every request; cache on, 10,000 entries)',
      start: () => startNodeServer({ mode: 'app' }, 'miss'),
      requests: missRequests(),
      verify: (status, body) => status === 200 && JSON.parse(body).cached === false,
    },
  ];
}

export async function httpScenario(ctx: ScenarioContext): Promise<Omit<ScenarioReport, 'loadavgBefore' | 'busyBefore' | 'startedAt' | 'durationSec'>> {
  const s = loadSettings(ctx.quick);
  const notes: string[] = [];

  // Probes: the size of a cache-hit answer, and whether CACHE_MAX=0 really disables the cache.
  const hitBytes = await hitAnswerBytes();
  {
    const zero = await startNodeServer({ mode: 'app', env: { CACHE_MAX: '0' } }, 'probe CACHE_MAX=0');
    try {
      await postJson(zero.port, '/v1/evaluate', REQUEST_BODY);
      const r = await postJson(zero.port, '/v1/evaluate', REQUEST_BODY);
      if (r.json?.cached === true) {
        notes.push('**Engine bug found:** with `CACHE_MAX=0` (documented as "0 disables it") the second identical request answers `"cached": true`: `DecisionCache` is built with `max: Math.max(1, options.max)` and `DecisionService` always consults it, so 0 gives a one-entry cache. That is why the miss case below rotates subjects instead of relying on `CACHE_MAX=0`.');
        ctx.log('http: NOTE CACHE_MAX=0 does not disable the cache (second identical request answered cached: true)');
      } else {
        notes.push('`CACHE_MAX=0` disables the cache (checked: a repeated request answers `"cached": false`).');
      }
    } finally {
      await zero.stop();
    }
  }

  const targets = httpTargets(hitBytes);
  const runs: Record<string, LoadResult[]> = { bare: [], hit: [], miss: [] };
  const ratios: Record<string, number[]> = { hit: [], miss: [] };
  for (let rep = 1; rep <= s.repeats; rep++) {
    // The three servers run side by side (an idle one costs nothing) and are measured in
    // interleaved slices, so a change in the machine's speed during the repeat (this is a
    // shared 2-core machine) falls on all three alike instead of on whichever ran then.
    const measured = await sideBySide(targets, { ...s, sliceSec: s.durationSec / s.rounds });
    const bareRps = measured.get(targets[0])!.merged.rps;
    for (const t of targets) {
      const { slices, merged: r } = measured.get(t)!;
      runs[t.id]!.push(r);
      if (t.id !== 'bare') ratios[t.id]!.push(r.rps / bareRps);
      const ratio = t.id === 'bare' ? '' : `, ${round(r.rps / bareRps, 3)}× bare`;
      const cpuUs = r.serverCores === undefined ? '' : ` = ${int((r.serverCores * 1e6) / r.rps)} µs/request`;
      ctx.log(`http: repeat ${rep}/${s.repeats} ${t.id}: ${int(r.rps)} rps${ratio} (slices ${slices.map((x) => int(x.rps)).join(' / ')}), p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, server CPU ${round(r.serverCores ?? NaN, 2)} cores${cpuUs}, load generator ${round(r.loadgenCores, 2)} cores`);
    }
  }

  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const t of targets) {
    const rs = runs[t.id]!;
    const rps = median(rs.map((r) => r.rps));
    const p50 = median(rs.map((r) => r.latencyMs.p50));
    const p99 = median(rs.map((r) => r.latencyMs.p99));
    const cores = median(rs.map((r) => r.serverCores ?? NaN));
    const ratio = t.id === 'bare' ? 1 : median(ratios[t.id]!);
    const goal = t.id === 'bare' ? undefined : TARGETS[t.id];
    const verdict = goal === undefined ? '' : `${ratio >= goal ? 'met' : '**not met**'} (≥ ${goal}×)`;
    const p99Verdict = t.id === 'bare' ? '' : `${p99 <= TARGETS.p99Ms ? 'met' : '**not met**'}`;
    rows.push([t.label, int(rps), t.id === 'bare' ? '1' : `${round(ratio, 3)}×`, verdict, ms(p50), ms(p99), p99Verdict, round(cores, 2).toString(), rs.map((r) => int(r.rps)).join(' / ')]);
    summary[t.id] = { rpsMedian: rps, ratioMedian: ratio, ratios: ratios[t.id], p50Ms: p50, p99Ms: p99, serverCores: cores, runs: rs };
    if (t.id !== 'bare') ctx.log(`http: ${t.id}: median ${int(rps)} rps = ${round(ratio, 3)}× bare (target ≥ ${goal}×: ${ratio >= goal! ? 'met' : 'NOT met'}), p99 ${ms(p99)} (target ≤ ${TARGETS.p99Ms} ms: ${p99 <= TARGETS.p99Ms ? 'met' : 'NOT met'})`);
    else ctx.log(`http: bare: median ${int(rps)} rps, p99 ${ms(p99)}`);
  }
  const table: Table = {
    title: `HTTP ceiling: ${s.connections} connections, ${s.warmupSec} s warm-up then ${s.durationSec} s in ${s.rounds} interleaved slice(s) (≤ ${int(s.maxRequests)} requests), ${s.repeats} repeat(s), medians`,
    columns: ['target', 'rps', 'ratio to bare', 'ratio target', 'p50', 'p99', 'p99 ≤ 2 ms', 'server CPU (cores)', 'rps per repeat'],
    rows,
    notes: [
      'Each server runs in its own child process: the service is tsc\'s output in dist/, started with the flags and environment of `npm start` (NODE_ENV=production, logging off); the load generator (autocannon, programmatic) runs in the parent. The machine has 2 cores: the load generator takes most of one.',
      `Ratios are taken inside each repeat and the median of the per-repeat ratios is shown. In a repeat the three servers run side by side and are measured in ${s.rounds} interleaved slices each (bare, hit, miss, then the reverse order), so a change in the machine's speed falls on all three alike.`,
      'Latency percentiles come from every response (sub-millisecond resolution), not autocannon\'s whole-millisecond histogram.',
      `Request body: ${REQUEST_BODY.length} bytes; the cache-hit answer is ${hitBytes} bytes and the bare route answers the same number of bytes.`,
    ],
  };
  return { id: 'http', title: '2. HTTP ceiling', tables: [table], notes, data: { settings: s, hitBytes, ...summary } };
}
