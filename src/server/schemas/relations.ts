// JSON Schemas of the relationship routes (SPEC §9): requests are validated by fastify,
// responses serialised by them, and both appear in the OpenAPI document.

const name = { type: 'string', minLength: 1, maxLength: 64 } as const;
const objectRef = { type: 'string', minLength: 3, maxLength: 330, description: '`type:id`' } as const;
const subjectRef = { type: 'string', minLength: 3, maxLength: 400, description: '`type:id`, `type:id#relation` or `type:*`' } as const;
const revision = { type: 'string', maxLength: 20, description: 'a revision handed out by this API' } as const;
const cursor = { type: 'string', maxLength: 2000 } as const;
const limit = { type: 'integer', minimum: 1, maximum: 1000 } as const;

export const tupleInput = {
  oneOf: [
    { type: 'string', minLength: 7, maxLength: 800, description: '`resource#relation@subject`' },
    {
      type: 'object',
      required: ['resource', 'relation', 'subject'],
      additionalProperties: false,
      properties: { resource: objectRef, relation: name, subject: subjectRef },
    },
  ],
} as const;

const consistency = {
  type: 'object',
  additionalProperties: false,
  description: 'answer from a state at least this new (`atLeast`: a revision from an earlier write), or sync with the store first (`fullyConsistent`)',
  properties: { atLeast: revision, fullyConsistent: { type: 'boolean' } },
} as const;

export const writeBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    writes: { type: 'array', maxItems: 1000, items: tupleInput },
    deletes: { type: 'array', maxItems: 1000, items: tupleInput },
    preconditions: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        maxProperties: 1,
        properties: { mustExist: tupleInput, mustNotExist: tupleInput },
      },
    },
  },
} as const;

export const revisionResult = { type: 'object', properties: { revision: { type: 'string' } } } as const;

export const readQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    resource: { type: 'string', maxLength: 330, description: '`type` or `type:id`' },
    relation: name,
    subject: { type: 'string', maxLength: 400, description: '`type`, `type:id`, `type:id#relation` or `type:*` (an exact subject)' },
    cursor,
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: '1–1000, default 100' },
  },
} as const;

const tupleObject = {
  type: 'object',
  properties: { resource: { type: 'string' }, relation: { type: 'string' }, subject: { type: 'string' } },
} as const;

export const readResult = {
  type: 'object',
  properties: { relationships: { type: 'array', items: tupleObject }, cursor: { type: ['string', 'null'] } },
} as const;

export const checkBody = {
  type: 'object',
  required: ['resource', 'permission', 'subject'],
  additionalProperties: false,
  properties: { resource: objectRef, permission: name, subject: subjectRef, consistency, explain: { type: 'boolean' } },
} as const;

export const checkResult = {
  type: 'object',
  properties: {
    allowed: { type: 'boolean' },
    revision: { type: 'string' },
    explain: {
      type: 'object',
      description: 'with `explain: true` on an allowed check: the nodes (`object#name`) and tuples that prove it, in order',
      properties: { path: { type: 'array', items: { type: 'string' } } },
    },
  },
} as const;

export const lookupResourcesBody = {
  type: 'object',
  required: ['resourceType', 'permission', 'subject'],
  additionalProperties: false,
  properties: { resourceType: name, permission: name, subject: subjectRef, limit, cursor, consistency },
} as const;

export const lookupResourcesResult = {
  type: 'object',
  properties: { resources: { type: 'array', items: { type: 'string' } }, cursor: { type: ['string', 'null'] }, revision: { type: 'string' } },
} as const;

export const lookupSubjectsBody = {
  type: 'object',
  required: ['resource', 'permission', 'subjectType'],
  additionalProperties: false,
  properties: { resource: objectRef, permission: name, subjectType: name, limit, cursor, consistency },
} as const;

export const lookupSubjectsResult = {
  type: 'object',
  properties: { subjects: { type: 'array', items: { type: 'string' } }, cursor: { type: ['string', 'null'] }, revision: { type: 'string' } },
} as const;
