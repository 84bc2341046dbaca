// Promises of the configuration table that no other test held: the Lua budgets
// (LUA_INSTRUCTIONS, LUA_MEMORY_BYTES, LUA_TIME_MS) and the CEL budget (CEL_STEPS), set
// in the environment of a fully wired service, bound its decisions: a script or a
// condition that finishes under a generous budget fails closed under a small configured
// one, with the budget named. (The budgets at their defaults are held by
// test/core/lua/lua-bounded and test/reliability/cel-budget-http.) The CEL budget is
// process-wide (the service built last sets it), so each app is built, then asked.

import t from 'tap';
import { testApp } from '../helpers/app.js';

function luaDoc(body: string): string {
  return ['key: global-budget', 'kind: lua', 'script: |', ...body.split('\n').map((l) => `  ${l}`), '  function can_execute(subject, resource, context) return true end', ''].join('\n');
}

/** Generous Lua budgets (a loaded machine makes the default 20 ms a lottery), so that one budget at a time is what the test narrows. */
const ROOMY = { LUA_TIME_MS: '10000', LUA_INSTRUCTIONS: '100000000', LUA_MEMORY_BYTES: '67108864' };

async function loadLua(env: Record<string, string>, body: string) {
  const { app } = await testApp(t, { env: { ...ROOMY, ...env } });
  const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'user:a', policies: [luaDoc(body)] } });
  return { status: r.statusCode, json: r.json() };
}

const LUA_CASES: Array<{ setting: string; env: Record<string, string>; body: string; message: RegExp }> = [
  { setting: 'LUA_INSTRUCTIONS', env: { LUA_INSTRUCTIONS: '1000' }, body: 'local n = 0\nfor i = 1, 20000 do n = n + i end', message: /instruction budget exceeded/ },
  { setting: 'LUA_MEMORY_BYTES', env: { LUA_MEMORY_BYTES: '65536' }, body: 'local s = string.rep("x", 1000000)', message: /memory|not enough/i },
  { setting: 'LUA_TIME_MS', env: { LUA_TIME_MS: '1' }, body: 'local n = 0\nfor i = 1, 1000000 do n = n + i end', message: /time budget exceeded/ },
];

for (const c of LUA_CASES) {
  t.test(`${c.setting}: a script within the roomy budget loads, past the configured one it is refused`, async (t) => {
    const roomy = await loadLua({}, c.body);
    t.equal(roomy.status, 200, `under roomy budgets the script runs: ${JSON.stringify(roomy.json).slice(0, 200)}`);
    const tight = await loadLua(c.env, c.body);
    t.equal(tight.status, 422, `${c.setting}=${c.env[c.setting]}: refused`);
    t.equal(tight.json.code, 'POLICY_INVALID');
    t.match(tight.json.details?.[0]?.message, c.message, 'the budget is named');
    t.notOk(tight.json.permissions, 'no decision, no grant');
  });
}

t.test('CEL_STEPS: a condition within the default budget holds, past a configured one it fails closed', async (t) => {
  const doc = { key: 'global-cel', rules: [{ id: 'r', subjects: ['*'], when: 'context.l.all(x, x >= 0)', grant: ['doc:read'] }, { id: 'always', subjects: ['*'], grant: ['doc:list'] }] };
  const body = { subject: 'user:a', policies: [doc], context: { l: Array.from({ length: 3000 }, (_, i) => i) }, explain: true };
  const condition = (json: { trace?: Array<{ rules?: Array<{ rule: string; condition?: unknown }> }> }) => json.trace?.[0]?.rules?.find((x) => x.rule === 'r')?.condition;

  const roomy = (await testApp(t)).app;
  const a = await roomy.inject({ method: 'POST', url: '/v1/evaluate', payload: body });
  t.equal(a.statusCode, 200);
  t.same(condition(a.json()), { value: true }, 'default CEL_STEPS (50,000): the condition is evaluated');
  t.same(a.json().permissions.sort(), ['doc:list', 'doc:read']);

  const tight = (await testApp(t, { env: { CEL_STEPS: '1000' } })).app;
  const b = await tight.inject({ method: 'POST', url: '/v1/evaluate', payload: body });
  t.equal(b.statusCode, 200);
  t.match(condition(b.json()), { error: /^CEL_BUDGET_EXCEEDED/ }, 'CEL_STEPS=1000: the condition fails on the budget');
  t.same(b.json().permissions, ['doc:list'], 'fails closed: its grant is not applied');
});
