// HTTP load with autocannon's programmatic API, always bounded twice: by time
// (`durationSec`) and by count (`maxRequests`, autocannon's maxOverallRequests).
// Latencies are recorded here from every response at sub-millisecond resolution
// (autocannon's own histogram keeps whole milliseconds). The server's CPU is read from
// /proc/<pid>/stat before and after, so rps can be reported beside cores used.

import autocannon from 'autocannon';
import { percentileSorted, procCpuSeconds } from './util.js';

export interface LoadRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** mutate each request just before it is sent (rotating subjects, nonces) */
  setupRequest?: (req: any, context: any) => any;
  /** checks every answer to this request (use in warm-ups: it makes autocannon keep bodies) */
  verify?: (status: number, body: string) => boolean;
}

export interface LoadOptions {
  port: number;
  requests: LoadRequest[];
  connections: number;
  durationSec: number;
  maxRequests: number;
  /** pids whose CPU use is measured (the server; a peer's helpers) */
  pids?: number[];
  /** checks every response body (use in warm-ups); a false answer is counted */
  verify?: (status: number, body: string) => boolean;
  /** keep every latency in the result (for mergeLoads) */
  keepLatencies?: boolean;
}

export interface LoadResult {
  rps: number;
  /** responses with a 2xx status */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  verifyFailures: number;
  durationSec: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** cores used by the measured pids over the run (CPU seconds / wall seconds) */
  serverCores?: number;
  /** cores used by this process (the load generator) */
  loadgenCores: number;
  /** CPU seconds of the measured pids, and wall seconds (for mergeLoads) */
  serverCpuSec?: number;
  wallSec: number;
  loadgenCpuSec: number;
  /** every 2xx latency, sorted (with keepLatencies) */
  latencies?: Float64Array;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const cap = Math.max(o.maxRequests, o.connections) + o.connections * 2;
  const latencies = new Float64Array(cap);
  let n = 0;
  let verifyFailures = 0;
  const requests = o.requests.map((r) => {
    const out: Record<string, unknown> = { method: r.method ?? 'POST', path: r.path };
    if (r.headers) out.headers = r.headers;
    if (r.body !== undefined) out.body = r.body;
    if (r.setupRequest) out.setupRequest = r.setupRequest;
    const verify = r.verify ?? o.verify;
    if (verify) {
      out.onResponse = (status: number, body: string) => {
        let ok = false;
        try {
          ok = verify(status, body);
        } catch {
          ok = false;
        }
        if (!ok) verifyFailures++;
      };
    }
    return out;
  });
  const cpu0 = (o.pids ?? []).map((p) => procCpuSeconds(p));
  const self0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const instance = autocannon({
    url: `http://127.0.0.1:${o.port}`,
    connections: o.connections,
    duration: o.durationSec,
    maxOverallRequests: Math.max(o.maxRequests, o.connections),
    headers: { 'content-type': 'application/json' },
    requests: requests as any,
    timeout: 10,
  } as any);
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (status >= 200 && status < 300 && n < cap) latencies[n++] = responseTime;
  });
  const result: any = await instance;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const self = process.cpuUsage(self0);
  const cpu1 = (o.pids ?? []).map((p) => procCpuSeconds(p));
  let serverCpu: number | undefined;
  if (o.pids && o.pids.length > 0) {
    serverCpu = 0;
    for (let i = 0; i < o.pids.length; i++) {
      const a = cpu0[i];
      const b = cpu1[i];
      if (a !== undefined && b !== undefined) serverCpu += b - a;
    }
  }
  const sorted = latencies.subarray(0, n).sort();
  const duration = typeof result.duration === 'number' && result.duration > 0 ? result.duration : wall;
  const loadgenCpuSec = (self.user + self.system) / 1e6;
  return {
    rps: n / duration,
    ok: n,
    non2xx: result.non2xx ?? 0,
    errors: result.errors ?? 0,
    timeouts: result.timeouts ?? 0,
    verifyFailures,
    durationSec: duration,
    latencyMs: latencySummary(sorted),
    ...(serverCpu !== undefined ? { serverCores: serverCpu / wall, serverCpuSec: serverCpu } : {}),
    loadgenCores: loadgenCpuSec / wall,
    wallSec: wall,
    loadgenCpuSec,
    ...(o.keepLatencies ? { latencies: sorted.slice() } : {}),
  };
}

function latencySummary(sorted: Float64Array): LoadResult['latencyMs'] {
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    p999: percentileSorted(sorted, 99.9),
    max: n > 0 ? sorted[n - 1]! : NaN,
    mean: n > 0 ? sum / n : NaN,
  };
}

/**
 * Interleaved slices: `rounds` rounds, each running one slice per key (in the order of
 * `keys`, then reversed on every other round, so no key always follows the same one), so
 * a change in a shared machine's speed falls on every key alike. `slice(key, round)` gives
 * each slice's load (latencies are kept, for mergeLoads). Returns each key's slices.
 */
export async function interleavedLoads<K>(keys: readonly K[], rounds: number, slice: (key: K, round: number) => LoadOptions): Promise<Map<K, LoadResult[]>> {
  const slices = new Map<K, LoadResult[]>(keys.map((k) => [k, []]));
  for (let round = 0; round < rounds; round++) {
    for (const key of round % 2 === 0 ? keys : [...keys].reverse()) {
      slices.get(key)!.push(await runLoad({ ...slice(key, round), keepLatencies: true }));
    }
  }
  return slices;
}

/**
 * Several runs against one server (the slices of an interleaved measurement) as one:
 * requests over the summed durations, percentiles over every kept latency, cores over
 * the summed wall time. Runs without kept latencies give NaN percentiles.
 */
export function mergeLoads(runs: LoadResult[]): LoadResult {
  const sum = (f: (r: LoadResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  const ok = sum((r) => r.ok);
  const durationSec = sum((r) => r.durationSec);
  const wallSec = sum((r) => r.wallSec);
  const all = new Float64Array(runs.every((r) => r.latencies) ? sum((r) => r.latencies!.length) : 0);
  let at = 0;
  if (all.length > 0) for (const r of runs) { all.set(r.latencies!, at); at += r.latencies!.length; }
  all.sort();
  const serverCpuSec = runs.every((r) => r.serverCpuSec !== undefined) ? sum((r) => r.serverCpuSec!) : undefined;
  const loadgenCpuSec = sum((r) => r.loadgenCpuSec);
  return {
    rps: ok / durationSec,
    ok,
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    verifyFailures: sum((r) => r.verifyFailures),
    durationSec,
    latencyMs: latencySummary(all),
    ...(serverCpuSec !== undefined ? { serverCores: serverCpuSec / wallSec, serverCpuSec } : {}),
    loadgenCores: loadgenCpuSec / wallSec,
    wallSec,
    loadgenCpuSec,
  };
}

/** A load run's problems, if any: a benchmark with errors is not a result. */
export function loadProblems(r: LoadResult): string | undefined {
  const p: string[] = [];
  if (r.ok === 0) p.push('no successful response');
  if (r.non2xx > 0) p.push(`${r.non2xx} non-2xx responses`);
  if (r.errors > 0) p.push(`${r.errors} errors (${r.timeouts} timeouts)`);
  if (r.verifyFailures > 0) p.push(`${r.verifyFailures} answers failed verification`);
  return p.length > 0 ? p.join(', ') : undefined;
}
