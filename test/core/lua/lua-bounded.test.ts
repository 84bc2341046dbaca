// Issue 16 item 2 (Lua): caller-supplied Lua is bounded. Over real HTTP, the worst
// known scripts run through inline `policies` in /v1/evaluate, POST /v1/test and
// POST /v1/validate, at the top level (load time) and inside can_execute, while
// /healthz is polled concurrently: it must keep answering within 50 ms, no script may
// grant, and the process's memory must stay bounded. (Before the fix, a top-level
// string.rep ran with no memory cap: seconds of stall and a heap of gigabytes.)
import t from 'tap';
import { testApp } from '../../helpers/app.js';
import { httpSender } from '../../helpers/http.js';
import { luaLiveBytes, setLuaTurnBudget } from '../../../src/core/lua/sandbox.js';

const { app } = await testApp(t);
const send = await httpSender(app);

const HEALTH_MS = 50;

/**
 * The machine's slowdown now: wall time over CPU time of a short busy loop. On an idle
 * core it is 1 and the bound is 50 ms; on a shared, overloaded machine the process gets
 * a fraction of a core and every wall-clock time stretches by this factor.
 */
function slowdown(): number {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1e5; i++) x += i % 7;
    const cpu = process.cpuUsage(cpu0);
    if (cpu.user + cpu.system >= 15_000) break;
  }
  const cpu = process.cpuUsage(cpu0);
  return Math.max(1, (performance.now() - wall0) / ((cpu.user + cpu.system) / 1000)) + (x < 0 ? 1 : 0);
}
const RSS_GROWTH_MAX = 300 * 1024 * 1024;

/** The worst inputs known: each as top-level code and as the body of can_execute. */
export const BOMBS: Array<[string, string]> = [
  ['string.rep to 1.2 GB', 'local s = string.rep("x", 1.2e9)'],
  ['string.rep with a separator', 'local s = ("x"):rep(3e8, "yy")'],
  ['endless loop', 'while true do end'],
  ['deep recursion', 'local function f(n) return f(n + 1) + 1 end\nf(1)'],
  ['table bomb', 'local t = {}\nfor i = 1, 1e8 do t[i] = { i, i } end'],
  ['nested table bomb', 'local t = {}\nwhile true do t = { t, t, t, t } end'],
  ['doubling string', 'local s = "x"\nfor i = 1, 64 do s = s .. s end'],
  ['concatenation loop over 1 MB', 'local s = ("x"):rep(2 ^ 20)\nlocal n = 0\nwhile true do local y = s .. n; n = n + 1 end'],
  ['concat operator doubling, then a loop', 'local s = "x"\nfor i = 1, 20 do s = s .. s end\nwhile true do local y = s .. "y" end'],
  ['long string comparisons', 'local s = "x"\nfor i = 1, 20 do s = s .. s end\nlocal a, b = s .. "1", s .. "1"\nlocal n = 0\nwhile true do if a < b then n = n + 1 end end'],
  ['table.concat loop', 'local t = {}\nfor i = 1, 1000 do t[i] = ("x"):rep(1000) end\nwhile true do local s = table.concat(t) end'],
  ['sort loop', 'local t = { ("x"):rep(200000):byte(1, -1) }\nwhile true do table.sort(t) end'],
  ['utf8.len loop', 'local s = ("x"):rep(500000)\nwhile true do local n = utf8.len(s) end'],
  ['insert at the front', 'local t = {}\nfor i = 1, 40000 do t[i] = i end\nwhile true do table.insert(t, 1, 0) end'],
  ['byte unpacking', 'while true do local t = { ("x"):rep(900000):byte(1, -1) } end'],
];

function topLevel(key: string, code: string): string {
  return [`key: ${key}`, 'kind: lua', 'script: |', ...code.split('\n').map((l) => `  ${l}`), '  function can_execute(subject, resource, context) return true end', ''].join('\n');
}

function inCall(key: string, code: string): string {
  return [`key: ${key}`, 'kind: lua', 'script: |', '  function can_execute(subject, resource, context)', ...code.split('\n').map((l) => `    ${l}`), '    return true', '  end', ''].join('\n');
}

/** Poll /healthz back to back until stopped; report the slowest answer. */
function pollHealth(): { stop: () => Promise<{ max: number; count: number; failures: number }> } {
  let running = true;
  let max = 0;
  let count = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const r = await send({ method: 'GET', url: '/healthz' });
      const ms = performance.now() - t0;
      if (r.status !== 200) failures++;
      max = Math.max(max, ms);
      count++;
      await new Promise((res) => setTimeout(res, 2));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { max, count, failures };
    },
  };
}

// Warm every route once, with a script that works and with ones that fail at load and
// in the call (first compiles of routes, schemas and error paths are not what is measured).
for (const doc of [inCall('bounded-warm', 'local x = 1'), topLevel('bounded-warm', 'while true do end'), inCall('bounded-warm', 'local s = ("x"):rep(1e9)')]) {
  await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policies: [doc] } });
  await send({ method: 'POST', url: '/v1/test', payload: { name: 'w', policies: [doc], cases: [{ name: 'c', subject: { id: 'u' }, policy: 'bounded-warm', expect: { result: true } }] } });
  await send({ method: 'POST', url: '/v1/validate', headers: { 'content-type': 'application/yaml' }, payload: doc });
}

const rssBefore = process.memoryUsage().rss;

for (const [shape, wrap] of [['top level', topLevel], ['in can_execute', inCall]] as const) {
  t.test(`the worst scripts, ${shape}: healthz within ${HEALTH_MS} ms, nothing granted`, async (t) => {
    for (const [name, code] of BOMBS) {
      const doc = wrap('bounded-bomb', code);
      // Warm the path so one-time costs (first compile of a route) do not count.
      await send({ method: 'GET', url: '/healthz' });
      // Two tries: on a shared machine the process can be descheduled for a while at any
      // moment; a stall the script causes shows in both.
      let ev!: Awaited<ReturnType<typeof send>>;
      let suite!: Awaited<ReturnType<typeof send>>;
      let val!: Awaited<ReturnType<typeof send>>;
      let best: { max: number; count: number; failures: number; factor: number; elapsed: number } | undefined;
      const tries: string[] = [];
      for (let attempt = 0; attempt < 2 && (!best || best.max >= HEALTH_MS * best.factor); attempt++) {
        const before = slowdown();
        const poll = pollHealth();
        const started = performance.now();
        ev = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policies: [doc] } });
        suite = await send({
          method: 'POST', url: '/v1/test',
          payload: { name: 'bomb', policies: [doc], cases: [{ name: 'c', subject: { id: 'u' }, policy: 'bounded-bomb', expect: { result: true } }] },
        });
        val = await send({ method: 'POST', url: '/v1/validate', headers: { 'content-type': 'application/yaml' }, payload: doc });
        const elapsed = performance.now() - started;
        const health = await poll.stop();
        const factor = (before + slowdown()) / 2;
        tries.push(`${health.max.toFixed(1)} ms at slowdown ${factor.toFixed(1)}`);
        if (!best || health.max / factor < best.max / best.factor) best = { ...health, factor, elapsed };
      }
      const { max, count, failures, factor, elapsed } = best!;
      t.ok(max < HEALTH_MS * factor, `${name}: /healthz answered within ${max.toFixed(1)} ms (${count} polls; bound ${HEALTH_MS} ms × slowdown ${factor.toFixed(1)}; tries: ${tries.join(', ')})`);
      t.equal(failures, 0, `${name}: /healthz always 200`);
      t.ok(elapsed < 500 * factor, `${name}: three requests took ${elapsed.toFixed(0)} ms`);
      // Never granted: refused when written (top level) or a failed script (in the call).
      t.ok(ev.status === 200 || ev.status === 422, `${name}: evaluate ${ev.status} ${ev.body.slice(0, 200)}`);
      if (ev.status === 200) t.same(ev.json().permissions, [], `${name}: evaluate grants nothing`);
      else t.equal(ev.json().code, 'POLICY_INVALID');
      t.ok(suite.status === 200 || suite.status === 422, `${name}: test ${suite.status} ${suite.body.slice(0, 200)}`);
      if (suite.status === 200) t.equal(suite.json().passed, false, `${name}: the case does not pass`);
      t.equal(val.status, 200, `${name}: validate ${val.body.slice(0, 200)}`);
      if (shape === 'top level') {
        t.equal(val.json().valid, false, `${name}: invalid when its top level blows a budget`);
        t.match(val.json().errors[0].message, /budget exceeded|stack overflow|C stack/, `${name}: says why`);
      }
    }
  });
}

t.test('many Lua documents in one request share one budget of Lua time per turn', async (t) => {
  // The per-turn budget is off by default (it would make synchronous batches timing-dependent).
  setLuaTurnBudget(10); // under one run's LUA_TIME_MS (20 ms): a turn holds one run's budget of Lua
  t.teardown(() => setLuaTurnBudget(Number.POSITIVE_INFINITY));
  for (const [shape, wrap] of [['top level', topLevel], ['in can_execute', inCall]] as const) {
    // Each runs to its deadline (every instruction is a long comparison): 8 × 20 ms alone.
    const slow = 'local s = "x"\nfor i = 1, 20 do s = s .. s end\nlocal a, b = s .. "1", s .. "1"\nlocal n = 0\nwhile true do if a < b then n = n + 1 end end';
    const docs = Array.from({ length: 8 }, (_, i) => wrap(`bounded-many${i}`, slow));
    let best = Infinity;
    let factor = 1;
    for (let attempt = 0; attempt < 3 && best >= HEALTH_MS; attempt++) {
      const before = slowdown();
      const poll = pollHealth();
      const ev = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policies: docs } });
      const health = await poll.stop();
      factor = (before + slowdown()) / 2;
      best = Math.min(best, health.max / factor) ;
      t.ok(ev.status === 200 || ev.status === 422, `${shape}: ${ev.status}`);
      if (ev.status === 200) t.same(ev.json().permissions, [], `${shape}: nothing granted`);
    }
    t.ok(best < HEALTH_MS, `${shape}: 8 scripts that run to their deadline in one request: /healthz within ${best.toFixed(1)} ms (scaled to an idle core)`);
  }
});

t.test('memory stays bounded and the server answers correctly afterwards', async (t) => {
  const growth = process.memoryUsage().rss - rssBefore;
  t.ok(growth < RSS_GROWTH_MAX, `RSS grew by ${(growth / 1e6).toFixed(0)} MB`);
  t.ok(luaLiveBytes() < 64 * 1024 * 1024, `Lua states hold ${(luaLiveBytes() / 1e6).toFixed(1)} MB`);
  const ok = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policies: [inCall('bounded-fine', 'local x = 1')] } });
  t.equal(ok.status, 200, ok.body);
});
