// HTTP load with autocannon's programmatic API, always bounded twice: by time
// (`durationSec`) and by count (`maxRequests`, autocannon's maxOverallRequests).
// Latencies are recorded here from every response at sub-millisecond resolution
// (autocannon's own histogram keeps whole milliseconds). The server's CPU is read from
// /proc/<pid>/stat before and after, so rps can be reported beside cores used.
import autocannon from 'autocannon';
import { percentileSorted, procCpuSeconds } from './util.js';
export async function runLoad(o) {
    const cap = Math.max(o.maxRequests, o.connections) + o.connections * 2;
    const latencies = new Float64Array(cap);
    let n = 0;
    let verifyFailures = 0;
    const requests = o.requests.map((r) => {
        const out = { method: r.method ?? 'POST', path: r.path };
        if (r.headers)
            out.headers = r.headers;
        if (r.body !== undefined)
            out.body = r.body;
        if (r.setupRequest)
            out.setupRequest = r.setupRequest;
        const verify = r.verify ?? o.verify;
        if (verify) {
            out.onResponse = (status, body) => {
                let ok = false;
                try {
                    ok = verify(status, body);
                }
                catch {
                    ok = false;
                }
                if (!ok)
                    verifyFailures++;
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
        requests: requests,
        timeout: 10,
    });
    instance.on('response', (_client, status, _bytes, responseTime) => {
        if (status >= 200 && status < 300 && n < cap)
            latencies[n++] = responseTime;
    });
    const result = await instance;
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const self = process.cpuUsage(self0);
    const cpu1 = (o.pids ?? []).map((p) => procCpuSeconds(p));
    let serverCpu;
    if (o.pids && o.pids.length > 0) {
        serverCpu = 0;
        for (let i = 0; i < o.pids.length; i++) {
            const a = cpu0[i];
            const b = cpu1[i];
            if (a !== undefined && b !== undefined)
                serverCpu += b - a;
        }
    }
    const sorted = latencies.subarray(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++)
        sum += sorted[i];
    const duration = typeof result.duration === 'number' && result.duration > 0 ? result.duration : wall;
    return {
        rps: n / duration,
        ok: n,
        non2xx: result.non2xx ?? 0,
        errors: result.errors ?? 0,
        timeouts: result.timeouts ?? 0,
        verifyFailures,
        durationSec: duration,
        latencyMs: {
            p50: percentileSorted(sorted, 50),
            p90: percentileSorted(sorted, 90),
            p99: percentileSorted(sorted, 99),
            p999: percentileSorted(sorted, 99.9),
            max: n > 0 ? sorted[n - 1] : NaN,
            mean: n > 0 ? sum / n : NaN,
        },
        ...(serverCpu !== undefined ? { serverCores: serverCpu / wall } : {}),
        loadgenCores: (self.user + self.system) / 1e6 / wall,
    };
}
/** A load run's problems, if any: a benchmark with errors is not a result. */
export function loadProblems(r) {
    const p = [];
    if (r.ok === 0)
        p.push('no successful response');
    if (r.non2xx > 0)
        p.push(`${r.non2xx} non-2xx responses`);
    if (r.errors > 0)
        p.push(`${r.errors} errors (${r.timeouts} timeouts)`);
    if (r.verifyFailures > 0)
        p.push(`${r.verifyFailures} answers failed verification`);
    return p.length > 0 ? p.join(', ') : undefined;
}
