// POST /v1/plan and POST /v1/relations/plan (SPEC §11): "which resources may this
// subject …?" as a filter for the caller's own database. Decision routes (route-access.ts).

import type { FastifyInstance } from 'fastify';
import type { PlanRequest, PlanService } from '../../engine/plan-service.js';
import { planResponse } from '../../engine/plan-service.js';
import type { RelationService } from '../../engine/relation-service.js';
import { checkMappings, type FieldMappings } from '../../core/plan/translate.js';
import { cmp } from '../../core/plan/filter.js';
import { PolicyEngineError } from '../../errors.js';
import { errorResponse, subjectSchema } from '../schemas/evaluate.js';
import type { DecisionObservers } from './decisions.js';
import { RELATION_SUBJECT, subjectFromToken } from '../token-subject.js';
import { loggedDecision } from './decision-line.js';
import type { PlanResponse } from '../../engine/plan-service.js';

const errors = { '4xx': errorResponse, '5xx': errorResponse };

const fields = {
  type: 'object',
  maxProperties: 256,
  additionalProperties: {
    anyOf: [
      { type: 'string', maxLength: 256 },
      { type: 'object', additionalProperties: false, required: ['column'], properties: { column: { type: 'string', maxLength: 256 }, type: { type: 'string', enum: ['jsonb', 'array'] } } },
    ],
  },
} as const;

export const planAnswer = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['always', 'never', 'conditional'] },
    exact: { type: 'boolean' },
    revision: { type: 'string' },
    filter: {},
    mongo: { type: 'object', additionalProperties: true },
    sql: { type: 'object', properties: { where: { type: 'string' }, params: { type: 'array', items: {} } } },
    recheck: { type: 'array', items: { type: 'object', properties: { document: { type: 'string' }, rule: { type: 'string' }, reason: { type: 'string' } } } },
    default: { type: 'boolean' },
    stale: { type: 'boolean' },
  },
} as const;

/** A plan request (also the items of POST /v1/preview's `plans`). */
export const planBody = {
  type: 'object',
  additionalProperties: false,
  required: ['subject', 'namespace', 'permission', 'resource'],
  properties: {
    subject: subjectSchema,
    namespace: { type: 'string', minLength: 1, maxLength: 8192 },
    permission: { type: 'string', minLength: 1, maxLength: 1100 },
    resource: { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { type: 'string', minLength: 1, maxLength: 256 } } },
    context: { type: 'object', maxProperties: 256 },
    fields,
    allowPartial: { type: 'boolean' },
  },
} as const;

/** What a plan's decision-log line says of it (docs/decision-logs.md). */
function planSummary(p: PlanResponse): Record<string, unknown> {
  return {
    kind: p.kind, exact: p.exact, revision: p.revision,
    ...(p.default !== undefined ? { default: p.default } : {}), ...(p.stale ? { stale: true } : {}),
    ...(p.recheck && p.recheck.length > 0 ? { recheckCount: p.recheck.length } : {}),
  };
}

export function planRoutes(app: FastifyInstance, plans: PlanService, relations: RelationService | undefined, maxIds: number, observers: DecisionObservers = {}): void {
  const { tokens, log } = observers;
  app.post('/v1/plan', {
    ...(tokens ? { preValidation: subjectFromToken(tokens) } : {}),
    schema: {
      tags: ['decisions'],
      summary: 'Which resources of a type may the subject <permission> in a namespace path: a filter (AST, MongoDB, PostgreSQL)',
      description: 'SPEC §11. `namespace` may end in `<type>:*`. `fields` maps plan fields (`id`, `attributes.<name>`, `namespace.<type>`) to your names. `allowPartial: true` over-approximates rules without a filter form (`exact: false`, `recheck`) instead of 422 PLAN_UNSUPPORTED.',
      body: planBody,
      response: { 200: planAnswer, ...errors },
    },
  }, async (request, reply) => {
    const body = request.body as PlanRequest;
    return loggedDecision(log, 'plan', request, reply, {
      request: () => ({ subject: body.subject, namespace: body.namespace, permission: body.permission, resource: body.resource, ...(body.context ? { context: body.context } : {}) }),
      summary: planSummary,
    }, () => plans.plan(body));
  });

  app.post('/v1/relations/plan', {
    ...(tokens ? { preValidation: subjectFromToken(tokens, RELATION_SUBJECT) } : {}),
    schema: {
      tags: ['relations'],
      summary: 'lookup-resources as a query plan: `id in [...]` (at most PLAN_MAX_IDS ids)',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['subject', 'resourceType', 'permission'],
        properties: {
          subject: { type: 'string', minLength: 1, maxLength: 512 },
          resourceType: { type: 'string', minLength: 1, maxLength: 256 },
          permission: { type: 'string', minLength: 1, maxLength: 256 },
          fields,
          consistency: { type: 'object', additionalProperties: false, properties: { atLeast: { type: 'string', maxLength: 64 }, fullyConsistent: { type: 'boolean' } } },
        },
      },
      response: { 200: planAnswer, ...errors },
    },
  }, async (request, reply) => {
    if (!relations) throw new PolicyEngineError('RELATIONS_DISABLED', 'this server runs without a relationship store');
    const body = request.body as { subject: string; resourceType: string; permission: string; fields?: FieldMappings; consistency?: { atLeast?: string; fullyConsistent?: boolean } };
    let idCount = 0;
    return loggedDecision(log, 'relations-plan', request, reply, {
      request: () => ({ subject: body.subject, permission: body.permission, resource: { type: body.resourceType } }),
      summary: (p) => ({ ...planSummary(p), idCount }),
    }, async () => {
      checkMappings(body.fields);
      const { ids, revision } = await relations.planResources(body, maxIds);
      idCount = ids.length;
      return planResponse({ filter: cmp('in', 'id', ids), exact: true, recheck: [], default: false }, body.fields, revision);
    });
  });
}
