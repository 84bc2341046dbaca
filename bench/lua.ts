// Lua rule vs the same rule in CEL, in process, and what a runaway script costs other
// requests. Run: node --import tsx bench/lua.ts
import { bench, run, summary } from 'mitata';
import { initLua } from '../src/core/lua/sandbox.js';
import { loadDocument } from '../src/core/compile/load-document.js';
import { evaluatePolicies } from '../src/core/evaluate/evaluate.js';
import type { CompiledPolicy } from '../src/core/compile/types.js';
import { CEL_SAME, LUA_CHUNK, LUA_INPUT, LUA_SCRIPT } from './lib/lua-docs.js';

await initLua();

function compile(yaml: string): CompiledPolicy {
  const r = loadDocument(yaml, 'yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.loaded.policy;
}

const cel = compile(CEL_SAME);
const lua = compile(LUA_CHUNK);
const plain = compile(`key: global-plain
rules:
  - subjects: ["role:editor"]
    grant: ["document:delete"]
`);
const script = compile(LUA_SCRIPT);
const runaway = compile(`key: global-runaway
kind: lua
script: |
  function can_execute(subject, resource, context)
    while true do end
  end
`);

const input = LUA_INPUT;
const opts = { defaultPermissions: ['*'] };
for (const p of [cel, lua, plain, script]) {
  const d = evaluatePolicies([p], input, opts);
  if (d.permissions[0] !== 'document:delete') throw new Error(`${p.key} decided ${JSON.stringify(d)}`);
}

summary(() => {
  bench('rule without condition', () => evaluatePolicies([plain], input, opts));
  bench('rule with a CEL condition', () => evaluatePolicies([cel], input, opts));
  bench('rule with a Lua chunk', () => evaluatePolicies([lua], input, opts));
  bench('script document (kind: lua)', () => evaluatePolicies([script], input, opts));
});
await run();

// A runaway script: how long one evaluation that hits it holds the event loop, which is
// what it adds to the latency of requests queued behind it.
const samples: number[] = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  const d = evaluatePolicies([runaway], input, opts);
  samples.push(performance.now() - t0);
  if (d.permissions.length !== 0) throw new Error('a runaway script granted');
}
samples.sort((a, b) => a - b);
const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!.toFixed(2);
console.log(`runaway script stopped after: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (budgets: 200k instructions, 20 ms)`);
