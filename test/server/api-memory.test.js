// The API suite against the in-memory store, through inject().
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { injectSender } from '../helpers/http.js';
import { apiSuite } from './api-suite.js';
const { app } = await testApp(t);
await apiSuite(t, injectSender(app));
