// GET /openapi.json is an OpenAPI 3 document generated from the route schemas, listing
// every route the app serves; GET /docs is the swagger-ui page.

import t, { type Test } from 'tap';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { testApp } from '../helpers/app.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

/** Just enough of the OpenAPI 3.0 document schema to catch a malformed document. */
const documentSchema = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.0\\.\\d+$' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: [...METHODS, 'parameters', 'summary', 'description', 'servers'] },
        additionalProperties: {
          type: 'object',
          required: ['responses'],
          properties: {
            responses: {
              type: 'object',
              minProperties: 1,
              propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' },
              additionalProperties: { type: 'object', required: ['description'] },
            },
            parameters: {
              type: 'array',
              items: { type: 'object', required: ['name', 'in'], properties: { in: { enum: ['query', 'header', 'path', 'cookie'] } } },
            },
            requestBody: { type: 'object', required: ['content'] },
            tags: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

/** Every (METHOD, path) the app serves, read from fastify's route tree. */
function servedRoutes(app: FastifyInstance): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of m[3]!.split(', ')) out.push({ method, path });
  }
  return out;
}

/** `:key` → `{key}`; a trailing wildcard (`…/*`, printed by fastify as `…*`) → `/{*}`, as swagger writes it. */
function toOpenApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}').replace(/\/?\*$/, '/{*}');
}

/** Every `$ref` in the document points at something in it. */
function checkRefs(t: Test, doc: unknown): void {
  const resolve = (ref: string) => ref.slice(2).split('/').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') t.ok(v.startsWith('#/') && resolve(v) !== undefined, `$ref ${v} resolves`);
      else walk(v);
    }
  };
  walk(doc);
}

t.test('/openapi.json is a valid OpenAPI 3 document listing every route', async (t) => {
  const { app } = await testApp(t);
  const r = await app.inject({ method: 'GET', url: '/openapi.json' });
  t.equal(r.statusCode, 200);
  t.match(r.headers['content-type'], /^application\/json/);
  const doc = r.json();

  const ajv = new Ajv({ allErrors: true, strict: false });
  const valid = ajv.validate(documentSchema, doc);
  t.ok(valid, JSON.stringify(ajv.errors));
  checkRefs(t, doc);

  // Every route the app serves is documented, but for the documentation's own.
  const served = servedRoutes(app).filter((r) => r.method !== 'HEAD' && !r.path.startsWith('/docs') && r.path !== '/openapi.json');
  t.ok(served.length >= 10, `${served.length} routes`);
  for (const { method, path } of served) {
    const op = doc.paths[toOpenApiPath(path)]?.[method.toLowerCase()];
    t.ok(op, `${method} ${path} is documented`);
    if (op) {
      t.ok(op.tags?.length > 0, `${method} ${path} is tagged`);
      t.type(op.summary, 'string', `${method} ${path} has a summary`);
    }
  }
  // …and nothing else is.
  const servedKeys = new Set(served.map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`));
  for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
    for (const method of Object.keys(item).filter((m) => METHODS.includes(m))) t.ok(servedKeys.has(`${method} ${path}`), `${method} ${path} is served`);
  }

  // Request and response schemas are compilable JSON Schemas.
  for (const item of Object.values(doc.paths as Record<string, Record<string, { requestBody?: { content: object }; responses: Record<string, { content?: object }> }>>)) {
    for (const op of Object.values(item)) {
      for (const media of [...Object.values(op.requestBody?.content ?? {}), ...Object.values(op.responses).flatMap((x) => Object.values(x.content ?? {}))]) {
        const schema = (media as { schema?: object }).schema;
        if (schema) t.doesNotThrow(() => ajv.compile(schema));
      }
    }
  }

  // The parts a caller needs most.
  t.ok(doc.paths['/v1/evaluate'].post.requestBody.content['application/json'].schema.properties.namespace);
  t.ok(doc.paths['/v1/policies/{key}'].put.requestBody.content['application/yaml'], 'policy writes take YAML');
  t.same(doc.paths['/v1/policies/{key}'].put.security, [{ adminToken: [] }]);
  t.equal(doc.components.securitySchemes.adminToken.scheme, 'bearer');
  t.ok(doc.paths['/metrics'].get.responses['200'].content['text/plain']);
});

t.test('/docs answers the swagger-ui page', async (t) => {
  const { app } = await testApp(t);
  const page = await app.inject({ method: 'GET', url: '/docs' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, /<html/i);
  t.match(page.body, /swagger/i);
  const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  t.equal(init.statusCode, 200);
  const json = await app.inject({ method: 'GET', url: '/docs/json' });
  t.same(json.json(), (await app.inject({ method: 'GET', url: '/openapi.json' })).json());
});

t.test('with STORE=none the refusing policy routes stay out of the document', async (t) => {
  const { app } = await testApp(t, { store: 'none' });
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
  t.ok(doc.paths['/v1/evaluate']);
  t.notOk(Object.keys(doc.paths).some((p) => p.startsWith('/v1/policies') || p === '/v1/validate'));
});
