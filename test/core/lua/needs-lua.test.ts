// mayNeedLua decides whether the Lua VM must be loaded before compiling what was received:
// it may answer yes for nothing, never no for Lua.
import t from 'tap';
import { mayNeedLua } from '../../../src/core/lua/needs-lua.js';

t.test('documents and texts that hold Lua', async (t) => {
  t.ok(mayNeedLua({ key: 'org-x', kind: 'lua', script: 'function can_execute() return true end' }), 'a Lua document');
  t.ok(mayNeedLua({ key: 'org-x', rules: [{ subjects: ['*'], lua: 'return true' }] }), 'a rule chunk');
  t.ok(mayNeedLua([{ key: 'a', rules: [] }, { key: 'b', kind: 'Lua' }]), 'in a list, in any case');
  t.ok(mayNeedLua('key: org-x\nkind: lua\nscript: |\n  function can_execute() end\n'), 'YAML text');
  t.ok(mayNeedLua('{"key":"org-x","rules":[{"subjects":["*"],"lua":"return true"}]}'), 'JSON text');
  t.ok(mayNeedLua('{"key":"org-x","kind":"\\u006cua"}'), 'an escape that could spell it');
  t.ok(mayNeedLua({ policies: [{ key: 'x', rules: [{ subjects: ['*'], lua: 'return 1' }] }] }), 'nested');
  let deep: unknown = { lua: 1 };
  for (let i = 0; i < 100; i++) deep = { a: deep };
  t.ok(mayNeedLua(deep), 'deeper than any document: yes');
});

t.test('documents without Lua', async (t) => {
  t.notOk(mayNeedLua({ key: 'org-x', rules: [{ subjects: ['role:editor'], grant: ['document:read'] }] }));
  t.notOk(mayNeedLua('key: org-x\nrules:\n  - subjects: ["role:editor"]\n    grant: [document:evaluate]\n'), '"evaluate" is not the word');
  t.notOk(mayNeedLua({ subject: { id: 'user:luana' }, namespace: 'global' }));
  t.notOk(mayNeedLua(undefined));
  t.notOk(mayNeedLua(42));
});
