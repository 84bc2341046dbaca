// The relationship API suite twice: in memory through inject(), and on MongoDB
// (FerretDB unless MONGO_URL says otherwise) through real HTTP on a loopback port.
import t from 'tap';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { testApp } from '../helpers/app.js';
import { httpSender, injectSender } from '../helpers/http.js';
import { testMongo } from '../helpers/mongo.js';
import { relationsApiSuite } from './api-suite.js';
t.test('memory store, inject', async (t) => {
    const { app } = await testApp(t);
    await relationsApiSuite(t, injectSender(app));
});
t.test('MongoDB store, real HTTP', async (t) => {
    const { url } = await testMongo(t);
    const { app } = await testApp(t, { store: new MongoStore({ url }), env: { MONGO_URL: url } });
    await relationsApiSuite(t, await httpSender(app));
});
t.test('STORE=none: the relationship routes refuse', async (t) => {
    const { app } = await testApp(t, { store: 'none' });
    const r = await app.inject({ method: 'POST', url: '/v1/relations/check', payload: { resource: 'a:b', permission: 'c', subject: 'd:e' } });
    t.equal(r.statusCode, 400);
    t.equal(r.json().code, 'RELATIONS_DISABLED');
});
