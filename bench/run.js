// `npm run bench` — every benchmark scenario in turn; writes bench/RESULTS.md and
// bench/results.json. Flags:
//   --quick            short runs (a smoke test of the whole harness, ~1–2 minutes)
//   --only <scenario>  engine | http | peers | writes (comma-separated for several)
//
// Every HTTP load is on loopback, bounded by duration and by request count; servers run
// in child processes, one at a time.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { engineScenario } from './scenarios/engine.js';
import { httpScenario } from './scenarios/http.js';
import { peersScenario, peerVersions } from './scenarios/peers.js';
import { writesScenario } from './scenarios/writes.js';
import { BENCH_DIR } from './lib/child.js';
import { writeReports } from './lib/report.js';
import { loadavg, loadavgText, machineBusy, machineInfo } from './lib/util.js';
const SCENARIOS = [
    { id: 'engine', title: '1. Engine in process', run: engineScenario },
    { id: 'http', title: '2. HTTP ceiling', run: httpScenario },
    { id: 'peers', title: '3. Peers with the same decisions', run: peersScenario },
    { id: 'writes', title: '4. Writes and propagation', run: writesScenario },
];
function parseArgs(argv) {
    let quick = false;
    let only;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--quick')
            quick = true;
        else if (a === '--only' || a.startsWith('--only=')) {
            const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
            if (!v)
                throw new Error('--only needs a scenario name');
            only = v.split(',').map((s) => s.trim()).filter(Boolean);
        }
        else if (a === '--help' || a === '-h') {
            console.log(`usage: npm run bench -- [--quick] [--only ${SCENARIOS.map((s) => s.id).join('|')}]`);
            process.exit(0);
        }
        else
            throw new Error(`unknown argument ${a}`);
    }
    if (only) {
        const known = new Set(SCENARIOS.map((s) => s.id));
        for (const o of only)
            if (!known.has(o))
                throw new Error(`unknown scenario ${o}; one of ${[...known].join(', ')}`);
    }
    return { quick, ...(only ? { only } : {}) };
}
async function main() {
    const args = parseArgs(process.argv.slice(2));
    const started = performance.now();
    const machine = machineInfo();
    const loadavgStart = loadavg();
    console.log(`bench: ${args.quick ? 'quick' : 'full'} run on ${machine.cpuModel} × ${machine.cores}, Node ${machine.node}, load average ${loadavgText(loadavgStart)}`);
    const ctx = { quick: args.quick, log: (line) => console.log(line) };
    const reports = [];
    for (const s of SCENARIOS) {
        if (args.only && !args.only.includes(s.id))
            continue;
        const before = loadavg();
        const busy = await machineBusy(1000);
        console.log(`\n== ${s.title} (load average ${loadavgText(before)}${busy !== undefined ? `, cores busy ${Math.round(busy * 100)}%` : ''})`);
        const t0 = performance.now();
        const startedAt = new Date().toISOString();
        try {
            const r = await s.run(ctx);
            reports.push({ ...r, mode: args.quick ? 'quick' : 'full', loadavgBefore: before, ...(busy !== undefined ? { busyBefore: busy } : {}), startedAt, durationSec: (performance.now() - t0) / 1000 });
        }
        catch (err) {
            const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
            console.log(`${s.id}: FAILED: ${message}`);
            reports.push({
                id: s.id, title: s.title, mode: args.quick ? 'quick' : 'full', loadavgBefore: before, ...(busy !== undefined ? { busyBefore: busy } : {}), startedAt,
                durationSec: (performance.now() - t0) / 1000, tables: [], notes: [], data: {}, error: message.split('\n').slice(0, 6).join(' / '),
            });
        }
        console.log(`${s.id}: done in ${Math.round((performance.now() - t0) / 1000)} s`);
    }
    const md = path.join(BENCH_DIR, 'RESULTS.md');
    const json = path.join(BENCH_DIR, 'results.json');
    // --only: keep the other scenarios' sections from the previous results
    let kept = [];
    if (args.only && existsSync(json)) {
        try {
            const previous = JSON.parse(readFileSync(json, 'utf8'));
            kept = previous.scenarios.filter((p) => !args.only.includes(p.id)).map((p) => ({ ...p, mode: p.mode ?? previous.mode }));
        }
        catch {
            kept = [];
        }
    }
    const order = SCENARIOS.map((s) => s.id);
    const scenarios = [...reports, ...kept].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    const report = {
        machine,
        mode: args.quick ? 'quick' : 'full',
        ...(args.only ? { only: args.only.join(',') } : {}),
        peers: await peerVersions(),
        loadavgStart,
        loadavgEnd: loadavg(),
        totalSec: (performance.now() - started) / 1000,
        scenarios,
    };
    writeReports(report, md, json);
    console.log(`\nbench: wrote ${path.relative(process.cwd(), md)} and ${path.relative(process.cwd(), json)} in ${Math.round(report.totalSec)} s (load average now ${loadavgText(report.loadavgEnd)})`);
    const failed = reports.filter((r) => r.error);
    if (failed.length > 0) {
        console.log(`bench: ${failed.length} scenario(s) failed: ${failed.map((f) => f.id).join(', ')}`);
        process.exitCode = 1;
    }
    // child processes, timers of the services: nothing should keep us, but make sure
    setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
}
main().catch((err) => {
    console.error(err);
    process.exit(1);
});
