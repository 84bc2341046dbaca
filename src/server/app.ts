// buildApp(deps): the fastify instance with every route, for `listen` and for tests'
// `inject()`. Dependencies come in ready-made; nothing here reads configuration.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { DecisionService } from '../engine/decision-service.js';
import type { PolicyManager } from '../engine/policy-manager.js';
import type { PolicyService } from '../engine/policy-service.js';
import { PolicyEngineError } from '../errors.js';
import { createDecisionLog, type DecisionLogOptions } from '../observability/decision-log.js';
import type { Metrics } from '../observability/metrics.js';
import { metricsPlugin } from '../observability/metrics-plugin.js';
import { makeWriteGuard, type AdminAuthOptions } from './admin-auth.js';
import { installErrorHandler } from './error-handler.js';
import { registerOpenApi } from './openapi.js';
import { decisionRoutes } from './routes/decisions.js';
import { healthRoutes } from './routes/health.js';
import { policyRoutes } from './routes/policies.js';
import { testRunnerRoutes } from './routes/test-runner.js';

export interface AppDeps {
  decisions: DecisionService;
  /** absent with STORE=none */
  policies?: PolicyService;
  manager?: PolicyManager;
  auth: AdminAuthOptions;
  bodyLimit: number;
  logger?: FastifyServerOptions['loggerInstance'] | boolean;
  /** GET /metrics and per-route request metrics; absent: neither */
  metrics?: Metrics;
  /** decision-log settings (used with a `logger` instance); absent: no decision log */
  decisionLog?: DecisionLogOptions;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(typeof deps.logger === 'object' ? { loggerInstance: deps.logger } : { logger: deps.logger ?? false }),
    bodyLimit: deps.bodyLimit,
    // Refuse, rather than strip, prototype-poisoning keys in JSON bodies.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: false, useDefaults: true } },
    requestIdHeader: 'x-request-id',
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  // Both see every route added after them: swagger documents it, the metrics hook times it.
  await registerOpenApi(app);
  if (deps.metrics) await app.register(metricsPlugin, { metrics: deps.metrics });

  decisionRoutes(app, deps.decisions, {
    // Without a logger instance fastify's logger discards everything: build no lines for it.
    log: deps.decisionLog && typeof deps.logger === 'object' ? createDecisionLog(app.log, deps.decisionLog) : undefined,
    metrics: deps.metrics,
  });
  healthRoutes(app, deps.manager);
  testRunnerRoutes(app, { bodyLimit: deps.bodyLimit });
  if (deps.policies) {
    policyRoutes(app, deps.policies, makeWriteGuard(deps.auth));
  } else {
    const disabled = async () => {
      throw new PolicyEngineError('STORE_DISABLED', 'this server runs without a policy store (STORE=none)');
    };
    // Left out of the OpenAPI document: without a store these routes only refuse.
    const hidden = { schema: { hide: true } };
    for (const url of ['/v1/policies', '/v1/policies/*']) app.all(url, hidden, disabled);
    app.post('/v1/validate', hidden, disabled);
  }
  await app.ready();
  return app;
}
