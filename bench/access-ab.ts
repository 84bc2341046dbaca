// Run: git archive <before> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
//      node --import tsx bench/access-ab.ts /tmp/before [rounds]
// A/B: what the access hooks (route-access.ts: Host and Origin checks, the inline-policies
// check) cost a decision. The same POST /v1/evaluate through fastify's inject (routing,
// hooks, parsing, validation, serialization; no socket) on the code before and after,
// interleaved in one process so machine load hits both alike; CPU time per request (not
// wall time, which the shared machine stretches), medians of per-round means.

import { pino } from 'pino';

const before = process.argv[2];
if (!before) throw new Error('usage: node --import tsx bench/access-ab.ts <checkout of the code before> [rounds]');
const rounds = Number(process.argv[3] ?? 15);
const roots = { before, after: new URL('..', import.meta.url).pathname.replace(/\/$/, '') };

const POLICY = 'key: global-base\nrules:\n  - { id: r, subjects: ["role:editor"], grant: ["document:*"], when: \'context.hour >= 9\' }\n  - { id: d, subjects: ["*"], deny: ["document:purge"] }\n';

interface Side { inject: (body: object) => Promise<number>; close: () => Promise<void> }

async function side(root: string): Promise<Side> {
  const { loadConfig } = await import(`${root}/src/config/config.ts`);
  const { createServices } = await import(`${root}/src/compose.ts`);
  const { buildApp } = await import(`${root}/src/server/app.ts`);
  const { MemoryStore } = await import(`${root}/src/store/memory/memory-store.ts`);
  const config = { ...loadConfig({ SAMPLES_ENABLED: 'false', DECISION_LOG: 'false' }), ui: false };
  const services = await createServices(config, pino({ level: 'silent' }), new MemoryStore());
  const app = await buildApp({
    decisions: services.decisions, policies: services.policies, relations: services.relations, manager: services.manager,
    auth: { adminToken: undefined, loopbackOnly: true }, bodyLimit: config.bodyLimit,
  });
  const put = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml' }, payload: POLICY });
  if (put.statusCode !== 201) throw new Error(put.body);
  return {
    inject: async (body) => (await app.inject({ method: 'POST', url: '/v1/evaluate', headers: { host: '127.0.0.1:8080', 'content-type': 'application/json' }, payload: JSON.stringify(body) })).statusCode,
    close: async () => { await app.close(); await services.close(); },
  };
}

const sides = { before: await side(roots.before), after: await side(roots.after) };
const body = (id: string) => ({ subject: { id, roles: ['editor'] }, namespace: 'global', context: { hour: 10 } });
let miss = 0;
const cases = {
  hit: () => body('user:alice'),
  miss: () => body(`user:${miss++}`),
};
// Short batches, the two sides back to back in alternating order: each round's ratio
// sees the same machine load on both sides; the median ratio over many rounds is robust
// to the load swings of a shared machine.
const N = 300;
const ratios: Record<string, number[]> = {};
const perRequest: Record<string, number[]> = {};
for (let r = 0; r < rounds + 2; r++) {
  for (const [name, make] of Object.entries(cases)) {
    const order = r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
    const cpu: Record<string, number> = {};
    for (const which of order) {
      const s = sides[which];
      const start = process.cpuUsage();
      for (let i = 0; i < N; i++) if ((await s.inject(make())) !== 200) throw new Error(`${which} ${name}: not 200`);
      const used = process.cpuUsage(start);
      cpu[which] = (used.user + used.system) / N;
    }
    if (r < 2) continue; // warm-up
    (ratios[name] ??= []).push(cpu.after! / cpu.before!);
    (perRequest[`${name} before`] ??= []).push(cpu.before!);
    (perRequest[`${name} after`] ??= []).push(cpu.after!);
  }
}
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;
for (const name of Object.keys(cases)) {
  const rs = ratios[name]!;
  console.log(`${name}: before ${quantile(perRequest[`${name} before`]!, 0.5).toFixed(1)} µs CPU/request, after ${quantile(perRequest[`${name} after`]!, 0.5).toFixed(1)} µs; `
    + `after/before per round: median ${((quantile(rs, 0.5) - 1) * 100).toFixed(1)}% (quartiles ${((quantile(rs, 0.25) - 1) * 100).toFixed(1)}% … ${((quantile(rs, 0.75) - 1) * 100).toFixed(1)}%, ${rs.length} rounds)`);
}
await sides.before.close();
await sides.after.close();
