// POST /v1/preview: what proposed changes would do, before they are written (issue 11).
// JSON `{ put, delete, requests, explain, samples, tests, now }`, or a YAML stream of
// documents to put (the bulk-import body) with `?delete=k1,k2`. Guarded like writes:
// the answer shows recorded requests and their decisions.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { accessOf } from '../admin-auth.js';
import { requireReach } from '../../core/access.js';
import { formatOfContentType, parseText, DEFAULT_PARSE_LIMITS } from '../../core/document/parse.js';
import { PolicyEngineError } from '../../errors.js';
import type { ImpactPreview, PreviewRequest } from '../../engine/preview/impact-preview.js';
import { YAML_CONTENT_TYPES } from '../content.js';
import { errorResponse, inputProperties, traceSchema } from '../schemas/evaluate.js';
import { planAnswer, planBody } from './plan.js';

const strings = { type: 'array', items: { type: 'string' } } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

const answer = {
  type: 'object',
  properties: {
    permissions: strings,
    denied: strings,
    default: { type: 'boolean' },
    error: { type: 'string', description: 'the error code this state answers the request with (it grants nothing)' },
    checks: { type: 'object', additionalProperties: { type: 'boolean' } },
    trace: traceSchema,
  },
} as const;

const impact = {
  type: 'object',
  properties: {
    endpoint: { type: 'string', enum: ['evaluate', 'check', 'request'] },
    subject: { anyOf: [{ type: 'string' }, anyObject] },
    namespace: { type: 'string' },
    resource: anyObject,
    context: anyObject,
    permissions: strings,
    changed: { type: 'boolean' },
    gained: strings,
    lost: strings,
    deniedAdded: strings,
    deniedRemoved: strings,
    checks: { type: 'object', additionalProperties: { type: 'object', properties: { before: { type: 'boolean' }, after: { type: 'boolean' } } } },
    before: answer,
    after: answer,
  },
} as const;

/** a plan under one state: the answer of POST /v1/plan, or the error it would be refused with */
const statePlan = {
  type: 'object',
  properties: {
    ...planAnswer.properties,
    error: { type: 'string', description: 'the error code POST /v1/plan would answer with under this state (PLAN_UNSUPPORTED, PLAN_TOO_LARGE, …)' },
    message: { type: 'string' },
    details: {},
  },
} as const;

const counts = { type: 'object', properties: { passed: { type: 'integer' }, failed: { type: 'integer' } } } as const;
const caseChange = { type: 'object', properties: { suite: { type: 'string' }, key: { type: 'string' }, case: { type: 'string' }, diff: strings } } as const;

export const previewResponse = {
  type: 'object',
  properties: {
    revision: { type: 'string' },
    stale: { type: 'boolean' },
    now: { type: 'string' },
    complete: { type: 'boolean', description: 'false when the time bound stopped the preview: `summary.evaluated` of `summary.samples` were answered, and tests did not run' },
    durationMs: { type: 'number' },
    changes: {
      type: 'array',
      items: { type: 'object', properties: { key: { type: 'string' }, namespace: { type: 'string' }, kind: { type: 'string' }, action: { type: 'string', enum: ['create', 'replace', 'delete', 'unchanged'] } } },
    },
    summary: {
      type: 'object',
      properties: {
        samples: { type: 'integer' }, evaluated: { type: 'integer' }, changed: { type: 'integer' }, gained: { type: 'integer' },
        lost: { type: 'integer' }, restricted: { type: 'integer', description: 'samples with patterns newly revoked or denied' },
        checksChanged: { type: 'integer' }, listed: { type: 'integer' },
        testsBefore: counts, testsAfter: counts, testsBroken: { type: 'integer' }, testsFixed: { type: 'integer' },
      },
    },
    samples: { type: 'array', items: impact, description: 'the samples whose answer changes, in a stable order (at most PREVIEW_MAX_LISTED)' },
    requests: { type: 'array', items: impact },
    plans: {
      type: 'array',
      description: 'the `plans` asked, in order: each under the current (`before`) and the proposed (`after`) state; `changed` when kind, filter, exactness, recheck, default or error differ',
      items: { type: 'object', properties: { changed: { type: 'boolean' }, before: statePlan, after: statePlan } },
    },
    tests: {
      type: 'object',
      properties: {
        broken: { type: 'array', items: caseChange, description: 'cases that pass now (or are new) and fail under the proposed state' },
        fixed: { type: 'array', items: caseChange },
        suites: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' }, name: { type: 'string' }, passed: { type: 'boolean' }, counts, durationMs: { type: 'number' },
              cases: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, passed: { type: 'boolean' }, durationMs: { type: 'number' }, diff: strings } } },
            },
          },
        },
      },
    },
  },
} as const;

const previewBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    put: {
      type: 'array', maxItems: 1000, description: 'documents to create or replace (the key is in each): objects, or JSON / YAML text',
      items: { anyOf: [{ type: 'object' }, { type: 'string', minLength: 1, maxLength: 1048576 }] },
    },
    delete: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 1024 } },
    requests: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['subject', 'namespace'],
        properties: {
          subject: inputProperties.subject,
          namespace: inputProperties.namespace,
          resource: inputProperties.resource,
          context: inputProperties.context,
          permission: { type: 'string', maxLength: 1100 },
          permissions: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 1100 } },
        },
      },
    },
    explain: { type: 'boolean' },
    samples: { type: 'boolean' },
    tests: { type: 'boolean' },
    now: { type: 'string', maxLength: 64 },
    plans: { type: 'array', maxItems: 1000, items: planBody, description: 'query plans (POST /v1/plan bodies) answered under both states (at most 20)' },
  },
} as const;

export interface PreviewRouteOptions {
  preview: ImpactPreview;
  guard: (request: FastifyRequest) => Promise<void>;
  bodyLimit: number;
}

export function previewRoutes(app: FastifyInstance, options: PreviewRouteOptions): void {
  app.register(async (scope) => {
    scope.addContentTypeParser(YAML_CONTENT_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post('/v1/preview', {
      preHandler: options.guard,
      schema: {
        tags: ['policies'],
        security: [{ adminToken: [] }],
        summary: 'Preview the impact of policy changes without writing them',
        description: 'Validates the changes like writes, then answers the recorded request samples, the given requests and plans, and the stored test suites (`kind: tests`) under the current and the proposed state, and reports what differs. Never writes; the live state and its cache are untouched. JSON body, or a YAML stream of documents to put with `?delete=k1,k2`.',
        querystring: { type: 'object', additionalProperties: false, properties: { delete: { type: 'string', maxLength: 65536 } } },
        body: { anyOf: [previewBody, { type: 'string', minLength: 1 }] },
        response: { 200: previewResponse, '4xx': errorResponse, '5xx': errorResponse },
      },
    }, async (request) => {
      const query = request.query as { delete?: string };
      let req: PreviewRequest;
      if (typeof request.body === 'string') {
        if (formatOfContentType(request.headers['content-type']) !== 'yaml') {
          throw new PolicyEngineError('MEDIA_TYPE_UNSUPPORTED', 'send the preview as application/json, or the documents as application/yaml');
        }
        const parsed = parseText(request.body, 'yaml', { ...DEFAULT_PARSE_LIMITS, maxBytes: options.bodyLimit }, true);
        if (!parsed.ok) throw new PolicyEngineError('BODY_MALFORMED', `the body is not a well-formed YAML stream: ${parsed.errors[0]?.message ?? 'parse error'}`, parsed.errors);
        req = { put: parsed.documents.map((d) => d.text) };
      } else {
        req = { ...(request.body as PreviewRequest) };
      }
      if (query.delete !== undefined) req.delete = [...(req.delete ?? []), ...query.delete.split(',').map((k) => k.trim()).filter((k) => k !== '')];
      const access = accessOf(request);
      const result = await options.preview.preview(req);
      if (access.unrestricted) return result;
      // A named credential previews changes only in namespaces it reaches, and sees only
      // the samples whose path passes through one of them.
      requireReach(access, 'preview', result.changes.map((c) => c.namespace), 'a change');
      return { ...result, samples: result.samples.filter((s) => s.namespace.split('.').some((ns) => access.reaches('preview', ns))) };
    });
  });
}
