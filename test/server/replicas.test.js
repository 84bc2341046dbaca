// Two service instances on one database (SPEC §4): a write through one changes the
// other's answers within the propagation bound, cached entries included; If-Match
// writers racing on the two instances: exactly one wins per version.
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { httpSender } from '../helpers/http.js';
import { testMongo } from '../helpers/mongo.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
const mongo = await testMongo(t);
// Default poll interval (1 s): the bound we document is 2 s.
const a = await testApp(t, { store: new MongoStore({ url: mongo.url }), env: { POLL_INTERVAL_MS: '1000' } });
const b = await testApp(t, { store: new MongoStore({ url: mongo.url }), env: { POLL_INTERVAL_MS: '1000' } });
const sendA = await httpSender(a.app);
const sendB = await httpSender(b.app);
const yaml = (grant) => `key: global-base\nrules:\n  - subjects: ["*"]\n    grant: ["${grant}"]\n`;
const put = (send, grant, headers = {}) => send({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml', ...headers }, payload: yaml(grant) });
const permissions = async (send) => {
    const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'user:alice', namespace: 'global.org' } });
    t.equal(r.status, 200, r.body);
    return r.json();
};
async function waitFor(send, want, boundMs) {
    const start = Date.now();
    for (;;) {
        const got = await permissions(send);
        if (JSON.stringify(got.permissions) === JSON.stringify(want))
            return Date.now() - start;
        if (Date.now() - start > boundMs)
            throw new Error(`not visible within ${boundMs} ms: ${JSON.stringify(got)}`);
        await new Promise((r) => setTimeout(r, 25));
    }
}
t.test('a write on A is visible on B within 2 s, through B\'s cache', async (t) => {
    t.equal((await put(sendA, 'doc:read')).status, 201);
    await waitFor(sendB, ['doc:read'], 2000);
    t.equal((await permissions(sendB)).cached, true, 'B now answers from its cache');
    const times = [];
    for (const grant of ['doc:write', 'doc:*', 'report:read']) {
        t.equal((await put(sendA, grant)).status, 200);
        t.same((await permissions(sendA)).permissions, [grant], 'A sees its own write at once');
        times.push(await waitFor(sendB, [grant], 2000));
    }
    t.comment(`propagation A → B: ${times.join(', ')} ms`);
    const del = await sendB({ method: 'DELETE', url: '/v1/policies/global-base' });
    t.equal(del.status, 204);
    await waitFor(sendA, ['*'], 2000);
});
t.test('If-Match writers racing on two instances: exactly one wins per version', async (t) => {
    const created = await put(sendA, 'race:0');
    t.equal(created.status, 201);
    let etag = created.headers.etag;
    for (let round = 1; round <= 5; round++) {
        const results = await Promise.all([
            put(sendA, `race:a${round}`, { 'if-match': etag }),
            put(sendB, `race:b${round}`, { 'if-match': etag }),
            put(sendA, `race:c${round}`, { 'if-match': etag }),
            put(sendB, `race:d${round}`, { 'if-match': etag }),
        ]);
        const winners = results.filter((r) => r.status === 200);
        t.equal(winners.length, 1, `round ${round}: one winner (${results.map((r) => r.status).join(',')})`);
        t.ok(results.every((r) => r.status === 200 || r.status === 412));
        const stored = await sendB({ method: 'GET', url: '/v1/policies/global-base' });
        t.equal(stored.headers.etag, winners[0].headers.etag, 'the stored version is the winner\'s');
        etag = stored.headers.etag;
    }
});
