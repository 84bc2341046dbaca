// Impact previews at their bound (issue 11): 10,000 request samples, every one on a path
// through the changed namespace (the worst case: none can be skipped), 3 namespaces × 10
// documents with a condition on some rules, and 10 stored suites of 20 cases. Times
// POST /v1/preview over HTTP (fastify inject: the route, schema and serialization
// included) for a revoke, and the preview alone, and checks it wrote nothing.
// Run: node --import tsx bench/preview.ts [--samples 10000] [--runs 10]
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createServices } from '../src/compose.js';
import { buildApp } from '../src/server/app.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SAMPLES = arg('samples', 10_000);
const RUNS = arg('runs', 10);
const config = loadConfig({ SAMPLES_MAX: String(SAMPLES), SAMPLES_PER_SECOND: '0', PREVIEW_TIMEOUT_MS: '60000' });
const services = await createServices(config, pino({ level: 'silent' }), new MemoryStore());
const app = await buildApp({
    decisions: services.decisions, policies: services.policies, manager: services.manager, preview: services.preview,
    auth: { adminToken: undefined, loopbackOnly: true }, bodyLimit: config.bodyLimit,
});
const put = (key, text) => services.policies.put(key, text, 'yaml', {});
const NAMESPACES = ['global', 'org', 'team'];
const doc = (ns, i, extra = '') => `key: ${ns}-d${i}
namespace: ${ns}
ordinal: ${i}
rules:
  - id: r${i}
    subjects: ["role:r${i}", "group:g${i % 3}"]
    grant: ["res${i}:read", "res${i}:list", "shared:*"]
  - id: w${i}
    subjects: ["role:w${i}"]
    ${i % 2 === 0 ? 'when: context.level >= 2\n    ' : ''}grant: ["res${i}:*"]
  - id: no-purge-${i}
    subjects: ["*"]
    revoke: ["res${i}:purge"${extra}]
`;
for (const ns of NAMESPACES)
    for (let i = 0; i < 10; i++)
        await put(`${ns}-d${i}`, doc(ns, i));
for (let s = 0; s < 10; s++) {
    const cases = Array.from({ length: 20 }, (_, c) => `  - name: case ${c}
    subject: { id: t${c}, roles: [r${c % 10}, w${(c + s) % 10}] }
    context: { level: ${c % 4} }
    expect: { allowed: ["res${c % 10}:read"] }
`).join('');
    await put(`global-suite${s}`, `key: global-suite${s}\nkind: tests\nname: suite ${s}\npath: global.org.team\ncases:\n${cases}`);
}
// Samples as the service records them: real requests, each a cache miss.
for (let i = 0; i < SAMPLES; i++) {
    const req = { subject: { id: `u${i}`, roles: [`r${i % 10}`, `w${(i * 7) % 10}`], groups: [`g${i % 3}`] }, namespace: 'global.org.team', context: { level: i % 4 } };
    if (i % 5 === 0)
        services.decisions.check({ ...req, permission: `res${i % 10}:write` });
    else
        services.decisions.evaluate(req);
}
if (services.samples.size !== SAMPLES)
    throw new Error(`expected ${SAMPLES} samples, have ${services.samples.size}`);
// The change: team's first document also revokes every write.
const change = { put: [doc('team', 0, ', "res0:write", "res1:write", "res2:write", "shared:write"')] };
const revision = services.manager.revision;
const times = [];
let last;
for (let r = 0; r < RUNS + 2; r++) {
    const started = performance.now();
    const res = await app.inject({ method: 'POST', url: '/v1/preview', payload: change });
    const ms = performance.now() - started;
    if (res.statusCode !== 200)
        throw new Error(res.body.slice(0, 500));
    last = res.json();
    if (r >= 2)
        times.push(ms); // two warm-up runs
}
if (services.manager.revision !== revision)
    throw new Error('the preview wrote something');
const direct = [];
for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    await services.preview.preview(change);
    direct.push(performance.now() - started);
}
times.sort((a, b) => a - b);
direct.sort((a, b) => a - b);
const q = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(1);
console.log(`impact preview: ${SAMPLES} samples on the changed path, 30 documents, 10 stored suites × 20 cases`);
console.log(`summary: ${JSON.stringify(last.summary)} complete=${last.complete}`);
console.log(`POST /v1/preview (inject): median ${q(times, 0.5)} ms, max ${q(times, 1)} ms over ${RUNS} runs`);
console.log(`ImpactPreview.preview:     median ${q(direct, 0.5)} ms, max ${q(direct, 1)} ms`);
console.log(`bound: PREVIEW_TIMEOUT_MS default ${loadConfig({}).previewTimeoutMs} ms; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await app.close();
await services.close();
