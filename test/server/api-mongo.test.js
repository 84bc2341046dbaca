// The API suite over real HTTP against a MongoDB-compatible server (FerretDB unless
// MONGO_URL points at a real MongoDB).
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { httpSender } from '../helpers/http.js';
import { testMongo } from '../helpers/mongo.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { apiSuite } from './api-suite.js';
const mongo = await testMongo(t);
const { app } = await testApp(t, { store: new MongoStore({ url: mongo.url }) });
await apiSuite(t, await httpSender(app));
