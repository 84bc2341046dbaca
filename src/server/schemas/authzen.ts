// Request and response schemas of the AuthZEN routes (Authorization API 1.0), written
// from the standard's text. Unknown fields are allowed and ignored, as the standard
// requires of receivers; what we read is bounded (ids, lists, batch size) so a hostile
// body is a 400, never work.

/** The most evaluations one /access/v1/evaluations request may carry (as /v1/check's permissions). */
export const MAX_EVALUATIONS = 256;
/** The largest page a search answers, and the one it answers without page.limit. */
export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 100;

// Printable: no control characters. A type never holds `:` so `type:id` stays injective.
const typeSchema = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^:\\u0000-\\u001f\\u007f]+$' } as const;
const idSchema = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;
const properties = { type: 'object', maxProperties: 256 } as const;

const entity = (idRequired: boolean) => ({
  type: 'object',
  required: idRequired ? ['type', 'id'] : ['type'],
  properties: { type: typeSchema, id: idSchema, properties },
}) as const;

export const subjectSchema = entity(true);
export const resourceSchema = entity(true);
export const actionSchema = {
  type: 'object',
  required: ['name'],
  // A permission is at most 16 segments of 64 characters (SPEC §2).
  properties: { name: { type: 'string', minLength: 1, maxLength: 1100 }, properties },
} as const;
const context = { type: 'object', maxProperties: 256 } as const;

export const evaluationBody = {
  type: 'object',
  required: ['subject', 'action', 'resource'],
  properties: { subject: subjectSchema, action: actionSchema, resource: resourceSchema, context },
} as const;

export const evaluationsBody = {
  type: 'object',
  properties: {
    subject: subjectSchema,
    action: actionSchema,
    resource: resourceSchema,
    context,
    evaluations: {
      type: 'array',
      maxItems: MAX_EVALUATIONS,
      items: { type: 'object', properties: { subject: subjectSchema, action: actionSchema, resource: resourceSchema, context } },
    },
    options: {
      type: 'object',
      properties: { evaluations_semantic: { type: 'string', enum: ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] } },
    },
  },
} as const;

const page = {
  type: 'object',
  properties: {
    token: { type: 'string', maxLength: 2048 },
    limit: { type: 'integer', minimum: 0, maximum: MAX_PAGE_LIMIT },
    properties,
  },
} as const;

export const subjectSearchBody = {
  type: 'object',
  required: ['subject', 'action', 'resource'],
  properties: { subject: entity(false), action: actionSchema, resource: resourceSchema, context, page },
} as const;

export const resourceSearchBody = {
  type: 'object',
  required: ['subject', 'action', 'resource'],
  properties: { subject: subjectSchema, action: actionSchema, resource: entity(false), context, page },
} as const;

export const actionSearchBody = {
  type: 'object',
  required: ['subject', 'resource'],
  properties: { subject: subjectSchema, resource: resourceSchema, context, page },
} as const;

const reason = {
  type: 'object',
  properties: { key: { type: 'string' }, text: { type: 'string' }, language: { type: 'string' }, rule: { type: 'string' }, document: { type: 'string' } },
} as const;

export const decisionResponse = {
  type: 'object',
  required: ['decision'],
  properties: {
    decision: { type: 'boolean' },
    context: {
      type: 'object',
      properties: {
        reason,
        error: { type: 'object', properties: { status: { type: 'integer' }, code: { type: 'string' }, message: { type: 'string' } } },
      },
    },
  },
} as const;

export const evaluationsResponse = {
  type: 'object',
  properties: {
    decision: decisionResponse.properties.decision,
    context: decisionResponse.properties.context,
    evaluations: { type: 'array', items: decisionResponse },
  },
} as const;

const pageResponse = {
  type: 'object',
  required: ['next_token'],
  properties: { next_token: { type: 'string' }, count: { type: 'integer' }, total: { type: 'integer' } },
} as const;

const entityResult = { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' } } } as const;

export const entitySearchResponse = {
  type: 'object',
  required: ['results'],
  properties: { page: pageResponse, results: { type: 'array', items: entityResult } },
} as const;

export const actionSearchResponse = {
  type: 'object',
  required: ['results'],
  properties: { page: pageResponse, results: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } } },
} as const;

export const configurationResponse = {
  type: 'object',
  properties: {
    policy_decision_point: { type: 'string' },
    access_evaluation_endpoint: { type: 'string' },
    access_evaluations_endpoint: { type: 'string' },
    search_subject_endpoint: { type: 'string' },
    search_resource_endpoint: { type: 'string' },
    search_action_endpoint: { type: 'string' },
  },
} as const;
