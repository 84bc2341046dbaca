// GET /healthz (the process answers) and GET /readyz (policies loaded and fresh).

import type { FastifyInstance } from 'fastify';
import type { PolicyManager } from '../../engine/policy-manager.js';
import type { RelationManager } from '../../engine/relation-manager.js';
import type { EntityManager } from '../../engine/entity-manager.js';

const tags = ['operations'];
const readiness = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unready'] },
    store: { type: 'string' },
    loaded: { type: 'boolean' },
    stale: { type: 'boolean' },
    revision: { type: 'string' },
    documents: { type: 'integer' },
    brokenDocuments: { type: 'integer' },
    lastError: { type: 'string' },
    relations: {
      type: 'object',
      description: 'the relationship state (not part of readiness: a relationship check answers 503 itself until it is loaded)',
      properties: { loaded: { type: 'boolean' }, revision: { type: 'string' }, tuples: { type: 'integer' }, lastError: { type: 'string' } },
    },
    directory: {
      type: 'object',
      description: 'the directory (part of readiness: decisions answer 503 NOT_READY until it is loaded)',
      properties: { loaded: { type: 'boolean' }, revision: { type: 'string' }, entities: { type: 'integer' }, lastError: { type: 'string' } },
    },
  },
} as const;

function relationStatus(relations: RelationManager): { loaded: boolean; revision: string; tuples: number; lastError?: string } {
  const r = relations.status();
  return r.lastError !== undefined ? { ...r, lastError: r.lastError.slice(0, 300) } : r;
}

export function healthRoutes(app: FastifyInstance, manager: PolicyManager | undefined, relations?: RelationManager, directory?: EntityManager): void {
  app.get('/healthz', {
    schema: { tags, summary: 'Liveness: the process answers', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
  }, async () => ({ status: 'ok' }));
  app.get('/readyz', {
    schema: { tags, summary: 'Readiness: policies loaded from a reachable store and fresh (503 otherwise)', response: { 200: readiness, 503: readiness } },
  }, async (_request, reply) => {
    const d = directory?.status();
    const dir = d ? { directory: d.lastError !== undefined ? { ...d, lastError: d.lastError.slice(0, 300) } : d } : {};
    if (!manager) return reply.code(d && !d.loaded ? 503 : 200).send({ status: d && !d.loaded ? 'unready' : 'ready', store: 'none', ...dir });
    const s = manager.status();
    const ready = s.loaded && !s.stale && (d === undefined || d.loaded);
    const body = {
      status: ready ? 'ready' : 'unready',
      store: manager.store.kind,
      loaded: s.loaded,
      stale: s.stale,
      revision: s.revision,
      documents: s.documents,
      brokenDocuments: s.brokenDocuments,
      ...(s.lastError !== undefined ? { lastError: s.lastError.slice(0, 300) } : {}),
      ...(relations ? { relations: relationStatus(relations) } : {}),
      ...dir,
    };
    return reply.code(ready ? 200 : 503).send(body);
  });
}
