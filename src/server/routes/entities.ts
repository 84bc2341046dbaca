// The directory (SPEC §12): PUT / GET / DELETE /v1/entities/:ref, GET /v1/entities
// (type filter, cursor), POST /v1/entities (bulk import: a JSON array or a YAML stream,
// all validated before any is written). ETag / If-Match / If-None-Match as for policies.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EntityService } from '../../engine/entity-service.js';
import type { EntityPreconditions } from '../../store/entity-store.js';
import { parseText, type ParseLimits } from '../../core/document/parse.js';
import { bodyFormat, keepBodiesAsText } from '../content.js';
import { errorResponse } from '../schemas/evaluate.js';
import { PolicyEngineError } from '../../errors.js';

const errors = { '4xx': errorResponse, '5xx': errorResponse };
const tags = ['directory'];
const adminSecurity = [{ adminToken: [] }];
const refParams = { type: 'object', required: ['ref'], properties: { ref: { type: 'string', maxLength: 400 } } } as const;
const writeHeaders = {
  type: 'object',
  properties: { 'if-match': { type: 'string', maxLength: 1024 }, 'if-none-match': { type: 'string', maxLength: 1024 } },
} as const;
const entity = {
  type: 'object',
  properties: {
    ref: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    groups: { type: 'array', items: { type: 'string' } },
    attributes: { type: 'object', additionalProperties: true },
    etag: { type: 'string' },
    revision: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

function preconditionsOf(request: FastifyRequest): EntityPreconditions {
  const ifMatch = request.headers['if-match'];
  const ifNoneMatch = request.headers['if-none-match'];
  const opts: EntityPreconditions = {};
  if (typeof ifMatch === 'string') opts.ifMatch = ifMatch;
  if (typeof ifNoneMatch === 'string') {
    if (ifNoneMatch.trim() !== '*') throw new PolicyEngineError('REQUEST_INVALID', 'writes accept only If-None-Match: *');
    opts.ifNoneMatch = true;
  }
  return opts;
}

export function entityRoutes(app: FastifyInstance, service: EntityService, guardWrite: (r: FastifyRequest) => Promise<void>, parseLimits: ParseLimits): void {
  app.register(async (scope) => {
    keepBodiesAsText(scope);

    scope.put('/v1/entities/:ref', {
      preHandler: guardWrite,
      schema: {
        tags, security: adminSecurity,
        summary: 'Create or replace the stored roles, groups and attributes of a subject or resource',
        description: 'Body `{ "roles"?, "groups"?, "attributes"? }` as JSON or YAML; `ref` is `type:id` (`user:alice`, `record:101`). 201 created, 200 replaced; `If-Match` → 412 on a stale version, `If-None-Match: *` → 412 when it exists.',
        params: refParams, headers: writeHeaders, response: { 200: entity, 201: entity, ...errors },
      },
    }, async (request, reply) => {
      const { ref } = request.params as { ref: string };
      const { text, format } = bodyFormat(request);
      const parsed = parseText(text, format, parseLimits);
      if (!parsed.ok) throw new PolicyEngineError('BODY_MALFORMED', parsed.errors.map((e) => e.message).join('; ').slice(0, 500));
      const r = await service.put(ref, parsed.documents[0]?.value, preconditionsOf(request));
      reply.code(r.created ? 201 : 200).header('etag', r.entity.etag);
      if (r.created) reply.header('location', `/v1/entities/${encodeURIComponent(ref)}`);
      return r.entity;
    });

    scope.get('/v1/entities/:ref', {
      schema: {
        tags, summary: 'Read a stored entity', description: '`If-None-Match` with its ETag → 304.',
        params: refParams, response: { 200: entity, ...errors },
      },
    }, async (request, reply) => {
      const { ref } = request.params as { ref: string };
      const e = await service.get(ref);
      const inm = request.headers['if-none-match'];
      if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === e.etag)) {
        return reply.code(304).header('etag', e.etag).send();
      }
      reply.header('etag', e.etag).header('last-modified', new Date(e.updatedAt).toUTCString());
      return e;
    });

    scope.get('/v1/entities', {
      schema: {
        tags, summary: 'List stored entities by ref, paginated',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string', maxLength: 100 },
            cursor: { type: 'string', maxLength: 400 },
            limit: { type: 'string', pattern: '^(?:[1-9]\\d{0,1}|[1-4]\\d{2}|500)$' },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: entity }, cursor: { type: ['string', 'null'] } } }, ...errors },
      },
    }, async (request) => {
      const q = request.query as { type?: string; cursor?: string; limit?: string };
      return service.list(q.type, q.cursor, q.limit === undefined ? 50 : Number(q.limit));
    });

    scope.delete('/v1/entities/:ref', {
      preHandler: guardWrite,
      schema: {
        tags, security: adminSecurity, summary: 'Delete a stored entity',
        params: refParams, headers: writeHeaders, response: { 204: { description: 'deleted', type: 'null' }, ...errors },
      },
    }, async (request, reply) => {
      const { ref } = request.params as { ref: string };
      await service.delete(ref, preconditionsOf(request));
      return reply.code(204).send();
    });

    scope.post('/v1/entities', {
      preHandler: guardWrite,
      schema: {
        tags, security: adminSecurity,
        summary: 'Bulk import entities',
        description: 'A JSON array or a YAML stream of `{ "ref", "roles"?, "groups"?, "attributes"? }` (at most 1,000); every one is validated before any is written, then all are written in one revision.',
        response: {
          200: { type: 'object', properties: { created: { type: 'integer' }, replaced: { type: 'integer' }, refs: { type: 'array', items: { type: 'string' } }, revision: { type: 'string' } } },
          ...errors,
        },
      },
    }, async (request) => {
      const { text, format } = bodyFormat(request);
      return service.import(text, format);
    });
  });
}
