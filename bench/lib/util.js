// Small helpers shared by the benchmark scenarios: statistics, machine facts, the CPU
// and memory of a process read from /proc, formatting.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
export function median(values) {
    if (values.length === 0)
        return NaN;
    const s = [...values].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Nearest-rank percentile of an already sorted array (p in 0..100). */
export function percentileSorted(sorted, p) {
    if (sorted.length === 0)
        return NaN;
    const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[rank];
}
export function loadavg() {
    const [a, b, c] = os.loadavg();
    return [round(a, 2), round(b, 2), round(c, 2)];
}
export function loadavgText(l = loadavg()) {
    return l.map((x) => x.toFixed(2)).join(' / ');
}
export function round(x, digits = 0) {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
}
/** 1234567 → "1,234,567" */
export function int(x) {
    if (!Number.isFinite(x))
        return String(x);
    return Math.round(x).toLocaleString('en-US');
}
/** Nanoseconds → a readable duration. */
export function ns(x) {
    if (!Number.isFinite(x))
        return String(x);
    if (x < 1_000)
        return `${x.toFixed(0)} ns`;
    if (x < 1_000_000)
        return `${(x / 1_000).toFixed(x < 10_000 ? 2 : 1)} µs`;
    if (x < 1_000_000_000)
        return `${(x / 1_000_000).toFixed(2)} ms`;
    return `${(x / 1e9).toFixed(2)} s`;
}
/** Milliseconds → readable. */
export function ms(x) {
    if (!Number.isFinite(x))
        return String(x);
    return x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(0)} ms`;
}
let clockTicks;
function ticksPerSecond() {
    if (clockTicks === undefined) {
        try {
            clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
        }
        catch {
            clockTicks = 100;
        }
    }
    return clockTicks;
}
/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat, and
 * those of its waited-for children (cutime, cstime). Undefined when it is gone.
 */
export function procCpuSeconds(pid) {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // the command name (field 2) may hold spaces: split after its closing parenthesis
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // rest[0] is field 3 (state); utime is field 14, stime 15, cutime 16, cstime 17
        const utime = Number(rest[11]);
        const stime = Number(rest[12]);
        const cutime = Number(rest[13]);
        const cstime = Number(rest[14]);
        return (utime + stime + cutime + cstime) / ticksPerSecond();
    }
    catch {
        return undefined;
    }
}
/** Resident set size of a process in MiB, from /proc/<pid>/status. */
export function procRssMiB(pid) {
    try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
        return m ? Number(m[1]) / 1024 : undefined;
    }
    catch {
        return undefined;
    }
}
export function machineInfo() {
    const cpus = os.cpus();
    return {
        cpuModel: cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        memoryGiB: round(os.totalmem() / 2 ** 30, 1),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
        kernel: os.release(),
        date: new Date().toISOString(),
    };
}
export const sleep = (msec) => new Promise((resolve) => setTimeout(resolve, msec));
function cpuTimes() {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
}
/** Share of all cores busy (0..1) over `msec`, from /proc/stat: what else is running now. */
export async function machineBusy(msec = 1000) {
    try {
        const a = cpuTimes();
        await sleep(msec);
        const b = cpuTimes();
        const total = b.total - a.total;
        return total > 0 ? round(1 - (b.idle - a.idle) / total, 2) : undefined;
    }
    catch {
        return undefined;
    }
}
