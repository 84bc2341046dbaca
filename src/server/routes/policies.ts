// The policy REST API (SPEC §5): PUT/GET/DELETE /v1/policies/:key, GET /v1/policies,
// POST /v1/policies (bulk import), POST /v1/validate. Bodies are JSON or YAML text.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type * as YamlModule from 'js-yaml';
import { lazyPackage } from '../../core/lazy-package.js';
import type { PolicyService } from '../../engine/policy-service.js';
import type { PolicyRecord, WriteOptions } from '../../store/store.js';
import { acceptedFormat, bodyFormat, keepBodiesAsText } from '../content.js';
import { errorResponse } from '../schemas/evaluate.js';
import { PolicyEngineError } from '../../errors.js';
import { accessOf } from '../admin-auth.js';

const jsYaml = lazyPackage<typeof YamlModule>('js-yaml');

const errors = { '4xx': errorResponse, '5xx': errorResponse };
const tags = ['policies'];
/** OpenAPI only: write routes take the admin bearer token when ADMIN_TOKEN is set. */
const adminSecurity = [{ adminToken: [] }];
const keyParams = { type: 'object', required: ['key'], properties: { key: { type: 'string', maxLength: 1024 } } } as const;
const writeHeaders = {
  type: 'object',
  properties: { 'if-match': { type: 'string', maxLength: 1024 }, 'if-none-match': { type: 'string', maxLength: 1024 } },
} as const;
const writeResult = {
  type: 'object',
  properties: {
    key: { type: 'string' }, namespace: { type: 'string' }, etag: { type: 'string' },
    created: { type: 'boolean' }, revision: { type: 'string' }, updatedAt: { type: 'string' },
  },
} as const;
const summary = {
  type: 'object',
  properties: {
    key: { type: 'string' }, namespace: { type: 'string' }, ordinal: { type: ['number', 'null'] },
    disabled: { type: 'boolean' }, format: { type: 'string' }, etag: { type: 'string' }, updatedAt: { type: 'string' },
    document: { type: 'object', additionalProperties: true },
  },
} as const;

function writeOptions(request: FastifyRequest): WriteOptions {
  const ifMatch = request.headers['if-match'];
  const ifNoneMatch = request.headers['if-none-match'];
  const opts: WriteOptions = {};
  if (typeof ifMatch === 'string') opts.ifMatch = ifMatch;
  if (typeof ifNoneMatch === 'string') {
    if (ifNoneMatch.trim() !== '*') throw new PolicyEngineError('REQUEST_INVALID', 'writes accept only If-None-Match: *');
    opts.ifNoneMatch = true;
  }
  return opts;
}

/** The stored text when it is in the wanted format, else the parsed document re-rendered. */
function render(record: PolicyRecord, format: 'json' | 'yaml'): string {
  if (record.format === format) return record.text;
  return format === 'yaml' ? jsYaml().dump(record.document, { noRefs: true, lineWidth: 120 }) : JSON.stringify(record.document, null, 2);
}

function sendDocument(reply: FastifyReply, record: PolicyRecord, format: 'json' | 'yaml'): FastifyReply {
  return reply
    .header('etag', record.etag)
    .header('last-modified', new Date(record.updatedAt).toUTCString())
    .header('vary', 'Accept')
    .type(format === 'yaml' ? 'application/yaml; charset=utf-8' : 'application/json; charset=utf-8')
    .send(render(record, format));
}

export function policyRoutes(app: FastifyInstance, service: PolicyService, guardWrite: (r: FastifyRequest) => Promise<void>): void {
  app.register(async (scope) => {
    keepBodiesAsText(scope);

    scope.put('/v1/policies/:key', {
      preHandler: guardWrite,
      schema: {
        tags, security: adminSecurity,
        summary: 'Create or replace a policy document',
        description: 'Body `application/json` or `application/yaml` (the text is stored as sent). 201 created, 200 replaced; `If-Match` → 412 on a stale version; 422 lists every validation error; 409 ROUTES_CONFLICT when a `kind: routes` document duplicates a route of the route file or another stored route document.',
        params: keyParams, headers: writeHeaders, response: { 200: writeResult, 201: writeResult, ...errors },
      },
    }, async (request, reply) => {
      const { key } = request.params as { key: string };
      const { text, format } = bodyFormat(request);
      const r = await service.put(key, text, format, writeOptions(request), accessOf(request));
      reply.code(r.created ? 201 : 200).header('etag', r.record.etag);
      if (r.created) reply.header('location', `/v1/policies/${encodeURIComponent(key)}`);
      return { key, namespace: r.record.namespace, etag: r.record.etag, created: r.created, revision: r.revision, updatedAt: r.record.updatedAt };
    });

    scope.get('/v1/policies/:key', {
      schema: {
        tags, summary: 'Read a policy document',
        description: '`Accept: application/yaml` gives YAML (the original text when it was written in YAML); `If-None-Match` → 304.',
        produces: ['application/json', 'application/yaml'],
        params: keyParams, response: { 200: { description: 'the document', type: 'string' }, ...errors },
      },
    }, async (request, reply) => {
      const { key } = request.params as { key: string };
      const format = acceptedFormat(request.headers.accept);
      const record = await service.get(key, accessOf(request));
      const inm = request.headers['if-none-match'];
      if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === record.etag)) {
        return reply.code(304).header('etag', record.etag).send();
      }
      return sendDocument(reply, record, format);
    });

    scope.get('/v1/policies', {
      schema: {
        tags, summary: 'List policy documents, by key, paginated',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            namespace: { type: 'string', maxLength: 4096 },
            cursor: { type: 'string', maxLength: 1024 },
            // Bodies are never type-coerced, so numbers in the query arrive as strings.
            limit: { type: 'string', pattern: '^(?:[1-9]\\d{0,1}|[1-4]\\d{2}|500)$' },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: summary }, cursor: { type: ['string', 'null'] } } }, ...errors },
      },
    }, async (request) => {
      const q = request.query as { namespace?: string; cursor?: string; limit?: string };
      const page = await service.list(q.namespace, q.cursor, q.limit === undefined ? 50 : Number(q.limit), accessOf(request));
      return {
        items: page.records.map((r) => ({
          key: r.key, namespace: r.namespace, ordinal: r.ordinal, disabled: r.disabled, format: r.format,
          etag: r.etag, updatedAt: r.updatedAt, document: r.document,
        })),
        cursor: page.next ?? null,
      };
    });

    scope.delete('/v1/policies/:key', {
      preHandler: guardWrite,
      schema: {
        tags, security: adminSecurity, summary: 'Delete a policy document',
        params: keyParams, headers: writeHeaders, response: { 204: { description: 'deleted', type: 'null' }, ...errors },
      },
    }, async (request, reply) => {
      const { key } = request.params as { key: string };
      await service.delete(key, writeOptions(request), accessOf(request));
      return reply.code(204).send();
    });

    scope.post('/v1/policies', {
      preHandler: guardWrite,
      schema: {
        tags, security: adminSecurity,
        summary: 'Bulk import policy documents',
        description: 'A JSON array or a multi-document YAML stream; every document is validated before any is written.',
        response: {
          200: { type: 'object', properties: { created: { type: 'integer' }, replaced: { type: 'integer' }, keys: { type: 'array', items: { type: 'string' } }, revision: { type: 'string' } } },
          ...errors,
        },
      },
    }, async (request) => {
      const { text, format } = bodyFormat(request);
      return service.import(text, format, accessOf(request));
    });

    scope.post('/v1/validate', {
      schema: {
        tags, summary: 'Validate and compile documents without storing them',
        response: {
          200: {
            type: 'object',
            properties: {
              valid: { type: 'boolean' },
              documents: { type: 'integer' },
              errors: {
                type: 'array',
                items: { type: 'object', properties: { document: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' } } },
              },
              warnings: {
                type: 'array',
                description: 'not errors: message keys without a text in a MESSAGE_LANGUAGES language, placeholders no param fills, catalogue entries no rule uses',
                items: { type: 'object', properties: { type: { type: 'string' }, document: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } } },
              },
            },
          },
          ...errors,
        },
      },
    }, async (request) => {
      const { text, format } = bodyFormat(request);
      return service.validate(text, format);
    });
  });
}
