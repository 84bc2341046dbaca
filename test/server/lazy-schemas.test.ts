// Route schemas compiled on first use (src/server/lazy-schemas.ts): nothing is compiled
// while the app starts, a route's validator compiles on its first request and then answers
// as ajv does (errors, defaults), and a headers schema must use lower-case keys.

import t from 'tap';
import Fastify from 'fastify';
import { lazyCompilersFactory, lazyValidator } from '../../src/server/lazy-schemas.js';

t.test('a validator compiles on its first call and reads the compiled errors', async (t) => {
  let compiles = 0;
  const real = Object.assign((data: unknown) => {
    real.errors = typeof data === 'number' ? null : [{ message: 'must be number' }];
    return typeof data === 'number';
  }, { errors: null as unknown, schemaEnv: { tag: 'env' } });
  const v = lazyValidator(() => { compiles++; return real; });
  t.equal(compiles, 0, 'not compiled when made');
  t.equal(v('x'), false);
  t.same(v.errors, [{ message: 'must be number' }], 'errors of the compiled function');
  t.equal(v(1), true);
  t.equal(v.errors, null);
  t.same(v.schemaEnv, { tag: 'env' });
  t.equal(compiles, 1, 'compiled once');
});

t.test('fastify with the lazy compilers: same validation, compiled per route on first request', async (t) => {
  const app = Fastify({
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: false, useDefaults: true } },
    schemaController: { compilersFactory: lazyCompilersFactory() as never },
  });
  t.teardown(() => app.close());
  const body = { type: 'object', required: ['n'], properties: { n: { type: 'number' }, d: { type: 'string', default: 'x' } }, additionalProperties: false };
  const response = { 200: { type: 'object', properties: { n: { type: 'number' }, d: { type: 'string' } } } };
  app.post('/a', { schema: { body, response, headers: { type: 'object', properties: { 'if-match': { type: 'string', maxLength: 3 } } } } }, async (req) => ({ ...(req.body as object), secret: 1 }));
  await app.ready();
  const ok = await app.inject({ method: 'POST', url: '/a', payload: { n: 1 } });
  t.equal(ok.statusCode, 200);
  t.same(ok.json(), { n: 1, d: 'x' }, 'defaults applied and the response serialized by its schema (no extra key)');
  const bad = await app.inject({ method: 'POST', url: '/a', payload: { n: 'one' } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().message, /body\/n must be number/);
  const header = await app.inject({ method: 'POST', url: '/a', payload: { n: 1 }, headers: { 'If-Match': 'toolong' } });
  t.equal(header.statusCode, 400, 'a header checked by its lower-case key');
  t.match(header.json().message, /headers\/if-match/);
});

t.test('a headers schema with an upper-case key is refused at start', async (t) => {
  const app = Fastify({ schemaController: { compilersFactory: lazyCompilersFactory() as never } });
  t.teardown(() => app.close());
  app.get('/b', { schema: { headers: { type: 'object', properties: { 'If-Match': { type: 'string' } } } } }, async () => 'b');
  await t.rejects(async () => { await app.ready(); }, /must be lower case/);
});
