// In-process measurement: mitata for throughput (its samples average batches of fast
// calls, so its percentiles are of batch means), plus individually timed calls for the
// per-evaluation p50 / p99 (hrtime around each call, the timer's own cost subtracted).
// Functions of a millisecond or more are only timed call by call (mean from those).
import { measure } from 'mitata';
import { percentileSorted } from './util.js';
let timerCost;
function hrtimeCost() {
    if (timerCost !== undefined)
        return timerCost;
    const d = new Float64Array(20_000);
    for (let i = 0; i < d.length; i++) {
        const t0 = process.hrtime.bigint();
        const t1 = process.hrtime.bigint();
        d[i] = Number(t1 - t0);
    }
    d.sort();
    timerCost = percentileSorted(d, 50);
    return timerCost;
}
/** Time `count` calls one by one (after `count / 10` unmeasured ones); ns, sorted. */
export function timeCalls(fn, count) {
    const cost = hrtimeCost();
    for (let i = 0; i < Math.max(2, Math.min(count / 10, 1_000)); i++)
        fn();
    const d = new Float64Array(count);
    for (let i = 0; i < count; i++) {
        const t0 = process.hrtime.bigint();
        fn();
        const t1 = process.hrtime.bigint();
        d[i] = Math.max(0, Number(t1 - t0) - cost);
    }
    return d.sort();
}
export async function micro(fn, quick) {
    // A rough cost first: slow functions (≥ 1 ms a call) are only timed call by call, on
    // a time budget, since mitata would want a dozen samples of many calls each.
    // (after a short warm-up, so that compilation does not count)
    const w0 = performance.now();
    for (let i = 0; i < 200 && performance.now() - w0 < 300; i++)
        fn();
    let calls = 0;
    const e0 = process.hrtime.bigint();
    const eEnd = performance.now() + 50;
    do {
        fn();
        calls++;
    } while (calls < 10 && performance.now() < eEnd);
    const estimate = Number(process.hrtime.bigint() - e0) / calls;
    const budgetNs = (quick ? 100 : 600) * 1e6;
    if (estimate >= 1e6) {
        const count = Math.max(quick ? 5 : 10, Math.min(1_000, Math.floor((quick ? 3e9 : 10e9) / estimate)));
        const timed = timeCalls(fn, count);
        let sum = 0;
        for (let i = 0; i < timed.length; i++)
            sum += timed[i];
        const avg = sum / timed.length;
        return {
            avgNs: avg,
            perSec: 1e9 / avg,
            p50Ns: percentileSorted(timed, 50),
            p99Ns: percentileSorted(timed, 99),
            mitataP50Ns: NaN,
            mitataP99Ns: NaN,
            samples: timed.length,
        };
    }
    const stats = await measure(fn, {
        min_cpu_time: (quick ? 60 : 600) * 1e6,
        min_samples: quick ? 8 : 12,
    });
    // enough individually timed calls for a p99, bounded in time
    const count = Math.max(200, Math.min(quick ? 20_000 : 100_000, Math.floor(budgetNs / Math.max(stats.avg, 1))));
    const timed = timeCalls(fn, count);
    return {
        avgNs: stats.avg,
        perSec: 1e9 / stats.avg,
        p50Ns: percentileSorted(timed, 50),
        p99Ns: percentileSorted(timed, 99),
        mitataP50Ns: stats.p50,
        mitataP99Ns: stats.p99,
        samples: stats.samples.length,
    };
}
