// Scenario 4: writes and propagation on a MongoDB-backed service. MONGO_URL when set,
// else a throw-away FerretDB (test/helpers/ferretdb.ts; FerretDB v1 on SQLite
// understates a real MongoDB, especially for concurrent writes).
//   - policy writes/s: PUT /v1/policies/:key (JSON, a new version each time) on one
//     instance, 1 connection (writes one after another) and 16 connections (racing);
//   - propagation: two instances on one database (POLL_INTERVAL_MS default, 1000); a
//     write on A, then B is asked every 5 ms until its answer changes. Writes start at a
//     random moment (0–1 s after the previous change was seen) so they fall anywhere in
//     B's poll cycle.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT, postJson, startNodeServer } from '../lib/child.js';
import { runLoad } from '../lib/load.js';
import { int, median, ms, round, sleep } from '../lib/util.js';
import { loadSettings } from './http.js';
async function put(port, key, doc) {
    const r = await fetch(`http://127.0.0.1:${port}/v1/policies/${encodeURIComponent(key)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(doc),
    });
    return { status: r.status, text: await r.text() };
}
function probeDoc(allow, version) {
    return {
        key: 'probe-toggle',
        description: `version ${version}`,
        rules: [{ id: 'probe', subjects: ['user:probe'], grant: [allow ? 'probe:toggle' : 'probe:other'] }],
    };
}
async function allowedOn(port) {
    const r = await postJson(port, '/v1/check', { subject: 'user:probe', namespace: 'probe', permission: 'probe:toggle' });
    return r.status === 200 ? r.json.allowed === true : undefined;
}
export async function writesScenario(ctx) {
    const notes = [];
    const data = {};
    if (!existsSync(path.join(ROOT, 'src', 'store', 'mongo', 'mongo-store.ts'))) {
        throw new Error('src/store/mongo/mongo-store.ts does not exist yet: the MongoDB store is still being written');
    }
    const { withDatabase } = await import('../../test/helpers/mongo.js');
    let ferret;
    let base = process.env.MONGO_URL;
    let backend;
    if (base)
        backend = 'MongoDB at MONGO_URL';
    else {
        const { startFerretDB } = await import('../../test/helpers/ferretdb.js');
        ctx.log('writes: MONGO_URL unset: starting FerretDB (test/helpers/ferretdb.ts)');
        ferret = await startFerretDB();
        base = ferret.url;
        backend = 'FerretDB v1 (SQLite backend), started for the run';
    }
    const dbName = `pe_bench_${randomBytes(5).toString('hex')}`;
    const url = withDatabase(base, dbName);
    const env = { MONGO_URL: url, STORE: 'mongo' };
    const s = loadSettings(ctx.quick);
    const children = [];
    try {
        const a = await startNodeServer({ mode: 'mongo', env }, 'mongo A');
        children.push(a);
        const b = await startNodeServer({ mode: 'mongo', env }, 'mongo B');
        children.push(b);
        const poll = Number(b.info.pollIntervalMs);
        // --- writes/s --------------------------------------------------------------------
        let version = 0;
        const writeRequests = (keys) => Array.from({ length: keys }, (_, k) => ({
            method: 'PUT',
            path: `/v1/policies/load-w${k}`,
            body: '{}',
            setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({ key: `load-w${k}`, description: `version ${version++}`, rules: [{ subjects: ['role:writer'], grant: [`doc${k}:read`] }] }),
            }),
        }));
        const writeRows = [];
        const writeData = {};
        // Racing writers go on retrying after the load generator has closed their connections:
        // before each phase, wait until a single write is quick again.
        const settle = async () => {
            const until = Date.now() + 30_000;
            while (Date.now() < until) {
                const t0 = performance.now();
                const r = await put(a.port, 'load-settle', { key: 'load-settle', description: `settle ${version++}`, rules: [{ subjects: ['role:writer'], grant: ['settle:read'] }] });
                if (r.status >= 300)
                    throw new Error(`PUT on A failed: ${r.status} ${r.text.slice(0, 300)}`);
                if (performance.now() - t0 < 200)
                    return;
                await sleep(500);
            }
        };
        // 1 connection again at the end: the change log has grown by then (FerretDB filters
        // and sorts it in its own process), which tells a longer log from concurrency.
        const phases = [1, 4, s.connections, 1];
        for (const [phase, connections] of phases.entries()) {
            const again = phase === phases.length - 1;
            await settle();
            // warm-up: the keys exist, the connection pool and JIT are warm
            await runLoad({ port: a.port, requests: writeRequests(32), connections, durationSec: s.warmupSec, maxRequests: 20_000 });
            const r = await runLoad({ port: a.port, requests: writeRequests(32), connections, durationSec: s.durationSec, maxRequests: 50_000, pids: [a.pid] });
            writeData[again ? `c${connections}-again` : `c${connections}`] = r;
            const failed = r.non2xx + r.errors;
            ctx.log(`writes: PUT /v1/policies/:key, ${connections} connection(s)${again ? ' again' : ''}: ${round(r.rps, 1)} writes/s, p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}, ${failed} failed, server CPU ${round(r.serverCores ?? NaN, 2)} cores`);
            writeRows.push([`${connections}${again ? ' (again, after the others)' : ''}`, round(r.rps, 1).toString(), int(r.ok), ms(r.latencyMs.p50), ms(r.latencyMs.p99), `${failed}${r.non2xx ? ` (${r.non2xx} non-2xx)` : ''}`, round(r.serverCores ?? NaN, 2).toString()]);
        }
        data.writes = writeData;
        const collapse = [];
        const w1 = writeData.c1;
        const wN = writeData[`c${s.connections}`];
        const wAgain = writeData['c1-again'];
        if (w1 && wN && wAgain && wN.rps < w1.rps / 1.5) {
            const logGrew = wAgain.rps < w1.rps / 1.5;
            collapse.push(`${s.connections} connections complete ${round(wN.rps, 1)} writes/s against ${round(w1.rps, 1)} with one at the start${logGrew ? ` and ${round(wAgain.rps, 1)} with one at the end: so the slowdown is not the number of writers but the run's length: by then the change log holds every write of the run (kept 10 minutes), and FerretDB filters and sorts it in its own process on every write` : ` but ${round(wAgain.rps, 1)} with one at the end: concurrent writers slow each other down (writers in one process queue; writers in different processes race for the change log's next sequence number and retry)`}; with more connections each write mostly waits in the queue (p50 ${ms(wN.latencyMs.p50)}).`);
            ctx.log(`writes: NOTE ${logGrew ? 'writes slow down as the change log grows' : 'concurrent writes are slower than one at a time'} (see RESULTS.md)`);
        }
        // --- propagation A → B -------------------------------------------------------------
        await settle();
        const writes = ctx.quick ? 3 : 10;
        let state = true;
        let v = 0;
        let r0 = await put(a.port, 'probe-toggle', probeDoc(state, v++));
        if (r0.status >= 300)
            throw new Error(`PUT on A failed: ${r0.status} ${r0.text.slice(0, 300)}`);
        const deadline = Date.now() + 15_000;
        while ((await allowedOn(b.port)) !== state) {
            if (Date.now() > deadline)
                throw new Error('instance B never saw the first probe write');
            await sleep(20);
        }
        const afterAck = [];
        const afterSend = [];
        for (let i = 0; i < writes; i++) {
            await sleep(Math.random() * 1000);
            state = !state;
            const t0 = performance.now();
            r0 = await put(a.port, 'probe-toggle', probeDoc(state, v++));
            const t1 = performance.now();
            if (r0.status >= 300)
                throw new Error(`PUT on A failed: ${r0.status} ${r0.text.slice(0, 300)}`);
            if ((await allowedOn(a.port)) !== state)
                throw new Error('instance A did not answer from its own write at once');
            const limit = performance.now() + 15_000;
            let seen;
            while (performance.now() < limit) {
                if ((await allowedOn(b.port)) === state) {
                    seen = performance.now();
                    break;
                }
                await sleep(5);
            }
            if (seen === undefined)
                throw new Error(`instance B did not see write ${i + 1} within 15 s`);
            afterAck.push(seen - t1);
            afterSend.push(seen - t0);
            ctx.log(`writes: propagation ${i + 1}/${writes}: B answered the change ${ms(seen - t1)} after A acknowledged the write (${ms(seen - t0)} after it was sent)`);
        }
        const med = median(afterAck);
        const max = Math.max(...afterAck);
        ctx.log(`writes: propagation A → B over ${writes} writes: median ${ms(med)}, max ${ms(max)} (poll interval ${poll} ms)`);
        data.propagation = { pollIntervalMs: poll, afterAckMs: afterAck, afterSendMs: afterSend, medianMs: med, maxMs: max };
        const writeTable = {
            title: `Policy writes: PUT /v1/policies/:key (JSON, 32 keys in rotation, a new version each time) on ${backend}; ${s.warmupSec} s warm-up, ${s.durationSec} s measured`,
            columns: ['connections', 'writes/s', 'writes completed', 'p50', 'p99', 'failed', 'server CPU (cores)'],
            rows: writeRows,
            notes: [
                'FerretDB understates MongoDB: it runs every query in its own process over SQLite, and serialises writes. With MONGO_URL pointing at a real MongoDB the same run measures that instead.',
                ...collapse,
            ],
        };
        const propTable = {
            title: `Propagation: a write on instance A until instance B answers differently (POLL_INTERVAL_MS ${poll}, ${writes} writes)`,
            columns: ['measured from', 'median', 'max', 'each'],
            rows: [
                ['A acknowledged the write', ms(med), ms(max), afterAck.map((x) => Math.round(x)).join(', ')],
                ['the write was sent to A', ms(median(afterSend)), ms(Math.max(...afterSend)), afterSend.map((x) => Math.round(x)).join(', ')],
            ],
            notes: [
                'B learns of changes by polling the change log every POLL_INTERVAL_MS (no change streams on FerretDB or a standalone MongoDB; on a replica set the store also watches for a hint that cuts the wait). Expected: uniform between 0 and the interval, plus one query; B is asked every 5 ms.',
                'FerretDB understates MongoDB here too (slower queries).',
            ],
        };
        return { id: 'writes', title: '4. Writes and propagation', tables: [writeTable, propTable], notes, data: { backend, ...data } };
    }
    finally {
        for (const c of children.reverse())
            await c.stop();
        if (ferret)
            await ferret.stop();
        else {
            // a real MongoDB: drop the database this run made
            const { MongoClient } = await import('mongodb');
            const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
            try {
                await client.db(dbName).dropDatabase();
            }
            catch {
                // best effort
            }
            finally {
                await client.close();
            }
        }
    }
}
