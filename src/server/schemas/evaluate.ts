// Request and response schemas of the decision routes. Responses are serialized by
// them (fast-json-stringify), requests validated by fastify's ajv.

const stringList = (maxItems: number, maxLength: number) => ({ type: 'array', maxItems, items: { type: 'string', maxLength } }) as const;

const attributes = { type: 'object', maxProperties: 256 } as const;

export const subjectSchema = {
  anyOf: [
    { type: 'string', minLength: 1, maxLength: 512 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 512 },
        roles: stringList(256, 256),
        groups: stringList(256, 256),
        attributes,
      },
    },
  ],
} as const;

export const inputProperties = {
  subject: subjectSchema,
  namespace: { type: 'string', maxLength: 8192 },
  policy: { type: 'string', maxLength: 512 },
  policies: {
    type: 'array',
    minItems: 1,
    maxItems: 100,
    items: { anyOf: [{ type: 'object' }, { type: 'string', maxLength: 262144 }] },
  },
  resource: {
    type: 'object',
    additionalProperties: false,
    properties: {
      type: { type: 'string', maxLength: 256 },
      id: { type: 'string', maxLength: 512 },
      attributes,
    },
  },
  context: attributes,
  explain: { type: 'boolean' },
  // A BCP 47 tag (de, pt-BR): the language of reasons, before Accept-Language.
  language: { type: 'string', maxLength: 35, pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$' },
} as const;

export const evaluateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['subject'],
  properties: inputProperties,
} as const;

export const checkBody = {
  type: 'object',
  additionalProperties: false,
  required: ['subject'],
  properties: {
    ...inputProperties,
    permission: { type: 'string', maxLength: 1100 },
    permissions: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', maxLength: 1100 } },
  },
} as const;

export const outcomeSchema = {
  type: 'object',
  properties: { value: { type: 'boolean' }, error: { type: 'string' } },
} as const;

/** The explain trace (SPEC §3), shared by evaluate and the test runner's results. */
export const traceSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      document: { type: 'string' },
      namespace: { type: 'string' },
      disabled: { type: 'boolean' },
      predicates: { type: 'object', additionalProperties: outcomeSchema },
      rules: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            rule: { type: 'string' },
            subjectMatched: { type: 'boolean' },
            condition: outcomeSchema,
            applied: { type: 'boolean' },
            effects: {
              type: 'object',
              properties: { grant: { type: 'array', items: { type: 'string' } }, revoke: { type: 'array', items: { type: 'string' } }, deny: { type: 'array', items: { type: 'string' } } },
            },
            messageKey: { type: 'string' },
          },
        },
      },
    },
  },
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;

export const conditionErrorsSchema = {
  type: 'array',
  items: { type: 'object', properties: { document: { type: 'string' }, rule: { type: 'string' }, error: { type: 'string' } } },
} as const;

/** Why a permission is refused: `key` and `language` only when the rule's message is a catalogue reference. */
export const reasonSchema = {
  type: 'object',
  properties: { key: { type: 'string' }, text: { type: 'string' }, language: { type: 'string' }, rule: { type: 'string' }, document: { type: 'string' } },
} as const;

export const evaluateResponse = {
  type: 'object',
  required: ['permissions', 'denied', 'default', 'namespaces', 'policies', 'cached', 'revision', 'exact'],
  properties: {
    decisionId: { type: 'string', description: 'this decision, as the decision log and shipped audit records name it (also the X-Decision-Id header)' },
    permissions: strings,
    denied: strings,
    default: { type: 'boolean' },
    namespaces: strings,
    policies: strings,
    cached: { type: 'boolean' },
    revision: { type: 'string' },
    exact: { type: 'boolean' },
    stale: { type: 'boolean' },
    trace: traceSchema,
    grantedBy: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { document: { type: 'string' }, rule: { type: 'string' } } },
    },
    conditionErrors: conditionErrorsSchema,
    messages: { type: 'object', additionalProperties: reasonSchema },
  },
} as const;

export const checkResponse = {
  type: 'object',
  properties: {
    decisionId: { type: 'string', description: 'this decision, as the decision log and shipped audit records name it (also the X-Decision-Id header)' },
    allowed: { type: 'boolean' },
    reason: reasonSchema,
    results: { type: 'object', additionalProperties: { type: 'boolean' } },
    reasons: { type: 'object', additionalProperties: reasonSchema },
    cached: { type: 'boolean' },
    revision: { type: 'string' },
    stale: { type: 'boolean' },
  },
} as const;

export const errorResponse = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
    details: {},
    id: { type: 'string' },
  },
} as const;
