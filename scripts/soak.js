// Load and soak: a service (src/main.ts in a child process, MongoDB store) under a
// bounded mixed load — evaluations, checks, and writes that change answers — from many
// keep-alive connections on loopback. Every answer is checked against the reference
// evaluator (test/reference) run over the policies this script wrote. Exits non-zero on
// any 5xx or wrong answer; stops by itself.
//
//   node --import tsx scripts/soak.ts [--seconds 60] [--connections 32]
//
// The service inherits this environment apart from PORT, HOST, STORE, MONGO_URL and
// LOG_LEVEL, so `CACHE_MAX=0 node --import tsx scripts/soak.ts` soaks it without a cache
// (and `DEFAULT_PERMISSIONS='["a"]'` shows that wrong answers are caught: it exits 1).
//
// Database: MONGO_URL when set (a fresh database on it, dropped at the end), otherwise
// a FerretDB started for the run (test/helpers/ferretdb.ts). FerretDB filters queries in
// its own process, so writes here are slower than on MongoDB; decisions never touch it.
//
// Propagation: writes go through the same instance, one at a time. A decision sent
// after a write's response must reflect that write; one sent while a write is in flight
// may reflect the state before or after it. So an answer is right when it matches the
// reference for one of the states that could have been current while it was in flight.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { freePort, startFerretDB } from '../test/helpers/ferretdb.js';
import { withDatabase } from '../test/helpers/mongo.js';
import { concretePermissions, refAllowed, refAllowedByLists } from '../test/reference/reference-evaluator.js';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, connections: { type: 'string', default: '32' } } });
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
if (!(SECONDS > 0 && SECONDS <= 3600) || !(CONNECTIONS >= 1 && CONNECTIONS <= 1024)) {
    process.stderr.write('usage: node --import tsx scripts/soak.ts [--seconds 1..3600] [--connections 1..1024]\n');
    process.exit(2);
}
// ------------------------------------------------------------------ the policy world
/** Patterns over {a, b, *} with ≤ 3 segments are told apart by permissions over {a, b, z} with ≤ 4. */
const UNIVERSE = concretePermissions(['a', 'b', 'z'], 4);
const NAMESPACES = ['global', 'org', 'team'];
/** `empty` never holds a document: its paths get the default. */
const PATHS = [['global'], ['global', 'org'], ['global', 'org', 'team'], ['org', 'team'], ['team'], ['empty'], ['global', 'empty']];
const SUBJECTS = [];
for (const id of ['alice', 'bob', 'carol', 'dave']) {
    for (const roles of [[], ['admin'], ['editor'], ['admin', 'editor']])
        SUBJECTS.push({ id, roles, groups: id === 'bob' ? ['team'] : [] });
}
let seed = Number(process.env.SOAK_SEED ?? 0x5eed) >>> 0;
/** mulberry32: a small deterministic PRNG (SOAK_SEED), so a failing run can be replayed. */
function rnd(n) {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let x = seed;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n);
}
const pick = (xs) => xs[rnd(xs.length)];
const pattern = () => Array.from({ length: 1 + rnd(3) }, () => pick(['a', 'b', '*'])).join(':');
const patterns = () => Array.from({ length: 1 + rnd(2) }, pattern);
function randomRule() {
    const r = { subjects: Array.from({ length: 1 + rnd(2) }, () => pick(['*', 'alice', 'bob', 'role:admin', 'role:editor', 'group:team', 'id:carol'])) };
    if (rnd(4) > 0)
        r.grant = patterns();
    if (rnd(3) === 0)
        r.revoke = patterns();
    if (rnd(4) === 0)
        r.deny = patterns();
    if (!r.grant && !r.revoke && !r.deny)
        r.grant = ['a:*'];
    return r;
}
function randomDoc(namespace, n) {
    const d = { key: `${namespace}-p${n}`, namespace, rules: Array.from({ length: 1 + rnd(3) }, randomRule) };
    if (rnd(3) > 0)
        d.ordinal = rnd(4);
    if (rnd(10) === 0)
        d.disabled = true;
    return d;
}
/** SPEC §2 run order: namespaces left to right; inside one, by ordinal (absent last), then key. */
function runOrder(docs, nsPath) {
    return nsPath.flatMap((ns) => docs.filter((d) => d.namespace === ns).sort((x, y) => {
        if (x.ordinal !== y.ordinal)
            return x.ordinal === undefined ? 1 : y.ordinal === undefined ? -1 : x.ordinal - y.ordinal;
        return x.key < y.key ? -1 : x.key > y.key ? 1 : 0;
    }));
}
const states = [];
const INDEX = new Map(UNIVERSE.map((p, i) => [p, i]));
const expectedMemo = new Map();
function expected(stateIndex, subject, pathIndex) {
    const docs = runOrder(states[stateIndex].docs, PATHS[pathIndex]);
    const key = `${stateIndex}|${subject}|${pathIndex}`;
    let e = expectedMemo.get(key);
    if (!e) {
        const ref = docs;
        e = { allowed: UNIVERSE.map((p) => (refAllowed(ref, SUBJECTS[subject], p, ['*']) ? '1' : '0')).join('') };
        expectedMemo.set(key, e);
    }
    return { e, docs };
}
/** The states an answer to a request in flight over [sent, received] may come from. */
function candidates(sent, received) {
    let k = 0;
    for (let i = 0; i < states.length; i++)
        if (states[i].committedAt <= sent)
            k = i;
    const out = [];
    for (let i = k; i < states.length; i++)
        if (states[i].startedAt < received)
            out.push(i);
    return out;
}
function evaluationMatches(body, stateIndex, subject, pathIndex) {
    const { e, docs } = expected(stateIndex, subject, pathIndex);
    const summary = JSON.stringify([body.permissions, body.denied, body.default, body.exact, body.policies]);
    if (e.verifiedEvaluation !== undefined)
        return summary === e.verifiedEvaluation;
    // First answer for this state: check it in full against the reference.
    if (body.default !== (docs.length === 0))
        return false;
    const run = docs.filter((d) => d.disabled !== true).map((d) => d.key);
    if (JSON.stringify(body.policies) !== JSON.stringify(run))
        return false;
    for (const p of UNIVERSE) {
        const want = e.allowed[INDEX.get(p)] === '1';
        const byLists = refAllowedByLists(body.permissions, body.denied, p);
        if (body.exact === true ? byLists !== want : byLists && !want)
            return false;
    }
    e.verifiedEvaluation = summary;
    return true;
}
function checkMatches(results, asked, stateIndex, subject, pathIndex) {
    const { e } = expected(stateIndex, subject, pathIndex);
    return asked.every((p) => results[p] === (e.allowed[INDEX.get(p)] === '1'));
}
// ------------------------------------------------------------------ HTTP
let agent;
let port = 0;
function request(method, url, body, contentType = 'application/json') {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: url, agent, headers: body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
    });
}
function rssOf(pid) {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// ------------------------------------------------------------------ the run
async function main() {
    let ferret;
    let base = process.env.MONGO_URL;
    if (!base) {
        ferret = await startFerretDB();
        base = ferret.url;
    }
    const dbName = `pe_soak_${randomBytes(4).toString('hex')}`;
    const mongoUrl = withDatabase(base, dbName);
    port = await freePort();
    agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS + 2 });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'main.ts')], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MONGO_URL: mongoUrl, STORE: 'mongo', LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let childGone = false;
    void exited.then(() => { childGone = true; });
    const cleanup = async () => {
        if (!childGone) {
            child.kill('SIGTERM');
            await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
        }
        agent.destroy();
        if (!ferret) {
            const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
            await client.db().dropDatabase().catch(() => { });
            await client.close();
        }
        await ferret?.stop();
    };
    try {
        const startDeadline = Date.now() + 60_000;
        for (;;) {
            if (childGone)
                throw new Error('the service exited during start-up');
            const r = await request('GET', '/readyz').catch(() => undefined);
            if (r?.status === 200)
                break;
            if (Date.now() > startDeadline)
                throw new Error(`the service is not ready after 60 s (${r?.status} ${r?.text})`);
            await sleep(100);
        }
        const rssReady = rssOf(child.pid);
        // The initial policies: two documents per namespace.
        let counter = 0;
        const initial = NAMESPACES.flatMap((ns) => [randomDoc(ns, counter++), randomDoc(ns, counter++)]);
        const imported = await request('POST', '/v1/policies', JSON.stringify(initial));
        if (imported.status !== 200)
            throw new Error(`import failed: ${imported.status} ${imported.text}`);
        states.push({ docs: initial, startedAt: 0, committedAt: 0 });
        const stats = { evaluations: 0, checks: 0, writes: 0, status5xx: 0, otherErrors: 0, wrong: 0, transportErrors: 0 };
        const latencies = [];
        const problems = [];
        const note = (msg) => { if (problems.length < 10)
            problems.push(msg); };
        const started = Date.now();
        const deadline = started + SECONDS * 1000;
        let rssAfterWarmup = NaN;
        let rssMax = rssReady;
        const sampler = setInterval(() => {
            const r = rssOf(child.pid);
            rssMax = Math.max(rssMax, r);
            if (Number.isNaN(rssAfterWarmup) && Date.now() - started >= Math.min(5000, SECONDS * 200))
                rssAfterWarmup = r;
        }, 250);
        const worker = async () => {
            while (Date.now() < deadline) {
                const subject = rnd(SUBJECTS.length);
                const pathIndex = rnd(PATHS.length);
                const s = SUBJECTS[subject];
                const base = { subject: { id: s.id, roles: s.roles, groups: s.groups }, namespace: PATHS[pathIndex].join('.') };
                const isCheck = rnd(100) < 40;
                const asked = isCheck ? Array.from({ length: 1 + rnd(8) }, () => pick(UNIVERSE)) : [];
                const sent = Date.now();
                let r;
                try {
                    r = isCheck
                        ? await request('POST', '/v1/check', JSON.stringify({ ...base, permissions: asked }))
                        : await request('POST', '/v1/evaluate', JSON.stringify(base));
                }
                catch (err) {
                    stats.transportErrors++;
                    note(`transport: ${err.message}`);
                    continue;
                }
                const received = Date.now();
                latencies.push(received - sent);
                if (isCheck)
                    stats.checks++;
                else
                    stats.evaluations++;
                if (r.status >= 500) {
                    stats.status5xx++;
                    note(`${r.status} ${r.text.slice(0, 200)}`);
                    continue;
                }
                if (r.status !== 200) {
                    stats.otherErrors++;
                    note(`${r.status} ${r.text.slice(0, 200)}`);
                    continue;
                }
                const body = JSON.parse(r.text);
                const ok = candidates(sent, received).some((i) => isCheck
                    ? checkMatches(body.results, asked, i, subject, pathIndex)
                    : evaluationMatches(body, i, subject, pathIndex));
                if (!ok) {
                    stats.wrong++;
                    note(`wrong answer for ${JSON.stringify(isCheck ? { ...base, permissions: asked } : base)} at state ${states.length - 1}: ${r.text.slice(0, 300)}`);
                }
            }
        };
        // Writes that change answers, one at a time through the same instance.
        const writer = async () => {
            while (Date.now() < deadline - 500) {
                await sleep(300 + rnd(700));
                const current = states[states.length - 1].docs;
                const next = current.map((d) => d);
                const kind = rnd(10);
                let req;
                if (kind < 6 && next.length > 0) {
                    const i = rnd(next.length);
                    const replaced = { ...randomDoc(next[i].namespace, 0), key: next[i].key };
                    next[i] = replaced;
                    req = { method: 'PUT', url: `/v1/policies/${replaced.key}`, body: JSON.stringify(replaced) };
                }
                else if (kind < 8 && next.length > 1) {
                    const [gone] = next.splice(rnd(next.length), 1);
                    req = { method: 'DELETE', url: `/v1/policies/${gone.key}` };
                }
                else {
                    const added = randomDoc(pick(NAMESPACES), counter++);
                    next.push(added);
                    req = { method: 'PUT', url: `/v1/policies/${added.key}`, body: JSON.stringify(added) };
                }
                const state = { docs: next, startedAt: Date.now(), committedAt: Infinity };
                states.push(state);
                const r = await request(req.method, req.url, req.body);
                if (r.status >= 500) {
                    stats.status5xx++;
                    note(`write ${req.method} ${req.url}: ${r.status} ${r.text.slice(0, 200)}`);
                }
                else if (r.status !== 200 && r.status !== 201 && r.status !== 204) {
                    stats.otherErrors++;
                    note(`write ${req.method} ${req.url}: ${r.status} ${r.text.slice(0, 200)}`);
                }
                state.committedAt = Date.now();
                stats.writes++;
            }
        };
        await Promise.all([...Array.from({ length: CONNECTIONS }, worker), writer()]);
        clearInterval(sampler);
        const elapsed = (Date.now() - started) / 1000;
        await sleep(500);
        const rssEnd = rssOf(child.pid);
        latencies.sort((x, y) => x - y);
        const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
        const total = stats.evaluations + stats.checks;
        const lines = [
            `soak: ${SECONDS} s, ${CONNECTIONS} connections, ${ferret ? 'FerretDB' : 'MONGO_URL'} store (${dbName})`,
            `requests: ${total + stats.writes} (${stats.evaluations} evaluations, ${stats.checks} checks, ${stats.writes} writes; ${Math.round(total / elapsed)} decisions/s)`,
            `5xx: ${stats.status5xx}   other errors: ${stats.otherErrors}   transport errors: ${stats.transportErrors}   wrong answers: ${stats.wrong}`,
            `latency (decisions, client side): p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies[latencies.length - 1] ?? NaN} ms`,
            `policy states: ${states.length}; distinct (state, subject, path) answers verified against the reference: ${expectedMemo.size}`,
            `service RSS: ${rssReady.toFixed(1)} MB ready, ${rssAfterWarmup.toFixed(1)} MB after warm-up, ${rssEnd.toFixed(1)} MB at the end (growth ${(rssEnd - rssAfterWarmup).toFixed(1)} MB since warm-up, max ${rssMax.toFixed(1)} MB)`,
            ...problems.map((p) => `  ! ${p}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        const failed = stats.status5xx > 0 || stats.wrong > 0 || stats.transportErrors > 0 || stats.otherErrors > 0;
        process.stdout.write(failed ? 'soak: FAILED\n' : 'soak: ok\n');
        return failed ? 1 : 0;
    }
    finally {
        await cleanup();
    }
}
main().then((code) => process.exit(code), (err) => {
    process.stderr.write(`soak: ${err.stack ?? String(err)}\n`);
    process.exit(1);
});
