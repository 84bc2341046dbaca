// The relationship state in /readyz and /metrics: loaded, its revision and how many
// tuples this replica holds, moving with writes.
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { exampleSchema, exampleTuples } from './example.js';
t.test('/readyz and /metrics report the relationship state', async (t) => {
    const { app } = await testApp(t);
    const ready = async () => (await app.inject({ method: 'GET', url: '/readyz' })).json();
    const before = await ready();
    t.equal(before.status, 'ready');
    t.match(before.relations, { loaded: true, tuples: 0 });
    t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema })).statusCode, 200);
    const w = await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } });
    t.equal(w.statusCode, 200);
    const after = await ready();
    t.equal(after.relations.tuples, exampleTuples.length);
    t.equal(after.relations.revision, w.json().revision);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    t.match(metrics, new RegExp(`\\npolicy_engine_relation_tuples ${exampleTuples.length}\\n`));
    t.match(metrics, /\npolicy_engine_relations_loaded 1\n/);
    t.match(metrics, new RegExp(`\\npolicy_engine_relations_revision ${after.relations.revision}\\n`));
});
