// The hostile-script catalogue (issue 8): every script is refused when written, or
// stopped when run; none ever grants; the server answers correctly afterwards.
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { injectSender } from '../helpers/http.js';
const { app } = await testApp(t);
const send = injectSender(app);
const yaml = { 'content-type': 'application/yaml' };
function scriptDoc(key, body) {
    const lines = ['function can_execute(subject, resource, context)', ...body.split('\n').map((l) => `  ${l}`), 'end'];
    return `key: ${key}\nkind: lua\nordinal: 2\nscript: |\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
// Refused at write time: names the sandbox does not have, binary chunks, syntax.
const refused = [
    ['os.execute', 'return os.execute("id") == 0'],
    ['io.open', 'return io.open("/etc/passwd") ~= nil'],
    ['require', 'return require("os") ~= nil'],
    ['load', 'return load("return true")()'],
    ['loadstring', 'return loadstring("return true")()'],
    ['dofile', 'return dofile("/etc/passwd")'],
    ['loadfile', 'return loadfile("/etc/passwd") ~= nil'],
    ['debug', 'debug.sethook()\nreturn true'],
    ['collectgarbage', 'collectgarbage("stop")\nreturn true'],
    ['getmetatable on strings', 'getmetatable("").__index = {}\nreturn true'],
    ['setmetatable on inputs', 'setmetatable(subject, {})\nreturn true'],
    ['rawset on inputs', 'rawset(subject.roles, 1, "admin")\nreturn true'],
    ['string.dump', 'return string.dump(can_execute) ~= nil'],
    ['pattern functions', 'return ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"):find("(a*)*b") ~= nil'],
    ['pcall to swallow budgets', 'pcall(function() while true do end end)\nreturn true'],
    ['coroutines', 'return coroutine.wrap(function() return true end)()'],
    ['_ENV escape', 'return _ENV.os ~= nil'],
    ['_G escape', 'return _G.os ~= nil'],
    ['print', 'print("x")\nreturn true'],
    ['syntax error', 'return ((('],
];
const BINARY = 'key: hostile-binary\nkind: lua\nscript: "\\x1bLua\\x54\\x00\\x19\\x93\\r\\n\\x1a\\n"\n';
// Stopped at run time: budgets, read-only inputs and globals, wrong results.
const stopped = [
    ['endless loop', 'while true do end'],
    ['repeat forever', 'repeat until false'],
    ['numeric loop to huge', 'for i = 1, math.huge do end\nreturn true'],
    ['deep recursion', 'local function f(n) return f(n + 1) + 1 end\nreturn f(1) > 0'],
    ['string.rep memory bomb', 'local s = string.rep("x", 1e9)\nreturn #s > 0'],
    ['doubling string', 'local s = "x"\nfor i = 1, 64 do s = s .. s end\nreturn true'],
    ['growing table', 'local t = {}\nfor i = 1, 1e8 do t[i] = { i } end\nreturn true'],
    ['mutating inputs', 'subject.roles[1] = "admin"\nreturn true'],
    ['new global at run time', 'granted = true\nreturn granted'],
    ['huge error message', 'error(string.rep("x", 100000))'],
    ['error with a table', 'error({ grant = { "*" } })'],
    ['effects with unknown fields', 'return { grant = { "*" }, sudo = true }'],
    ['effects with a string instead of a list', 'return { grant = "*" }'],
    ['effects with a bad pattern', 'return { grant = { "bad pattern!" } }'],
    ['nil result', 'return nil'],
    ['number result', 'return 1'],
    ['string result', 'return "true"'],
    ['function result', 'return can_execute'],
];
t.test('refused when written (422), nothing stored', async (t) => {
    for (const [name, body] of refused) {
        const r = await send({ method: 'PUT', url: '/v1/policies/hostile-x', headers: yaml, payload: scriptDoc('hostile-x', body) });
        t.equal(r.status, 422, `${name}: ${r.body.slice(0, 200)}`);
        t.equal(r.json().code, 'POLICY_INVALID');
        t.match(r.json().details[0].message, /script line \d+|syntax error/, `${name} names the line`);
    }
    const bin = await send({ method: 'PUT', url: '/v1/policies/hostile-binary', headers: yaml, payload: BINARY });
    t.ok(bin.status === 422 || bin.status === 400, `binary chunk refused: ${bin.status}`);
    t.equal((await send({ method: 'GET', url: '/v1/policies/hostile-x' })).status, 404);
});
t.test('stopped when run: never grants, reports why, other requests unharmed', async (t) => {
    // Everyone is granted everything first; each hostile script runs after that grant.
    const base = await send({ method: 'PUT', url: '/v1/policies/hostile-base', headers: yaml, payload: 'key: hostile-base\nordinal: 1\nrules:\n  - subjects: ["*"]\n    grant: ["doc:read"]\n' });
    t.equal(base.status, 201);
    for (const [name, body] of stopped) {
        const put = await send({ method: 'PUT', url: '/v1/policies/hostile-run', headers: yaml, payload: scriptDoc('hostile-run', body) });
        t.equal(put.status === 201 || put.status === 200, true, `${name} stored: ${put.body.slice(0, 200)}`);
        const started = performance.now();
        const check = await send({ method: 'POST', url: '/v1/check', payload: { subject: { id: 'u', roles: ['viewer'] }, policy: 'hostile-run' } });
        const ms = performance.now() - started;
        t.ok(check.status === 200 || check.status === 400, `${name}: check answers ${check.status}`);
        if (check.status === 200)
            t.equal(check.json().allowed, false, `${name} is not allowed`);
        else
            t.equal(check.json().code, 'SCRIPT_RESULT_INVALID');
        t.ok(check.body.length < 4000, `${name}: the answer stays small`);
        t.ok(ms < 2000, `${name} stopped in ${ms.toFixed(0)} ms`);
        // In a namespace path the failed script denies everything after it (onError: deny).
        const ev = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', roles: ['viewer'] }, namespace: 'hostile' } });
        t.equal(ev.status, 200, `${name}: ${ev.body.slice(0, 300)}`);
        const result = ev.json();
        if (result.conditionErrors) {
            t.same(result.permissions, [], `${name}: a failed script grants nothing and blocks the rest`);
        }
        else {
            // A boolean result applies no effects: only the base grant remains.
            t.same(result.permissions, ['doc:read'], `${name}: only the base grant`);
        }
    }
});
t.test('the server answers a known evaluation correctly afterwards', async (t) => {
    t.equal((await send({ method: 'DELETE', url: '/v1/policies/hostile-run' })).status, 204);
    const ev = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'hostile' } });
    t.same(ev.json().permissions, ['doc:read']);
    const health = await send({ method: 'GET', url: '/healthz' });
    t.equal(health.status, 200);
});
