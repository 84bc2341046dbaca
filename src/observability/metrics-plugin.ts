// The fastify side of the metrics: times every request by its route pattern and serves
// GET /metrics in the Prometheus text format. Not encapsulated, so the hook sees the
// routes of every scope registered after it.

import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Metrics } from './metrics.js';

export interface MetricsPluginOptions {
  metrics: Metrics;
}

const plugin: FastifyPluginAsync<MetricsPluginOptions> = async (app: FastifyInstance, { metrics }) => {
  app.addHook('onResponse', (request, reply, done) => {
    // The pattern (`/v1/policies/:key`), never the URL: unmatched URLs share one series.
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics',
      description: 'Request counts and latencies per route, evaluations by mode and outcome, decision cache, store calls, policy state.',
      produces: ['text/plain'],
      response: { 200: { type: 'string', description: 'Prometheus text exposition format 0.0.4' } },
    },
  }, async (_request, reply) => {
    const text = await metrics.text();
    return reply.type(metrics.contentType).send(text);
  });
};

// What fastify-plugin does: the hook and route belong to the parent, not a child scope.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'policy-engine-metrics';

export const metricsPlugin = plugin;
