// buildApp(deps): the fastify instance with every route, for `listen` and for tests'
// `inject()`. Dependencies come in ready-made; nothing here reads configuration.

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { DecisionService } from '../engine/decision-service.js';
import type { PolicyManager } from '../engine/policy-manager.js';
import type { PolicyService } from '../engine/policy-service.js';
import { PolicyEngineError } from '../errors.js';
import { makeWriteGuard, type AdminAuthOptions } from './admin-auth.js';
import { installErrorHandler } from './error-handler.js';
import { decisionRoutes } from './routes/decisions.js';
import { healthRoutes } from './routes/health.js';
import { policyRoutes } from './routes/policies.js';

export interface AppDeps {
  decisions: DecisionService;
  /** absent with STORE=none */
  policies?: PolicyService;
  manager?: PolicyManager;
  auth: AdminAuthOptions;
  bodyLimit: number;
  logger?: FastifyServerOptions['loggerInstance'] | boolean;
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

  decisionRoutes(app, deps.decisions);
  healthRoutes(app, deps.manager);
  if (deps.policies) {
    policyRoutes(app, deps.policies, makeWriteGuard(deps.auth));
  } else {
    const disabled = async () => {
      throw new PolicyEngineError('STORE_DISABLED', 'this server runs without a policy store (STORE=none)');
    };
    for (const url of ['/v1/policies', '/v1/policies/*']) app.all(url, disabled);
    app.post('/v1/validate', disabled);
  }
  await app.ready();
  return app;
}
