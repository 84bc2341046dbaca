// What a ratio to the bare route means in microseconds of handler work, on this machine.
// The HTTP targets are ratios (hit ≥ 0.85×, miss ≥ 0.6× the bare fastify route). This
// script measures the bare route with a busy-wait of N µs added to its handler (the same
// request, the same answer bytes), next to the cache hit and the cache miss of
// POST /v1/evaluate, all side by side in interleaved slices (as the HTTP scenario does),
// and prints each one's ratio to the unchanged bare route. It answers three questions:
//   - how many µs of extra handler work a ratio target allows here (interpolated where
//     the bare+N curve crosses 0.85 and 0.6);
//   - how much extra handler work the hit and the miss behave like;
//   - what the route costs without any decision work (`hit-floor`: the hit's server with
//     a decision service that returns the first hit's result, deciding nothing), the
//     best any faster cache lookup could reach.
// Run: node --import tsx bench/ratio-budget.ts [--quick] [--spins 0,2,4,8,16,32] [--repeats 3]
// Prints a table; writes nothing.

import { postJson, startNodeServer } from './lib/child.js';
import { sideBySide, type SideBySideTarget } from './lib/side-by-side.js';
import { CONNECTIONS, hitAnswerBytes, httpTargets, REQUEST_BODY, storeHit, TARGETS } from './scenarios/http.js';
import { int, loadavgText, median, round } from './lib/util.js';

const QUICK = process.argv.includes('--quick');
const opt = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SPINS = (opt('spins') ?? '0,2,4,8,16,32').split(',').map(Number);
if (SPINS[0] !== 0 || SPINS.some((s) => !Number.isFinite(s) || s < 0)) throw new Error('--spins: non-negative µs, the first 0 (the bare route every ratio is taken against)');
const REPEATS = Number(opt('repeats') ?? (QUICK ? 1 : 3));
const SETTINGS = { connections: CONNECTIONS, warmupSec: QUICK ? 1 : 2, sliceSec: QUICK ? 1 : 1.5, rounds: QUICK ? 1 : 4, maxRequests: 10_000_000 };

const hitBytes = await hitAnswerBytes();
const [bare, hit, miss] = httpTargets(hitBytes);
// The HTTP scenario's three servers, and the bare route again with each busy-wait.
const spinId = (spin: number) => (spin === 0 ? 'bare' : `bare+${spin}µs`);
const targets: SideBySideTarget[] = [
  bare,
  ...SPINS.slice(1).map((spin) => ({ ...bare, id: spinId(spin), start: () => startNodeServer({ mode: 'bare', bodyBytes: hitBytes, spinMicros: spin }, spinId(spin)) })),
  hit,
  // The hit with a decision service that decides nothing (bench/servers/server.ts `floor`):
  // what the route costs on its own, the best any faster cache lookup could reach.
  {
    ...hit,
    id: 'hit-floor',
    start: async () => {
      const server = await startNodeServer({ mode: 'app', floor: true }, 'hit-floor');
      await storeHit(server.port);
      await postJson(server.port, '/v1/evaluate', REQUEST_BODY); // the hit the floor keeps
      return server;
    },
  },
  miss,
  // The miss as it was before admission at the second ask: every computed decision stored
  // (and, the cache being full, one evicted), as a key asked again after its eviction is.
  { ...miss, id: 'miss-stored', start: () => startNodeServer({ mode: 'app', env: { CACHE_ADMISSION: 'first' } }, 'miss-stored') },
];

console.log(`ratio-budget: load average ${loadavgText()}; ${targets.length} servers, ${REPEATS} repeat(s) of ${SETTINGS.rounds} interleaved ${SETTINGS.sliceSec} s slices each`);
const ratios = new Map<string, number[]>(targets.map((t) => [t.id, []]));
const cpu = new Map<string, number[]>(targets.map((t) => [t.id, []]));
for (let rep = 1; rep <= REPEATS; rep++) {
  const measured = await sideBySide(targets, SETTINGS);
  const bareRps = measured.get(bare)!.merged.rps;
  const line: string[] = [];
  for (const [t, { merged: r }] of measured) {
    ratios.get(t.id)!.push(r.rps / bareRps);
    if (r.serverCpuSec !== undefined) cpu.get(t.id)!.push((r.serverCpuSec / r.ok) * 1e6);
    line.push(`${t.id} ${int(r.rps)} rps (${round(r.rps / bareRps, 2)}×)`);
  }
  console.log(`repeat ${rep}: ${line.join(', ')}`);
}

const med = (id: string) => median(ratios.get(id)!);
/** Where the bare+N curve (medians) falls to `ratio`, by linear interpolation; undefined past its end. */
function spinAt(ratio: number): number | undefined {
  for (let i = 1; i < SPINS.length; i++) {
    const [s0, s1] = [SPINS[i - 1]!, SPINS[i]!];
    const [r0, r1] = [med(spinId(s0)), med(spinId(s1))];
    if (r1 <= ratio && r0 >= ratio) return r0 === r1 ? s0 : s0 + ((r0 - ratio) / (r0 - r1)) * (s1 - s0);
  }
  return undefined;
}
const µs = (s: number | undefined) => (s === undefined ? `beyond ${SPINS.at(-1)} µs` : `${round(s, 1)} µs`);

console.log('\n| target | ratio to bare (median) | per repeat | server CPU per request (µs, median) |');
console.log('|---|---|---|---|');
for (const t of targets) {
  console.log(`| ${t.id} | ${round(med(t.id), 2)}× | ${ratios.get(t.id)!.map((r) => round(r, 2)).join(' / ')} | ${round(median(cpu.get(t.id)!), 0)} |`);
}
console.log('');
for (const id of ['hit', 'miss'] as const) {
  const goal = TARGETS[id];
  console.log(`${id}: ${round(med(id), 2)}× behaves like the bare route with ${µs(spinAt(med(id)))} of extra handler work; the target ${goal}× allows ${µs(spinAt(goal))}`);
}
console.log(`hit-floor: ${round(med('hit-floor'), 2)}×, the route with the decision taking no time, behaves like ${µs(spinAt(med('hit-floor')))}: what fastify's hooks and validation, the decision id and the metrics cost on their own`);
