// GET /healthz (the process answers) and GET /readyz (policies loaded and fresh).

import type { FastifyInstance } from 'fastify';
import type { PolicyManager } from '../../engine/policy-manager.js';

export function healthRoutes(app: FastifyInstance, manager: PolicyManager | undefined): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!manager) return { status: 'ready', store: 'none' };
    const s = manager.status();
    const ready = s.loaded && !s.stale;
    const body = {
      status: ready ? 'ready' : 'unready',
      store: manager.store.kind,
      loaded: s.loaded,
      stale: s.stale,
      revision: s.revision,
      documents: s.documents,
      brokenDocuments: s.brokenDocuments,
      ...(s.lastError !== undefined ? { lastError: s.lastError.slice(0, 300) } : {}),
    };
    return reply.code(ready ? 200 : 503).send(body);
  });
}
