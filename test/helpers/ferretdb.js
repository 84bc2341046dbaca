// Starts FerretDB v1 (SQLite backend) as a throw-away MongoDB-compatible server
// for tests. The binary is the small Go program in scripts/ferretdb, built into
// .cache/ferretdb/ferretdb by scripts/build-ferretdb.sh (done here on demand).
//
// Never skips: if the binary cannot be built or the server does not come up,
// startFerretDB() / start() throw an Error with the reason and the last lines
// of output.
//
// Environment:
//   FERRETDB_BIN        use this binary instead of building .cache/ferretdb/ferretdb
//   FERRETDB_LOG_LEVEL  FerretDB log level (default "warn"); its output is kept
//                       for error messages, and also echoed to stderr when
//                       FERRETDB_DEBUG=1
//
// Known limits of FerretDB v1 (real MongoDB has none of them): no change
// streams, no transactions, `$inc` not atomic under concurrency, field names
// may not contain "." or start with "$". See /work/shared/notes/ferretdb.md.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD_SCRIPT = path.join(ROOT, 'scripts', 'build-ferretdb.sh');
const DEFAULT_BIN = path.join(ROOT, '.cache', 'ferretdb', 'ferretdb');
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 20_000;
const STOP_KILL_AFTER_MS = 5_000;
const TAIL_LINES = 40;
const READY_RE = /^ferretdb: listening on (\S+)/m;
// ---------------------------------------------------------------------------
// binary
let binaryPromise;
/** Path of the FerretDB binary, building it first (once per process) if needed. */
export function ferretDBBinary() {
    binaryPromise ??= buildBinary();
    // a failed build is retried on the next call
    binaryPromise.catch(() => {
        binaryPromise = undefined;
    });
    return binaryPromise;
}
async function buildBinary() {
    const override = process.env.FERRETDB_BIN;
    if (override) {
        if (!isExecutable(override)) {
            throw new Error(`FERRETDB_BIN=${override} is not an executable file`);
        }
        return override;
    }
    // The script is quick when the binary is up to date, and rebuilds it when
    // scripts/ferretdb/* changed. It serialises concurrent builds with flock.
    // spawnSync is fine here: this happens once per process, before any server runs.
    if (!isExecutable(DEFAULT_BIN)) {
        process.stderr.write(`# FerretDB: building ${path.relative(ROOT, DEFAULT_BIN)} (first time on this machine: about a minute; ` +
            'run `bash scripts/build-ferretdb.sh` beforehand to keep it out of test timeouts)\n');
    }
    const r = spawnSync('bash', [BUILD_SCRIPT, '--quiet'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 10 * 60_000,
    });
    if (r.error || r.status !== 0 || !isExecutable(DEFAULT_BIN)) {
        const why = r.error
            ? r.error.message
            : r.signal
                ? `killed by ${r.signal}`
                : r.status !== 0
                    ? `exit code ${r.status}`
                    : `no binary at ${DEFAULT_BIN}`;
        throw new Error(`FerretDB: building the test database with scripts/build-ferretdb.sh failed (${why}).\n` +
            `Run \`bash scripts/build-ferretdb.sh\` to see the full output, or set MONGO_URL to an existing MongoDB.\n` +
            `Last output:\n${tail(`${r.stdout ?? ''}${r.stderr ?? ''}`)}`);
    }
    return DEFAULT_BIN;
}
function isExecutable(p) {
    try {
        fs.accessSync(p, fs.constants.X_OK);
        return fs.statSync(p).isFile();
    }
    catch {
        return false;
    }
}
// ---------------------------------------------------------------------------
// ports
/** A currently free loopback TCP port (bind port 0, read it, close). */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.once('error', reject);
        srv.listen({ host: HOST, port: 0, exclusive: true }, () => {
            const addr = srv.address();
            const port = typeof addr === 'object' && addr ? addr.port : 0;
            srv.close(err => (err ? reject(err) : port ? resolve(port) : reject(new Error('no port assigned'))));
        });
    });
}
function canConnect(port, timeoutMs = 1000) {
    return new Promise(resolve => {
        const sock = net.connect({ host: HOST, port });
        const done = (ok) => {
            sock.destroy();
            resolve(ok);
        };
        sock.setTimeout(timeoutMs, () => done(false));
        sock.once('connect', () => done(true));
        sock.once('error', () => done(false));
    });
}
// ---------------------------------------------------------------------------
// cleanup when this process exits
const liveChildren = new Set();
const ownedDirs = new Set();
let exitHookInstalled = false;
function installExitHook() {
    if (exitHookInstalled)
        return;
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: kill, then remove our temp dirs.
    // (If this process is killed outright, the child still stops: it runs with
    // -exit-on-stdin-eof and its stdin is a pipe from us.)
    process.on('exit', () => {
        for (const child of liveChildren) {
            try {
                child.kill('SIGKILL');
            }
            catch {
                // already gone
            }
        }
        for (const dir of ownedDirs) {
            try {
                fs.rmSync(dir, { recursive: true, force: true });
            }
            catch {
                // best effort
            }
        }
    });
}
// ---------------------------------------------------------------------------
// server
function tail(text, n = TAIL_LINES) {
    const lines = text.replace(/\s+$/, '').split('\n');
    const shown = lines.slice(-n).map(l => `  | ${l}`);
    if (lines.length > n)
        shown.unshift(`  | ... (${lines.length - n} earlier lines)`);
    return text.trim() ? shown.join('\n') : '  | (no output)';
}
/**
 * Start a FerretDB server on a free loopback port (or `opts.port`) with a new
 * temporary data directory (or `opts.dir`, created if missing). Resolves once
 * the port accepts connections.
 */
export async function startFerretDB(opts = {}) {
    const bin = await ferretDBBinary();
    installExitHook();
    let dir;
    if (opts.dir) {
        dir = path.resolve(opts.dir);
        fs.mkdirSync(dir, { recursive: true });
    }
    else {
        dir = await mkdtemp(path.join(os.tmpdir(), 'pe-ferretdb-'));
        ownedDirs.add(dir);
    }
    let port = opts.port ?? (await freePort());
    let child;
    let exited = Promise.resolve();
    let output = '';
    const launch = async () => {
        output = '';
        const args = [
            '-listen',
            `${HOST}:${port}`,
            '-dir',
            dir,
            '-log-level',
            process.env.FERRETDB_LOG_LEVEL || 'warn',
            '-exit-on-stdin-eof',
            // outage tests stop and restart servers: don't let idle client
            // connections hold the shutdown for FerretDB's 3 s grace period
            '-shutdown-timeout',
            '1s',
        ];
        const c = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: dir });
        child = c;
        liveChildren.add(c);
        // neither the child nor its pipes keep this process alive
        c.unref();
        for (const s of [c.stdin, c.stdout, c.stderr])
            s?.unref?.();
        c.stdin?.on('error', () => { }); // EPIPE after the child died
        let onReadyLine;
        const collect = (chunk) => {
            const text = chunk.toString('utf8');
            output = (output + text).slice(-64 * 1024);
            if (process.env.FERRETDB_DEBUG === '1')
                process.stderr.write(`[ferretdb :${port}] ${text}`);
            if (onReadyLine && READY_RE.test(output))
                onReadyLine();
        };
        c.stdout?.on('data', collect);
        c.stderr?.on('data', collect);
        exited = new Promise(resolve => {
            const gone = () => {
                liveChildren.delete(c);
                if (child === c)
                    child = undefined;
                resolve();
            };
            c.once('exit', gone);
            // spawn failures (e.g. ENOENT) emit 'error' and no 'exit'
            c.on('error', () => {
                if (c.pid === undefined)
                    gone();
            });
        });
        await new Promise((resolve, reject) => {
            let settled = false;
            const finish = (err) => {
                if (settled)
                    return;
                settled = true;
                clearTimeout(timer);
                onReadyLine = undefined;
                c.off('exit', onExit);
                c.off('error', onError);
                if (err)
                    reject(err);
                else
                    resolve();
            };
            const fail = (why) => new Error(`FerretDB did not start on ${HOST}:${port} (data dir ${dir}): ${why}.\n` +
                `Command: ${bin} ${args.join(' ')}\nLast output:\n${tail(output)}`);
            const onExit = (code, signal) => finish(fail(signal ? `it was killed by ${signal}` : `it exited with code ${code}`));
            const onError = (err) => finish(fail(`spawn failed: ${err.message}`));
            const timer = setTimeout(() => {
                c.kill('SIGKILL');
                finish(fail(`not listening after ${READY_TIMEOUT_MS / 1000} s`));
            }, READY_TIMEOUT_MS);
            c.once('exit', onExit);
            c.once('error', onError);
            onReadyLine = () => {
                onReadyLine = undefined;
                // the line is printed once the port is bound; confirm it accepts
                canConnect(port).then(ok => ok ? finish() : (c.kill('SIGKILL'), finish(fail('it said it listens, but the port refuses connections'))));
            };
            if (READY_RE.test(output))
                onReadyLine();
        });
    };
    const isAddrInUse = () => /address already in use/i.test(output);
    const startOnce = async (allowNewPort) => {
        // Another process may grab the port between freePort() and the bind (when
        // we chose it), or still hold it briefly on restart: retry a few times.
        for (let attempt = 1;; attempt++) {
            try {
                await launch();
                return;
            }
            catch (err) {
                if (!isAddrInUse() || attempt >= 5)
                    throw err;
                if (allowNewPort)
                    port = await freePort();
                else
                    await new Promise(r => setTimeout(r, 200 * attempt));
            }
        }
    };
    await startOnce(opts.port === undefined);
    const server = {
        get url() {
            return `mongodb://${HOST}:${port}/`;
        },
        get port() {
            return port;
        },
        dir,
        async stop() {
            const c = child;
            if (!c)
                return;
            const done = exited;
            c.kill('SIGTERM');
            // this timer also keeps the event loop alive while we wait
            const killer = setTimeout(() => c.kill('SIGKILL'), STOP_KILL_AFTER_MS);
            try {
                await done;
            }
            finally {
                clearTimeout(killer);
            }
        },
        async start() {
            if (child)
                return;
            await startOnce(false);
        },
    };
    return server;
}
