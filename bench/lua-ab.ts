// Run: git archive main | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
//      node --import tsx bench/lua-ab.ts /tmp/before [rounds]
// A/B: the same Lua evaluations on main (before) and on sec-lua (after), interleaved
// in one process so machine load hits both alike; CPU time (not wall time, which the
// shared machine stretches), medians of per-round means.
import { LUA_CHUNK, LUA_DECLARED, LUA_INPUT, LUA_SCRIPT } from './lib/lua-docs.js';

const before = process.argv[2];
if (!before) throw new Error('usage: node --import tsx bench/lua-ab.ts <checkout of the code before> [rounds]');
const roots = { before, after: new URL('..', import.meta.url).pathname.replace(/\/$/, '') };
const docs = { chunk: LUA_CHUNK, script: LUA_SCRIPT, declared: LUA_DECLARED };
const input = LUA_INPUT;
const opts = { defaultPermissions: ['*'] };
const sides: Record<string, Record<string, () => unknown>> = {};
const get = <T>(v: T | undefined): T => { if (v === undefined) throw new Error('missing'); return v; };
for (const [side, root] of Object.entries(roots)) {
  const { initLua } = await import(`${root}/src/core/lua/sandbox.ts`);
  const { loadDocument } = await import(`${root}/src/core/compile/load-document.ts`);
  const { evaluatePolicies } = await import(`${root}/src/core/evaluate/evaluate.ts`);
  await initLua();
  sides[side] = {};
  for (const [name, yaml] of Object.entries(docs)) {
    const r = loadDocument(yaml, 'yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const p = r.loaded.policy;
    const d = evaluatePolicies([p], input, opts);
    if (d.permissions[0] !== 'document:delete') throw new Error(`${side} ${name}: ${JSON.stringify(d)}`);
    get(sides[side])[name] = () => evaluatePolicies([p], input, opts);
  }
}
const N = 300, ROUNDS = Number(process.argv[3] ?? 25);
const results: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(docs)) {
    for (const side of round % 2 ? ['after', 'before'] : ['before', 'after']) {
      const f = get(get(sides[side])[name]);
      const c0 = process.cpuUsage();
      for (let i = 0; i < N; i++) f();
      const c = process.cpuUsage(c0);
      (results[`${name} ${side}`] ??= []).push((c.user + c.system) / N);
    }
  }
}
const median = (xs: number[]) => get([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
const min = (xs: number[]) => Math.min(...xs);
for (const name of Object.keys(docs)) {
  const b = get(results[`${name} before`]), a = get(results[`${name} after`]);
  console.log(`${name.padEnd(9)} before: median ${median(b).toFixed(1)} µs (min ${min(b).toFixed(1)})  after: median ${median(a).toFixed(1)} µs (min ${min(a).toFixed(1)})  ratio of medians ${(median(a) / median(b)).toFixed(2)}, of mins ${(min(a) / min(b)).toFixed(2)}`);
}
