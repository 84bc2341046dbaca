// What a ratio to the bare route means in microseconds of handler work, on this machine.
// The HTTP targets are ratios (hit ≥ 0.85×, miss ≥ 0.6× the bare fastify route). This
// script measures the bare route with a busy-wait of N µs added to its handler (the same
// request, the same answer bytes), next to the cache hit and the cache miss of
// POST /v1/evaluate, all side by side in interleaved slices (as the HTTP scenario does),
// and prints each one's ratio to the unchanged bare route. It answers two questions:
//   - how many µs of extra handler work a ratio target allows here (interpolated where
//     the bare+N curve crosses 0.85 and 0.6);
//   - how much extra handler work the hit and the miss behave like.
// Run: node --import tsx bench/ratio-budget.ts [--quick] [--spins 0,2,4,8,16,32] [--repeats 3]
// Prints a table; writes nothing.

import { postJson, startNodeServer, type Child } from './lib/child.js';
import { interleavedLoads, loadProblems, mergeLoads, runLoad, type LoadRequest } from './lib/load.js';
import { ALICE, REALISTIC_PATH } from './lib/sets.js';
import { CONNECTIONS, missRequests } from './scenarios/http.js';
import { int, loadavgText, median, round } from './lib/util.js';

const QUICK = process.argv.includes('--quick');
const opt = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SPINS = (opt('spins') ?? '0,2,4,8,16,32').split(',').map(Number);
if (SPINS[0] !== 0 || SPINS.some((s) => !Number.isFinite(s) || s < 0)) throw new Error('--spins: non-negative µs, the first 0 (the bare route every ratio is taken against)');
const REPEATS = Number(opt('repeats') ?? (QUICK ? 1 : 3));
const ROUNDS = QUICK ? 1 : 4;
const SLICE_SEC = QUICK ? 1 : 1.5;
const WARMUP_SEC = QUICK ? 1 : 2;
const TARGETS = { hit: 0.85, miss: 0.6 };

interface Target {
  id: string;
  start(): Promise<Child>;
  requests: LoadRequest[];
}

const requestBody = JSON.stringify({ subject: ALICE, namespace: REALISTIC_PATH });
let hitBytes = 0;
{
  const probe = await startNodeServer({ mode: 'app' }, 'probe');
  try {
    await postJson(probe.port, '/v1/evaluate', requestBody);
    hitBytes = Buffer.byteLength((await postJson(probe.port, '/v1/evaluate', requestBody)).text);
  } finally {
    await probe.stop();
  }
}
const targets: Target[] = [
  ...SPINS.map((spin): Target => ({
    id: spin === 0 ? 'bare' : `bare+${spin}µs`,
    start: () => startNodeServer({ mode: 'bare', bodyBytes: hitBytes, spinMicros: spin }, `bare+${spin}`),
    requests: [{ path: '/bare', body: requestBody }],
  })),
  {
    id: 'hit',
    start: async () => {
      const server = await startNodeServer({ mode: 'app' }, 'hit');
      await postJson(server.port, '/v1/evaluate', requestBody);
      return server;
    },
    requests: [{ path: '/v1/evaluate', body: requestBody }],
  },
  {
    id: 'miss',
    start: () => startNodeServer({ mode: 'app' }, 'miss'),
    requests: missRequests(),
  },
];

console.log(`ratio-budget: load average ${loadavgText()}; ${targets.length} servers, ${REPEATS} repeat(s) of ${ROUNDS} interleaved ${SLICE_SEC} s slices each`);
const ratios = new Map<string, number[]>(targets.map((t) => [t.id, []]));
const cpu = new Map<string, number[]>(targets.map((t) => [t.id, []]));
for (let rep = 1; rep <= REPEATS; rep++) {
  const servers = new Map<Target, Child>();
  try {
    for (const t of targets) {
      const server = await t.start();
      servers.set(t, server);
      const warm = await runLoad({ port: server.port, requests: t.requests, connections: CONNECTIONS, durationSec: WARMUP_SEC, maxRequests: 10_000_000 });
      const problem = loadProblems(warm);
      if (problem) throw new Error(`${t.id} warm-up: ${problem}`);
    }
    const slices = await interleavedLoads(targets, ROUNDS, (t) => {
      const server = servers.get(t)!;
      return { port: server.port, requests: t.requests, connections: CONNECTIONS, durationSec: SLICE_SEC, maxRequests: 10_000_000, pids: [server.pid] };
    });
    const merged = new Map([...slices].map(([t, runs]) => [t.id, mergeLoads(runs)]));
    const bare = merged.get('bare')!.rps;
    const line: string[] = [];
    for (const [id, r] of merged) {
      const problem = loadProblems(r);
      if (problem) throw new Error(`${id}: ${problem}`);
      ratios.get(id)!.push(r.rps / bare);
      if (r.serverCpuSec !== undefined) cpu.get(id)!.push((r.serverCpuSec / r.ok) * 1e6);
      line.push(`${id} ${int(r.rps)} rps (${round(r.rps / bare, 2)}×)`);
    }
    console.log(`repeat ${rep}: ${line.join(', ')}`);
  } finally {
    for (const s of servers.values()) await s.stop();
  }
}

const med = (id: string) => median(ratios.get(id)!);
/** Where the bare+N curve (medians) falls to `ratio`, by linear interpolation; undefined past its end. */
function spinAt(ratio: number): number | undefined {
  for (let i = 1; i < SPINS.length; i++) {
    const [s0, s1] = [SPINS[i - 1]!, SPINS[i]!];
    const [r0, r1] = [med(s0 === 0 ? 'bare' : `bare+${s0}µs`), med(`bare+${s1}µs`)];
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
for (const [id, goal] of Object.entries(TARGETS)) {
  console.log(`${id}: ${round(med(id), 2)}× behaves like the bare route with ${µs(spinAt(med(id)))} of extra handler work; the target ${goal}× allows ${µs(spinAt(goal))}`);
}
