// The sandbox's budgets in process (issue 16 item 2): the cap on all Lua states
// together, closing a state at once, no panic when a run ends at its deadline, inputs
// larger than the allowance failing closed.
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { initLua, LuaSandbox, luaLiveBytes, setLuaTotalMemory } from '../../../src/core/lua/sandbox.js';

await initLua();
const budgets = { instructions: 200_000, timeMs: 2000, memoryBytes: 4 * 1024 * 1024 };
const subject = { id: 'u', roles: [], groups: [], attributes: {} };

t.test('the total over all states bounds what one more state may take', async (t) => {
  const before = luaLiveBytes();
  setLuaTotalMemory(before + 512 * 1024);
  t.teardown(() => setLuaTotalMemory(256 * 1024 * 1024));
  const sb = new LuaSandbox({ ...budgets, instructions: 10_000_000 });
  const r = sb.load('local s = ("x"):rep(100000) .. ("y"):rep(100000) .. ("z"):rep(100000) .. ("w"):rep(100000)\nfunction can_execute() return true end', 's');
  t.same(r, { error: 'memory budget exceeded' }, 'within its own 4 MiB, beyond what is left of the total');
  sb.close();
  t.ok(luaLiveBytes() <= before + 64 * 1024, 'a closed state gives its share back');
});

t.test('each call starts from the loaded state and is capped beyond it', async (t) => {
  const sb = new LuaSandbox(budgets);
  const r = sb.load('local n = 0\nbig = {}\nfunction can_execute(s)\n  n = n + 1\n  big[#big + 1] = ("x"):rep(100000)\n  return n\nend', 's');
  t.ok('id' in r);
  sb.seal();
  const id = (r as { id: number }).id;
  for (let i = 0; i < 5; i++) t.equal(sb.call(id, 'can_execute', subject, {}, {}, {}, 0, false).result, 1, `call ${i + 1} sees n = 0 before it`);
  t.ok(sb.memoryUsed() < 512 * 1024, `garbage of the calls is collected: ${sb.memoryUsed()} bytes`);
  t.throws(() => sb.call(id, 'missing', subject, {}, {}, {}, 0, false), /defines no function missing/);
  sb.close();
});

t.test('inputs beyond the allowance fail the call, closed; the state stays usable', async (t) => {
  const sb = new LuaSandbox({ ...budgets, memoryBytes: 256 * 1024 });
  const r = sb.load('function can_execute(s, r, c) local t = {} for i = 1, 10 do t[i] = c.blob .. i end return true end', 's');
  sb.seal();
  const id = (r as { id: number }).id;
  t.throws(() => sb.call(id, 'can_execute', subject, {}, { blob: 'x'.repeat(200_000) }, {}, 0, false), /memory budget exceeded/);
  t.equal(sb.call(id, 'can_execute', subject, {}, { blob: 'x' }, {}, 0, false).result, true, 'the next call runs');
  sb.close();
});

t.test('a run that ends past its deadline while allocating never panics the runtime', async (t) => {
  const sb = new LuaSandbox({ instructions: 10_000_000, timeMs: 5, memoryBytes: 4 * 1024 * 1024 });
  const r = sb.load('function can_execute() local s = ("x"):rep(200000) while true do local y = s .. "y" end end', 's');
  sb.seal();
  const id = (r as { id: number }).id;
  for (let i = 0; i < 5; i++) t.throws(() => sb.call(id, 'can_execute', subject, {}, {}, {}, 0, false), /time budget exceeded|memory budget exceeded/);
  const other = new LuaSandbox(budgets);
  const ok = other.load('function can_execute() return true end', 's');
  other.seal();
  t.equal(other.call((ok as { id: number }).id, 'can_execute', subject, {}, {}, {}, 0, false).result, true, 'other states still run');
  sb.close();
  other.close();
});

t.test('states nobody holds are closed when collected (compiled documents that were replaced, inline ones)', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const before = luaLiveBytes();
  (() => {
    for (let i = 0; i < 100; i++) {
      const sb = new LuaSandbox(budgets);
      sb.load('big = ("x"):rep(100000)\nfunction can_execute() return true end', 's');
      sb.seal();
    }
  })();
  t.ok(luaLiveBytes() - before > 5_000_000, `100 states hold ${((luaLiveBytes() - before) / 1e6).toFixed(1)} MB`);
  for (let i = 0; i < 10 && luaLiveBytes() - before > 1_000_000; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ok(luaLiveBytes() - before < 1_000_000, `after collection they hold ${((luaLiveBytes() - before) / 1e6).toFixed(1)} MB`);
});
