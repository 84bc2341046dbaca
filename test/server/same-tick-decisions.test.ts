// The decision handlers are not async (src/server/routes/decisions.ts afterInlineLua,
// relations.ts check): an answer from memory is sent in the same tick. Each branch is
// exercised here: the one that waits for the Lua VM (inline policies with Lua, in a
// process where the VM has not loaded yet), the same-tick answer, and errors thrown in
// the same tick, which must still reach the error handler as a clear 4xx.

import t from 'tap';
import { testApp } from '../helpers/app.js';
import { isLuaReady } from '../../src/core/lua/sandbox.js';

const subject = { id: 'user:ana', roles: ['editor'] };
const inlineLua = {
  key: 'inline-lua',
  rules: [{ subjects: ['*'], lua: 'for _, r in ipairs(subject.roles) do if r == "editor" then return true end end return false', grant: ['document:read'] }],
};

t.test('inline Lua waits for the VM; other requests answer in the same tick; errors stay 4xx', async (t) => {
  const { app } = await testApp(t);
  t.notOk(isLuaReady(), 'the VM has not loaded in this process yet');
  const lua = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject, policies: [inlineLua] } });
  t.equal(lua.statusCode, 200, lua.body);
  t.same(lua.json().permissions, ['document:read'], 'the Lua rule ran: the handler waited for the VM');
  t.ok(isLuaReady());
  const check = await app.inject({ method: 'POST', url: '/v1/check', payload: { subject, policies: [inlineLua], permission: 'document:read' } });
  t.equal(check.json().allowed, true, '/v1/check with inline Lua, the VM loaded');

  const plain = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject, namespace: 'global' } });
  t.equal(plain.statusCode, 200, 'same tick: answered');
  t.match(plain.headers['x-decision-id'], /^[0-9a-f-]{36}$/);
  t.equal(plain.json().decisionId, plain.headers['x-decision-id']);

  const badPermission = await app.inject({ method: 'POST', url: '/v1/check', payload: { subject, namespace: 'global', permission: 'document:*' } });
  t.equal(badPermission.statusCode, 400, 'an error thrown in the same tick reaches the error handler');
  t.equal(badPermission.json().code, 'PERMISSION_INVALID');

  const badRef = await app.inject({ method: 'POST', url: '/v1/relations/check', payload: { resource: 'document', permission: 'read', subject: 'user:ana' } });
  t.equal(badRef.statusCode, 400, 'relationship check: a bad reference, thrown in the same tick');
  t.equal(badRef.json().code, 'RELATION_INVALID');
  const badRevision = await app.inject({ method: 'POST', url: '/v1/relations/check', payload: { resource: 'document:a', permission: 'read', subject: 'user:ana', consistency: { atLeast: 'soon' } } });
  t.equal(badRevision.json().code, 'RELATION_INVALID', 'a bad revision is refused before any wait');

  const schema = await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: 'user: {}\ndocument:\n  relations: { reader: [user] }\n  permissions: { read: reader }\n' });
  t.equal(schema.statusCode, 200, schema.body);
  const write = await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: ['document:a#reader@user:ana'] } });
  const { revision } = write.json() as { revision: string };
  for (const consistency of [undefined, { atLeast: revision }, { fullyConsistent: true }]) {
    const r = await app.inject({ method: 'POST', url: '/v1/relations/check', payload: { resource: 'document:a', permission: 'read', subject: 'user:ana', ...(consistency ? { consistency } : {}) } });
    t.same({ status: r.statusCode, allowed: r.json().allowed, revision: r.json().revision }, { status: 200, allowed: true, revision }, `check, consistency ${JSON.stringify(consistency)}`);
  }
});
