// The fastify side of the metrics: times every request by its route pattern and serves
// GET /metrics in the Prometheus text format. Both belong to the root: the timing hook
// sees the routes of every scope added after it.

import type { FastifyInstance, FastifyPluginAsync, onResponseHookHandler, RouteOptions } from 'fastify';
import type { Metrics } from './metrics.js';

export interface MetricsPluginOptions {
  metrics: Metrics;
}

/**
 * Times every request by its route pattern (`/v1/policies/:key`), never the URL. Call
 * before any route is added: each route added after gets its own hook, which knows its
 * pattern (reading it per request, through request.routeOptions, builds an object each
 * time). Unmatched URLs (the not-found handler, which has no route) share one series.
 */
export function timeRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRoute', (route) => {
    const observe = metrics.requestObserver(route.url ?? route.path ?? '');
    const timed: onResponseHookHandler = (request, reply, done) => {
      observe(request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
    route.onResponse = [...existing, timed] as RouteOptions['onResponse'];
  });
  const unmatched = metrics.requestObserver('unmatched');
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/** GET /metrics (the request timing is timeRequests'). */
const plugin: FastifyPluginAsync<MetricsPluginOptions> = async (app: FastifyInstance, { metrics }) => {
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
