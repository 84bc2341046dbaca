// CPU profile of POST /v1/evaluate on the cache-miss path (a new subject id every
// request, as in the HTTP scenario), under load: runs bench/servers/server.ts (mode app)
// with --cpu-prof, drives it with bench/lib/load.ts, stops it, and prints the frames with
// the most self time (and the profile's path, for a flame graph in Chrome DevTools or
// speedscope).
// Run: node --import tsx bench/profile-miss.ts [--seconds 10] [--warmup 3] [--top 30] [--hit [--check] | --floor | --bare [--spin µs]] [--no-profile] [--json FILE]
// --warmup: seconds of the same load first, left out of the numbers (the miss fills the
// cache past its 10,000 entries, so what is measured includes evictions, as in the bench).
// --json FILE: every frame's self time per request, for `--diff A.json B.json`, which prints
// the frames whose µs per request differ most (before/after, or bare against hit).
// --no-profile: only the load, and the server's CPU per request (for A/B comparisons).
// --bare: the bare fastify route of the HTTP scenario (same answer size as a hit), the
// denominator of the ratios: CPU per request is steadier than req/s on a loaded machine.
// --spin µs: the bare route busy-waits that long first (what handler work of a known
// length costs; bench/ratio-budget.ts measures it against the ratios).
// --check (with --hit): POST /v1/check of one permission (`doc:read`) instead of evaluate, the same subject and path.
// --floor: the hit's load on a server whose decision service decides nothing once it has
// answered a hit (bench/servers/server.ts `floor`): what the route costs on its own.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './lib/load.js';
import { startNodeServer } from './lib/child.js';
import { CONNECTIONS, hitAnswerBytes, missRequests, REQUEST_BODY } from './scenarios/http.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
interface FramesFile { ok: number; total: number; frames: Record<string, number> }
const diffAt = process.argv.indexOf('--diff');
if (diffAt > 0) {
  const [a, b] = [process.argv[diffAt + 1]!, process.argv[diffAt + 2]!].map((f) => JSON.parse(readFileSync(f, 'utf8')) as FramesFile);
  const per = (f: FramesFile, k: string) => (f.frames[k] ?? 0) / f.ok;
  console.log(`µs per request: ${(a!.total / a!.ok).toFixed(1)} → ${(b!.total / b!.ok).toFixed(1)}`);
  const names = [...new Set([...Object.keys(a!.frames), ...Object.keys(b!.frames)])];
  const rows = names.map((k) => [k, per(a!, k), per(b!, k)] as const).sort((x, y) => Math.abs(y[2] - y[1]) - Math.abs(x[2] - x[1]));
  for (const [k, x, y] of rows.slice(0, arg('top', 30))) console.log(`${x.toFixed(2).padStart(7)} ${y.toFixed(2).padStart(7)} ${(y - x >= 0 ? '+' : '') + (y - x).toFixed(2)}  ${k}`);
  process.exit(0);
}
const SECONDS = arg('seconds', 10);
const WARMUP = arg('warmup', 3);
const jsonAt = process.argv.indexOf('--json');
const JSON_OUT = jsonAt > 0 ? process.argv[jsonAt + 1] : undefined;
const TOP = arg('top', 30);
const HIT = process.argv.includes('--hit');
const BARE = process.argv.includes('--bare');
const FLOOR = process.argv.includes('--floor');
const CHECK = HIT && process.argv.includes('--check');
const NAME = BARE ? 'bare' : FLOOR ? 'hit-floor' : CHECK ? 'check-hit' : HIT ? 'hit' : 'miss';
const dir = mkdtempSync(join(tmpdir(), 'pe-prof-'));

const profiling = !process.argv.includes('--no-profile');
// --node-flags "…": Node/V8 flags for the server (e.g. its heap sizing), to weigh their CPU cost.
const flagsAt = process.argv.indexOf('--node-flags');
const NODE_FLAGS = flagsAt > 0 ? process.argv[flagsAt + 1]!.split(' ').filter(Boolean) : [];
// As the benchmark runs it: dist/, with the flags of `npm start` (bench/lib/child.ts startNodeServer).
const server = await startNodeServer(
  BARE ? { mode: 'bare', bodyBytes: await hitAnswerBytes(), spinMicros: arg('spin', 0) } : { mode: 'app', floor: FLOOR },
  NAME,
  [...NODE_FLAGS, ...(profiling ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])],
);

const load = (durationSec: number) => runLoad({
  port: server.port,
  connections: CONNECTIONS,
  durationSec,
  maxRequests: 10_000_000,
  pids: [server.pid],
  requests: CHECK ? [{ path: '/v1/check', body: JSON.stringify({ ...JSON.parse(REQUEST_BODY), permission: 'doc:read' }) }]
    : HIT || FLOOR || BARE ? [{ path: BARE ? '/bare' : '/v1/evaluate', body: REQUEST_BODY }] : missRequests(),
});
if (WARMUP > 0) await load(WARMUP);
// Samples before this moment (start-up, module loading, the warm-up) are left out of the summary.
const loadStartUs = Number(process.hrtime.bigint() / 1000n);
const result = await load(SECONDS);
// CPU per request is steadier than req/s on a shared machine (others' load mostly costs wait, not CPU).
const cpuUs = result.serverCores !== undefined ? (result.serverCores / result.rps) * 1e6 : NaN;
console.log(`${NAME}: ${result.rps.toFixed(0)} req/s, p99 ${result.latencyMs.p99.toFixed(2)} ms, server cores ${result.serverCores?.toFixed(2)}, server CPU ${cpuUs.toFixed(0)} µs per request`);
// Stopped (SIGTERM), the server exits and V8 writes the profile.
await server.stop();
if (!profiling) process.exit(0);

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number };
const self = new Map<number, number>();
// Both clocks are CLOCK_MONOTONIC in µs (V8's profiler and process.hrtime).
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at >= loadStartUs) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const idleId = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const byFrame = new Map<string, number>();
let total = 0;
for (const n of profile.nodes) {
  if (idleId.has(n.id)) continue;
  const us = self.get(n.id) ?? 0;
  total += us;
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '').replace(/^.*\/node_modules\//, 'node_modules/');
  const name = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
  byFrame.set(name, (byFrame.get(name) ?? 0) + us);
}
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ ok: result.ok, total, frames: Object.fromEntries(byFrame) } satisfies FramesFile));
const rows = [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, TOP);
// µs per request: comparable between runs of different lengths and req/s (bare vs hit vs miss).
const perRequest = (us: number) => (result.ok > 0 ? us / result.ok : NaN);
console.log(`top ${TOP} frames by self time, share of the busy time under load (${(total / 1e6).toFixed(1)} s, idle left out; ${perRequest(total).toFixed(1)} µs per request), and µs per request:`);
for (const [name, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}% ${perRequest(us).toFixed(2).padStart(6)} µs  ${name}`);
console.log(`profile: ${join(dir, file)}`);
