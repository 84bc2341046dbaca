// Finding or building the peer binaries into bench/.peers/ (git-ignored), the way
// /work/shared/notes/peers.md describes. A peer that cannot be built is reported with the
// reason, never dropped.
import { execFile } from 'node:child_process';
import { accessSync, constants, cpSync, chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR } from '../lib/child.js';
import { OPA_VERSION } from './opa.js';
import { CERBOS_VERSION } from './cerbos.js';
export const PEERS_DIR = path.join(BENCH_DIR, '.peers');
export const OPA_BIN = path.join(PEERS_DIR, 'opa');
export const CERBOS_BIN = path.join(PEERS_DIR, 'cerbos');
function executable(p) {
    try {
        accessSync(p, constants.X_OK);
        return statSync(p).isFile();
    }
    catch {
        return false;
    }
}
function run(cmd, args, opts) {
    return new Promise((resolve) => {
        execFile(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
            const code = err ? (err.code ?? null) : 0;
            resolve({ code: typeof code === 'number' ? code : null, out: `${stdout}${stderr}${err && !err.code ? String(err.message) : ''}` });
        });
    });
}
function tail(s, n = 6) {
    return s.trim().split('\n').slice(-n).join(' / ');
}
export async function ensureOpa(log) {
    if (executable(OPA_BIN))
        return { ok: true, bin: OPA_BIN, status: `OPA ${OPA_VERSION}: found ${path.relative(process.cwd(), OPA_BIN)}` };
    mkdirSync(PEERS_DIR, { recursive: true });
    log(`peers: building OPA ${OPA_VERSION} with go install (about 75 s on an idle machine)…`);
    const t0 = Date.now();
    const r = await run('go', ['install', `github.com/open-policy-agent/opa@${OPA_VERSION}`], { env: { GOBIN: PEERS_DIR }, timeoutMs: 15 * 60_000 });
    if (r.code !== 0 || !executable(OPA_BIN))
        return { ok: false, status: `OPA ${OPA_VERSION}: go install failed (exit ${r.code}): ${tail(r.out)}` };
    return { ok: true, bin: OPA_BIN, status: `OPA ${OPA_VERSION}: built with go install in ${Math.round((Date.now() - t0) / 1000)} s` };
}
export async function ensureCerbos(log) {
    if (executable(CERBOS_BIN))
        return { ok: true, bin: CERBOS_BIN, status: `Cerbos ${CERBOS_VERSION}: found ${path.relative(process.cwd(), CERBOS_BIN)} (built from the module source)` };
    mkdirSync(PEERS_DIR, { recursive: true });
    log(`peers: building Cerbos ${CERBOS_VERSION} from the Go module proxy source (about 4 minutes on an idle machine)…`);
    const t0 = Date.now();
    const dl = await run('go', ['mod', 'download', '-json', `github.com/cerbos/cerbos@${CERBOS_VERSION}`], { env: { GOWORK: 'off', GOFLAGS: '-mod=mod' }, cwd: PEERS_DIR, timeoutMs: 10 * 60_000 });
    let dir;
    try {
        dir = JSON.parse(dl.out.slice(dl.out.indexOf('{'), dl.out.lastIndexOf('}') + 1)).Dir;
    }
    catch {
        dir = undefined;
    }
    if (dl.code !== 0 || !dir || !existsSync(dir))
        return { ok: false, status: `Cerbos ${CERBOS_VERSION}: go mod download failed (exit ${dl.code}): ${tail(dl.out)}` };
    const src = path.join(PEERS_DIR, 'cerbos-src');
    rmSync(src, { recursive: true, force: true });
    cpSync(dir, src, { recursive: true });
    const makeWritable = (p) => {
        chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
        if (statSync(p).isDirectory())
            for (const e of readdirSync(p))
                makeWritable(path.join(p, e));
    };
    makeWritable(src);
    const b = await run('go', ['build', '-trimpath', '-o', CERBOS_BIN, './cmd/cerbos'], { cwd: src, env: { GOWORK: 'off', GOTOOLCHAIN: 'local' }, timeoutMs: 25 * 60_000 });
    if (b.code !== 0 || !executable(CERBOS_BIN))
        return { ok: false, status: `Cerbos ${CERBOS_VERSION}: go build failed (exit ${b.code}): ${tail(b.out)}` };
    return { ok: true, bin: CERBOS_BIN, status: `Cerbos ${CERBOS_VERSION}: built from the module source in ${Math.round((Date.now() - t0) / 1000)} s` };
}
