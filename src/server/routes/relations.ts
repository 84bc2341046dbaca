// The relationship API (SPEC §9): the schema (JSON or YAML text), writes, reads, check
// and both lookups. Transport only: the service validates and answers. Without a
// relationship store (STORE=none) every route answers RELATIONS_DISABLED.

import { accessOf } from '../admin-auth.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type * as YamlModule from 'js-yaml';
import { lazyPackage } from '../../core/lazy-package.js';
import { PolicyEngineError } from '../../errors.js';
import { acceptedFormat, bodyFormat, keepBodiesAsText } from '../content.js';
import { errorResponse } from '../schemas/evaluate.js';
import type {
  CheckRequest, LookupResourcesRequest, LookupSubjectsRequest, RelationService, WriteRequest,
} from '../../engine/relation-service.js';
import {
  checkBody, checkResult, lookupResourcesBody, lookupResourcesResult, lookupSubjectsBody, lookupSubjectsResult,
  readQuery, readResult, revisionResult, writeBody,
} from '../schemas/relations.js';
import type { DecisionLog } from '../../observability/decision-log.js';
import { loggedDecision, resourceOfRef } from './decision-line.js';
import type { JwtSubjects } from '../../engine/tokens/jwt-subjects.js';
import { RELATION_SUBJECT, subjectFromToken } from '../token-subject.js';

const jsYaml = lazyPackage<typeof YamlModule>('js-yaml');

const errors = { '4xx': errorResponse, '5xx': errorResponse };
const tags = ['relationships'];
const adminSecurity = [{ adminToken: [] }];

/**
 * `log`: the decision log, one line per relationship check (docs/decision-logs.md);
 * `tokens`: JWT subjects, which the check and lookup-resources are about (docs/jwt.md).
 */
export function relationRoutes(
  app: FastifyInstance, service: RelationService | undefined, guardWrite: (r: FastifyRequest) => Promise<void>,
  { log, tokens }: { log?: DecisionLog; tokens?: JwtSubjects } = {},
): void {
  const asToken = tokens ? { preValidation: subjectFromToken(tokens, RELATION_SUBJECT) } : {};
  if (!service) {
    const disabled = async () => {
      throw new PolicyEngineError('RELATIONS_DISABLED', 'this server runs without a relationship store (STORE=none)');
    };
    for (const url of ['/v1/relations', '/v1/relations/*']) app.all(url, { schema: { hide: true } }, disabled);
    return;
  }

  app.register(async (scope) => {
    keepBodiesAsText(scope);
    scope.put('/v1/relations/schema', {
      preHandler: guardWrite,
      schema: {
        tags, security: adminSecurity,
        summary: 'Replace the relationship schema',
        description: 'Body `application/json` or `application/yaml`: a map from type names to `{ relations, permissions }` (docs/relationships.md). 422 lists every error with its place; a schema that would orphan stored tuples is refused.',
        response: { 200: revisionResult, ...errors },
      },
    }, async (request) => {
      const { text, format } = bodyFormat(request);
      return service.putSchema(text, format, accessOf(request).actor);
    });
  });

  app.get('/v1/relations/schema', {
    schema: { tags, summary: 'The relationship schema, as written (or rendered in the format asked for by Accept)', response: { ...errors } },
  }, async (request, reply) => {
    const format = acceptedFormat(request.headers.accept);
    const stored = await service.getSchema();
    const text = stored.format === format ? stored.text
      : format === 'yaml' ? jsYaml().dump(jsYaml().load(stored.text, { schema: jsYaml().CORE_SCHEMA }), { noRefs: true, lineWidth: 120 })
      : JSON.stringify(jsYaml().load(stored.text, { schema: jsYaml().CORE_SCHEMA }), null, 2);
    return reply
      .header('x-relations-revision', stored.revision)
      .header('vary', 'Accept')
      .type(format === 'yaml' ? 'application/yaml; charset=utf-8' : 'application/json; charset=utf-8')
      .send(text);
  });

  app.post('/v1/relations/write', {
    preHandler: guardWrite,
    schema: {
      tags, security: adminSecurity,
      summary: 'Write and delete tuples, atomically, under preconditions',
      description: 'Tuples as `resource#relation@subject` strings or `{ resource, relation, subject }`. All or nothing: 409 RELATION_PRECONDITION_FAILED when a precondition fails, 422 RELATION_TUPLE_INVALID for a tuple the schema does not allow.',
      body: writeBody, response: { 200: revisionResult, ...errors },
    },
  }, async (request) => service.write(request.body as WriteRequest, accessOf(request).actor));

  app.get('/v1/relations', {
    schema: {
      tags,
      summary: 'Read tuples by any filter, a page at a time',
      querystring: readQuery, response: { 200: readResult, ...errors },
    },
  }, async (request) => {
    const q = request.query as { resource?: string; relation?: string; subject?: string; cursor?: string; limit?: string };
    return service.read({ ...q, limit: q.limit === undefined ? undefined : Number(q.limit) });
  });

  app.post('/v1/relations/check', {
    ...asToken,
    schema: {
      tags,
      summary: 'Does the subject have the permission (or relation) on the resource?',
      body: checkBody, response: { 200: checkResult, ...errors },
    },
  }, (request, reply) => {
    // Not async: an answer from memory is sent in the same tick (a thrown error reaches fastify's handler as well).
    const body = request.body as CheckRequest;
    return loggedDecision(log, 'relations-check', request, reply, {
      request: () => ({ subject: body.subject, permission: body.permission, resource: resourceOfRef(body.resource) }),
      summary: (r) => ({ allowed: r.allowed, revision: r.revision }),
    }, () => service.check(body));
  });

  app.post('/v1/relations/lookup-resources', {
    ...asToken,
    schema: {
      tags,
      summary: 'The resources of a type on which the subject has the permission',
      body: lookupResourcesBody, response: { 200: lookupResourcesResult, ...errors },
    },
  }, async (request) => service.lookupResources(request.body as LookupResourcesRequest));

  app.post('/v1/relations/lookup-subjects', {
    schema: {
      tags,
      summary: 'The subjects of a type that have the permission on the resource (`type:*` first when every subject does)',
      body: lookupSubjectsBody, response: { 200: lookupSubjectsResult, ...errors },
    },
  }, async (request) => service.lookupSubjects(request.body as LookupSubjectsRequest));
}
