// buildApp(deps): the fastify instance with every route, for `listen` and for tests'
// `inject()`. Dependencies come in ready-made; nothing here reads configuration.

import Fastify, { LogController, type FastifyRequest, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { DecisionService } from '../engine/decision-service.js';
import type { PolicyManager } from '../engine/policy-manager.js';
import type { PolicyService } from '../engine/policy-service.js';
import { PolicyEngineError } from '../errors.js';
import { SILENT_SINK, createDecisionLog, type DecisionLineSink, type DecisionLogOptions } from '../observability/decision-log.js';
import type { Metrics } from '../observability/metrics.js';
import { metricsPlugin, timeRequests } from '../observability/metrics-plugin.js';
import { relationRoutes } from './routes/relations.js';
import { entityRoutes } from './routes/entities.js';
import type { EntityService } from '../engine/entity-service.js';
import type { JwtSubjects } from '../engine/tokens/jwt-subjects.js';
import { DEFAULT_PARSE_LIMITS } from '../core/document/parse.js';
import type { RelationService } from '../engine/relation-service.js';
import { writeGuard, type AdminAuthOptions } from './admin-auth.js';
import { installAccessControl } from './route-access.js';
import { errorBody, installErrorHandler } from './error-handler.js';
import { lazyCompilersFactory } from './lazy-schemas.js';
import { registerOpenApi } from './openapi.js';
import { decisionRoutes } from './routes/decisions.js';
import { healthRoutes } from './routes/health.js';
import { policyRoutes } from './routes/policies.js';
import { testRunnerRoutes } from './routes/test-runner.js';
import { uiRoutes } from './routes/ui.js';
import { installLanguageVary } from './vary.js';
import { installLazyLua } from './lazy-lua.js';
import { previewRoutes } from './routes/preview.js';
import { planRoutes } from './routes/plan.js';
import type { PlanService } from '../engine/plan-service.js';
import type { ImpactPreview } from '../engine/preview/impact-preview.js';
import type { AuthzenService } from '../engine/authzen-service.js';
import { authzenRoutes } from './routes/authzen.js';
import type { ForwardAuthService } from '../engine/forward-auth-service.js';
import { forwardAuthRoutes } from './routes/forward-auth.js';
import type { HistoryService } from '../engine/history-service.js';
import { historyRoutes } from './routes/history.js';

export interface AppDeps {
  decisions: DecisionService;
  /** absent with STORE=none */
  policies?: PolicyService;
  /** relationships (SPEC §9); absent: the relation routes answer RELATIONS_DISABLED */
  relations?: RelationService;
  manager?: PolicyManager;
  /** JWT subjects for evaluate and check (docs/jwt.md); absent: off */
  tokens?: JwtSubjects;
  /** the directory (SPEC §12); absent: no /v1/entities routes */
  entities?: EntityService;
  auth: AdminAuthOptions;
  bodyLimit: number;
  logger?: FastifyServerOptions['loggerInstance'] | boolean;
  /** GET /metrics and per-route request metrics; absent: neither */
  metrics?: Metrics;
  /** decision-log settings (used with a `logger` instance); absent: no decision log */
  decisionLog?: DecisionLogOptions;
  /** where decision-log lines are shipped besides stdout (they need decisionLog, not a logger) */
  decisionSinks?: readonly DecisionLineSink[];
  /** POST /v1/preview; absent with STORE=none */
  preview?: ImpactPreview;
  /** history, change feed and rollback (docs/audit.md); absent with STORE=none */
  history?: HistoryService;
  /** POST /v1/plan and /v1/relations/plan; absent: not served */
  plans?: PlanService;
  /** PLAN_MAX_IDS for /v1/relations/plan */
  planMaxIds?: number;
  /** the playground page (GET /ui) from this bundle directory; absent: no page */
  ui?: { assetsDir: string };
  /** AuthZEN 1.0 routes (/access/v1/…, /.well-known/authzen-configuration); absent: none */
  authzen?: { service: AuthzenService; pdpUrl?: string };
  /** /v1/forward-auth for gateways; absent: none */
  forwardAuth?: ForwardAuthService;
  /** serve HTTPS with this key and certificate (PEM); absent: plain HTTP */
  tls?: { key: Buffer; cert: Buffer };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.tls ? { https: { key: deps.tls.key, cert: deps.tls.cert } } : {}),
    ...(typeof deps.logger === 'object' ? { loggerInstance: deps.logger } : { logger: deps.logger ?? false }),
    bodyLimit: deps.bodyLimit,
    // Refuse, rather than strip, prototype-poisoning keys in JSON bodies.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    ajv: { customOptions: { allErrors: false, removeAdditional: false, coerceTypes: false, useDefaults: true } },
    // Each route's validators and serializers are compiled on its first request (lazy-schemas.ts).
    schemaController: { compilersFactory: lazyCompilersFactory() as unknown as NonNullable<FastifyServerOptions['schemaController']>['compilersFactory'] },
    requestIdHeader: 'x-request-id',
    // Two log lines per request would cost a sidecar more than its decisions: at info,
    // evaluations and checks have the decision log and failures the error handler; at
    // debug and trace every request is logged too.
    logController: new LogController({
      disableRequestLogging: (request: FastifyRequest) => !((request.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') ?? false),
    }),
    // Router refusals (bad percent-encoding, a key beyond maxParamLength) carry our codes too.
    frameworkErrors: (err, _request, reply) => {
      const code = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'KEY_INVALID' : 'REQUEST_INVALID';
      void (reply as unknown as FastifyReply).code(400).type('application/json').send(JSON.stringify(errorBody(code, err.message.slice(0, 200))));
    },
    // So do HTTP parser errors (header overflow, bad or conflicting Content-Length), which
    // never reach the error handler.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const body = JSON.stringify(errorBody('REQUEST_INVALID', err.code === 'HPE_HEADER_OVERFLOW' ? 'the request headers are too large' : 'the HTTP request is malformed'));
      if (socket.writable) socket.write(`HTTP/1.1 400 Bad Request\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
      socket.destroy(err);
    },
  }) as unknown as FastifyInstance;
  installErrorHandler(app);
  // Before any route: every route added after this gets its access hook (route-access.ts).
  // JWT credentials (ADMIN_TOKENS_FILE `jwt:` entries) are verified with the JWT subjects' keys.
  const guards = installAccessControl(app, { ...(deps.tokens ? { jwt: deps.tokens } : {}), ...deps.auth });
  // Sees every route added after it: each is timed by its pattern.
  if (deps.metrics) timeRequests(app, deps.metrics);
  // Swagger documents every route added after it (GET /metrics included).
  await registerOpenApi(app);
  if (deps.metrics) await app.register(metricsPlugin, { metrics: deps.metrics });
  // Vary: Accept-Language on the decision routes (their reasons are localized).
  installLanguageVary(app);
  installLazyLua(app);

  const observers = {
    // Without a logger instance fastify's logger discards everything: build no lines for it.
    log: deps.decisionLog && (typeof deps.logger === 'object' || (deps.decisionSinks ?? []).length > 0)
      ? createDecisionLog(typeof deps.logger === 'object' ? app.log : SILENT_SINK, deps.decisionLog, deps.decisionSinks ?? [])
      : undefined,
    metrics: deps.metrics,
  };
  // JWT subjects (docs/jwt.md): every route that decides about a subject the body names.
  const withTokens = { ...observers, ...(deps.tokens ? { tokens: deps.tokens } : {}) };
  decisionRoutes(app, deps.decisions, withTokens);
  if (deps.forwardAuth) forwardAuthRoutes(app, deps.forwardAuth, observers);
  if (deps.authzen) authzenRoutes(app, { service: deps.authzen.service, observers: withTokens, ...(deps.authzen.pdpUrl ? { pdpUrl: deps.authzen.pdpUrl } : {}) });
  if (deps.plans) planRoutes(app, deps.plans, deps.relations, deps.planMaxIds ?? 10_000, withTokens);
  healthRoutes(app, deps.manager, deps.relations?.manager, deps.entities?.manager);
  testRunnerRoutes(app, { bodyLimit: deps.bodyLimit });
  relationRoutes(app, deps.relations, writeGuard(guards, 'relations'), withTokens);
  if (deps.entities) entityRoutes(app, deps.entities, writeGuard(guards, 'entities'), { ...DEFAULT_PARSE_LIMITS, maxBytes: deps.bodyLimit });
  if (deps.policies) {
    policyRoutes(app, deps.policies, writeGuard(guards));
    if (deps.history) historyRoutes(app, deps.history, writeGuard(guards));
    if (deps.preview) previewRoutes(app, { preview: deps.preview, guard: writeGuard(guards, 'preview'), bodyLimit: deps.bodyLimit });
  } else {
    const disabled = async () => {
      throw new PolicyEngineError('STORE_DISABLED', 'this server runs without a policy store (STORE=none)');
    };
    // Left out of the OpenAPI document: without a store these routes only refuse,
    // whatever the body's type (a YAML PUT gets STORE_DISABLED, not 415).
    const hidden = { schema: { hide: true } };
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, _body, done) => done(null, undefined));
      for (const url of ['/v1/policies', '/v1/policies/*']) scope.all(url, hidden, disabled);
      scope.post('/v1/validate', hidden, disabled);
      scope.post('/v1/preview', hidden, disabled);
    });
  }
  if (deps.ui) uiRoutes(app, { assetsDir: deps.ui.assetsDir, guard: writeGuard(guards) });
  await app.ready();
  return app;
}
