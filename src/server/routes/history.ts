// The change history over HTTP (docs/audit.md): GET /v1/policies/:key/history (versions
// with diffs, paginated), GET /v1/changes (the watch feed: long-poll, resumable by its
// cursor) and POST /v1/policies/:key/rollback (write a recorded version again).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseCursor, MAX_WAIT_MS, type HistoryService } from '../../engine/history-service.js';
import { PolicyEngineError } from '../../errors.js';
import { accessOf } from '../admin-auth.js';
import { errorResponse } from '../schemas/evaluate.js';

const errors = { '4xx': errorResponse, '5xx': errorResponse };
const tags = ['history'];
const keyParams = { type: 'object', required: ['key'], properties: { key: { type: 'string', maxLength: 1024 } } } as const;
const version = {
  type: ['object', 'null'],
  properties: { format: { type: 'string' }, text: { type: 'string' }, etag: { type: 'string' } },
} as const;
const policyChange = {
  revision: { type: 'string' }, at: { type: 'string' }, actor: { type: 'string' }, kind: { type: 'string' },
  key: { type: 'string' }, namespace: { type: 'string' }, op: { type: 'string' }, before: version, after: version,
} as const;
const changeEntry = {
  type: 'object',
  properties: {
    ...policyChange,
    writes: { type: 'array', items: { type: 'string' } },
    deletes: { type: 'array', items: { type: 'string' } },
    schema: { type: 'object', properties: { before: version, after: version } },
  },
} as const;
const limitPattern = '^(?:[1-9]\\d{0,1}|[1-4]\\d{2}|500)$';

export function historyRoutes(app: FastifyInstance, service: HistoryService, guardWrite: (r: FastifyRequest) => Promise<void>): void {
  app.get('/v1/policies/:key/history', {
    schema: {
      tags, summary: "A policy's recorded versions, newest first, each with a unified diff from the one before",
      description: 'Who wrote each version (credential name), when, the revision, the text before and after. `before` (a revision) pages to older versions; `cursor` in the answer is the next `before`.',
      params: keyParams,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { before: { type: 'string', pattern: '^\\d{1,15}$' }, limit: { type: 'string', pattern: limitPattern } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            key: { type: 'string' },
            entries: { type: 'array', items: { type: 'object', properties: { ...policyChange, diff: { type: ['string', 'null'] }, diffTruncated: { type: 'boolean' } } } },
            cursor: { type: ['string', 'null'] },
          },
        },
        ...errors,
      },
    },
  }, async (request) => {
    const { key } = request.params as { key: string };
    const q = request.query as { before?: string; limit?: string };
    const page = await service.keyHistory(key, { limit: q.limit === undefined ? 20 : Number(q.limit), ...(q.before !== undefined ? { before: Number(q.before) } : {}) }, accessOf(request));
    return { key, entries: page.entries, cursor: page.next ?? null };
  });

  app.get('/v1/changes', {
    schema: {
      tags, summary: 'The watch feed: every recorded change after a cursor (policies, catalogues and relationships)',
      description: '`since` is the `next` of the previous answer (`P.R`: policy and relationship revisions), `now` for changes from this moment; absent, from the first change (410 once the retention pruned it: start with `now`). `wait` (seconds, ≤ 30) long-polls until something changes. 410 HISTORY_PRUNED when the cursor is older than the retention.',
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          since: { type: 'string', maxLength: 40 },
          limit: { type: 'string', pattern: limitPattern },
          wait: { type: 'string', pattern: '^\\d{1,2}(?:\\.\\d{1,3})?$' },
        },
      },
      response: { 200: { type: 'object', properties: { changes: { type: 'array', items: changeEntry }, next: { type: 'string' } } }, ...errors },
    },
  }, async (request) => {
    const q = request.query as { since?: string; limit?: string; wait?: string };
    const since = q.since === undefined ? { policies: 0, relations: 0 } : q.since === 'now' ? await service.now() : parseCursor(q.since);
    if (since === undefined) throw new PolicyEngineError('REQUEST_INVALID', 'since must be a cursor from a previous answer (P or P.R), or now');
    const waitMs = q.wait === undefined ? 0 : Math.min(MAX_WAIT_MS, Number(q.wait) * 1000);
    const r = await service.changes(since, q.limit === undefined ? 100 : Number(q.limit), waitMs, accessOf(request), () => request.raw.destroyed);
    return r;
  });

  app.post('/v1/policies/:key/rollback', {
    preHandler: guardWrite,
    schema: {
      tags, security: [{ adminToken: [] }],
      summary: 'Write a recorded version of a policy again',
      description: 'Body `{ "revision": "<revision of the version to restore>" }`. Validated and recorded like any write (its history entry names the caller); `If-Match` → 412 when the current version changed. Restoring a recorded delete deletes the key.',
      params: keyParams,
      headers: { type: 'object', properties: { 'if-match': { type: 'string', maxLength: 1024 } } },
      body: { type: 'object', additionalProperties: false, required: ['revision'], properties: { revision: { type: 'string', pattern: '^\\d{1,15}$' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            key: { type: 'string' }, restored: { type: 'string' }, deleted: { type: 'boolean' },
            etag: { type: ['string', 'null'] }, revision: { type: ['string', 'null'] },
          },
        },
        ...errors,
      },
    },
  }, async (request, reply) => {
    const { key } = request.params as { key: string };
    const { revision } = request.body as { revision: string };
    const ifMatch = request.headers['if-match'];
    const r = await service.rollback(key, Number(revision), typeof ifMatch === 'string' ? ifMatch : undefined, accessOf(request));
    if (r.result === 'deleted') return { key, restored: r.restored.revision, deleted: true, etag: null, revision: null };
    reply.header('etag', r.result.record.etag);
    return { key, restored: r.restored.revision, deleted: false, etag: r.result.record.etag, revision: r.result.revision };
  });
}
