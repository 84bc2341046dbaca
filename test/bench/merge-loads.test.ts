// bench/lib/load.ts mergeLoads: the interleaved slices of one server's measurement
// (bench/scenarios/http.ts, bench/relations.ts) counted as one run.

import t from 'tap';
import { mergeLoads, type LoadResult } from '../../bench/lib/load.js';

function slice(ok: number, durationSec: number, latencies: number[], serverCpuSec?: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: ok / durationSec, ok, non2xx: 0, errors: 0, timeouts: 0, verifyFailures: 0, durationSec,
    latencyMs: { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN },
    ...(serverCpuSec !== undefined ? { serverCores: serverCpuSec / durationSec, serverCpuSec } : {}),
    loadgenCores: 0.5, wallSec: durationSec, loadgenCpuSec: durationSec / 2, latencies: sorted,
  };
}

t.test('requests over the summed time, percentiles over every latency, cores over the summed wall time', async (t) => {
  const m = mergeLoads([slice(100, 1, [1, 2, 3], 0.9), slice(300, 2, [4, 5], 1.9)]);
  t.equal(m.ok, 400);
  t.equal(m.rps, 400 / 3, 'not the mean of the slices\' rates (100 and 150)');
  t.equal(m.latencyMs.max, 5);
  t.equal(m.latencyMs.mean, 3);
  t.equal(m.serverCpuSec, 2.8);
  t.equal(m.serverCores, 2.8 / 3);
  t.equal(m.loadgenCores, 0.5);
  t.equal(m.latencies, undefined, 'the merged run keeps no latency list (results.json stays small)');
});

t.test('a slice without server CPU or kept latencies leaves those unknown, not zero', async (t) => {
  const withoutCpu = mergeLoads([slice(10, 1, [1], 1), slice(10, 1, [2])]);
  t.equal(withoutCpu.serverCores, undefined);
  const { latencies: _dropped, ...noLatencies } = slice(10, 1, [1]);
  t.ok(Number.isNaN(mergeLoads([noLatencies, slice(10, 1, [2])]).latencyMs.p50));
});
