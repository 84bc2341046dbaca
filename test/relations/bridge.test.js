// The bridge from namespace policies to relationships: `related(resource, permission)`
// (and `related(subject, resource, permission)`) in a rule's `when`. A tuple write must
// change the next decision at once (the decision cache keys such paths on the
// relationship revision), and without a relationship engine the rule never applies.
import t from 'tap';
import { compileCondition } from '../../src/core/condition/compile-condition.js';
import { testApp, putYaml, evaluate } from '../helpers/app.js';
import { exampleSchema, exampleTuples } from './example.js';
const POLICY = `key: global-docs
rules:
  - id: editors-write
    subjects: ["*"]
    when: 'related("document:" + resource.id, "write")'
    grant: ["document:write"]
  - id: readers-read
    subjects: ["*"]
    when: 'related(subject.id, "document:" + resource.id, "read")'
    grant: ["document:read"]
`;
const ask = (subject, doc) => ({ subject, namespace: 'global', resource: { type: 'document', id: doc } });
t.test('conditions that call related() are marked, so their cache entries key on the revision', async (t) => {
    const withCall = compileCondition('resource.id != "" && related("document:" + resource.id, "write")', []);
    const without = compileCondition('resource.id != ""', []);
    t.ok(withCall.ok && withCall.condition.reads.relations);
    t.notOk(without.ok && without.condition.reads.relations);
    const typed = compileCondition('related(1, "write")', []);
    t.notOk(typed.ok, 'arguments must be strings');
});
t.test('related() in a policy follows tuple writes at once', async (t) => {
    const { app } = await testApp(t);
    t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema })).statusCode, 200);
    t.equal((await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } })).statusCode, 200);
    await putYaml(t, app, 'global-docs', POLICY);
    const bob = await evaluate(app, ask('user:bob', 'draft'));
    t.equal(bob.status, 200, JSON.stringify(bob.json));
    t.same(bob.json.permissions, ['document:read', 'document:write'], 'bob edits the parent of draft');
    t.equal((await evaluate(app, ask('user:bob', 'draft'))).json.cached, true, 'the same question at the same revision is a cache hit');
    t.same((await evaluate(app, ask('user:alice', 'draft'))).json.permissions, ['document:read']);
    t.same((await evaluate(app, ask('user:zed', 'draft'))).json.permissions, []);
    const del = await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { deletes: ['document:specs#editor@user:bob'] } });
    t.equal(del.statusCode, 200);
    const after = await evaluate(app, ask('user:bob', 'draft'));
    t.same(after.json.permissions, ['document:read'], 'the tuple delete shows in the very next decision');
    t.equal(after.json.cached, false);
    // Unknown names make the condition fail, so the rule does not apply (fail closed).
    await putYaml(t, app, 'global-docs', POLICY.replace('"write")', '"wrte")'));
    t.same((await evaluate(app, ask('user:erin', 'draft'))).json.permissions, ['document:read']);
});
t.test('without a relationship engine, related() fails closed', async (t) => {
    const { app } = await testApp(t, { store: 'none' });
    const r = await evaluate(app, { subject: 'user:bob', policies: [POLICY], resource: { type: 'document', id: 'draft' } });
    t.equal(r.status, 200, JSON.stringify(r.json));
    t.same(r.json.permissions, [], 'no rule applies');
});
