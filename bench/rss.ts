// RSS of the compiled server at the target's size: 10,000 documents loaded (file store),
// the decision cache full (CACHE_MAX distinct evaluations) and the request samples full.
// Runs `node dist/main.js` (npm run build first) and reads VmRSS from /proc.
// Run: npm run build && node --import tsx bench/rss.ts [--documents 10000] [--empty] [--heap-snapshot out.heapsnapshot] [--node-flags "--max-semi-space-size=1 …"] [--no-start-env]
// --empty: no documents and no load (the idle server). --heap-snapshot: the server writes a
// V8 heap snapshot at the end (SIGUSR2, --heapsnapshot-signal); summarise it by constructor
// with `node --import tsx bench/heap-summary.ts out.heapsnapshot`.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDocument, ROLES } from './fixtures.js';
import { startSettings } from './lib/start-flags.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EMPTY = process.argv.includes('--empty');
const DOCUMENTS = EMPTY ? 0 : arg('documents', 10_000);
const REQUESTS = EMPTY ? 0 : arg('requests', 10_000);
const snapshotAt = process.argv.indexOf('--heap-snapshot');
const SNAPSHOT = snapshotAt > 0 ? process.argv[snapshotAt + 1] : undefined;
const dir = mkdtempSync(join(tmpdir(), 'pe-rss-'));
// global + org, then two documents per tenant namespace.
let written = 0;
const write = (doc: ReturnType<typeof makeDocument>) => {
  writeFileSync(join(dir, `${doc.key}.json`), JSON.stringify(doc, null, 2));
  written++;
};
for (let i = 0; i < 10 && written < DOCUMENTS; i++) write(makeDocument('global', i, 5));
for (let i = 0; i < 20 && written < DOCUMENTS; i++) write(makeDocument('org', i, 5));
const tenants = Math.max(1, Math.ceil((DOCUMENTS - written) / 2));
for (let t = 0; t < tenants && written < DOCUMENTS; t++) for (let i = 0; i < 2 && written < DOCUMENTS; i++) write(makeDocument(`org:t${t}`, i, 5));

const port = 18000 + Math.floor(Math.random() * 2000);
const snapshotDir = SNAPSHOT ? mkdtempSync(join(tmpdir(), 'pe-heap-')) : undefined;
// The environment and flags `npm start` and the image use (bench/lib/start-flags.ts);
// --node-flags "…" replaces the flags and --no-start-env drops the environment, to weigh others.
const START = startSettings();
const flagsAt = process.argv.indexOf('--node-flags');
const FLAGS = flagsAt > 0 ? process.argv[flagsAt + 1]!.split(' ').filter(Boolean) : START.flags;
const START_ENV = process.argv.includes('--no-start-env') ? {} : START.env;
const child = spawn(process.execPath, [...FLAGS, ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []), 'dist/main.js'], {
  // SAMPLES_PER_SECOND=0: every request is looked at, so the samples fill whatever the machine's speed
  // (the default, 1,000 a second, bounds their CPU cost, not their memory: SAMPLES_MAX does that).
  env: { ...process.env, ...START_ENV, PORT: String(port), STORE: 'file', POLICY_DIR: dir, LOG_LEVEL: 'warn', SAMPLES_PER_SECOND: '0' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
const base = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 3000) throw new Error('the server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  const loaded = rssMiB();
  // Distinct evaluations fill the cache (and the samples): 16 in flight at a time, each
  // asked twice (CACHE_ADMISSION=second, the default, stores a decision at its second ask).
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const body = { subject: { id: `user:u${i}`, roles: [ROLES[i % ROLES.length], ROLES[(i * 3) % ROLES.length]] }, namespace: `global.org.org:t${i % tenants}`, context: { ip: '203.0.113.5' } };
      for (let ask = 0; ask < 2; ask++) {
        const r = await fetch(`${base}/v1/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`\\n${name} (\\d+)`).exec(metrics)?.[1] ?? NaN);
  await new Promise((r) => setTimeout(r, 1000));
  const full = rssMiB();
  const heap = Number(/\nnodejs_heap_size_used_bytes (\d+)/.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  const external = Number(/\nnodejs_external_memory_bytes (\d+)/.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  console.log(`heap used ${heap.toFixed(0)} MiB, external ${external.toFixed(0)} MiB (at the end of the load)`);
  console.log(`documents loaded: ${gauge('policy_engine_policy_documents')}, cache entries: ${gauge('policy_engine_decision_cache_entries')}, request samples: ${gauge('policy_engine_request_samples')}`);
  const smaps = readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`\\n${name}:\\s+(\\d+)`).exec(smaps)?.[1] ?? NaN) / 1024;
  console.log(`smaps: anonymous ${kb('Anonymous').toFixed(0)} MiB, file-backed ${(kb('Rss') - kb('Anonymous')).toFixed(0)} MiB`);
  const m2 = await (await fetch(`${base}/metrics`)).text();
  const space = (kind: string) => [...m2.matchAll(new RegExp(`\\nnodejs_heap_space_size_${kind}_bytes\\{space="(\\w+)"\\} (\\d+)`, 'g'))].filter((x) => Number(x[2]) > 0).map((x) => `${x[1]} ${(Number(x[2]) / 2 ** 20).toFixed(1)}`).join(', ');
  console.log(`heap spaces committed: ${space('total')}; used: ${space('used')} (MiB)`);
  console.log(`server: ${Object.entries(START_ENV).map(([k, v]) => `${k}=${v} `).join('')}node ${FLAGS.join(' ')}`);
  console.log(`RSS: ${loaded.toFixed(0)} MiB loaded, ${full.toFixed(0)} MiB with the cache and samples full (target ≤ 150 MB = 143 MiB${EMPTY ? '; empty: ≤ 80 MB = 76 MiB' : ''})`);
  if (SNAPSHOT && snapshotDir) {
    child.kill('SIGUSR2');
    // The snapshot is complete when its size stops changing.
    let last = -1;
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const f = readdirSync(snapshotDir).find((n) => n.endsWith('.heapsnapshot'));
      const size = f && existsSync(join(snapshotDir, f)) ? statSync(join(snapshotDir, f)).size : -1;
      if (f && size > 0 && size === last) {
        renameSync(join(snapshotDir, f), SNAPSHOT);
        console.log(`heap snapshot: ${SNAPSHOT}`);
        break;
      }
      last = size;
    }
  }
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  if (snapshotDir) rmSync(snapshotDir, { recursive: true, force: true });
}
