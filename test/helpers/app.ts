// A fully wired service around a given store, for inject() tests: the same
// composition as main.ts, with a silent logger and test-friendly intervals.
//
// The store matrix: without an explicit store a test gets the in-memory store, or,
// with TEST_STORE=mongo (the runner's second pass, scripts/run-tests.mjs), the
// configured MongoDB store on a fresh database of the test server (FerretDB unless
// MONGO_URL names another), built by createServices exactly as in production.

import { pino, type Logger } from 'pino';
import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { jwtVerificationOn, loadConfig, type Config } from '../../src/config/config.js';
import { createServices, decisionLogOptions, type Services } from '../../src/compose.js';
import { buildApp } from '../../src/server/app.js';
import { watchCredentialFile } from '../../src/server/credentials.js';
import { defaultUiDir } from '../../src/server/routes/ui.js';
import type { PolicyStore } from '../../src/store/store.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import { testMongo } from './mongo.js';

/** Which store a test without an explicit one runs on: 'memory' (default) or 'mongo'. */
export const defaultTestStore: 'memory' | 'mongo' = process.env.TEST_STORE === 'mongo' ? 'mongo' : 'memory';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  config: Config;
}

export interface TestAppOptions {
  store?: PolicyStore | 'none';
  config?: Partial<Config>;
  env?: Record<string, string>;
  logger?: Logger;
  /** false: the listener counts as reachable beyond loopback (the admin guard's other case) */
  loopbackOnly?: boolean;
  /** serve the playground from this bundle (default: dist/ui when UI_ENABLED) */
  uiAssetsDir?: string;
  /** a monotonic clock (ms) for deadlines, instead of performance.now */
  monotonic?: () => number;
}

export async function testApp(t: Test, options: TestAppOptions = {}): Promise<TestApp> {
  const onMongo = options.store === undefined && defaultTestStore === 'mongo' && options.env?.STORE === undefined && options.config?.store === undefined;
  const mongo = onMongo ? await testMongo(t) : undefined;
  const config: Config = {
    // CACHE_ADMISSION=first: a decision is cached at its first ask, so a test's second request
    // is a hit (test/cache/decision-cache.test.ts and test/server/cache-admission.test.ts test
    // the default, second).
    ...loadConfig({ POLL_INTERVAL_MS: '100', CACHE_ADMISSION: 'first', ...(options.env ?? {}) }),
    ...(options.store === 'none' ? { store: 'none' as const } : {}),
    ...(mongo ? { store: 'mongo' as const, mongoUrl: mongo.url, mongoDb: mongo.dbName } : {}),
    ...(options.config ?? {}),
  };
  const logger = options.logger ?? pino({ level: 'silent' });
  // mongo: undefined lets createServices build the configured store, as main.ts does
  const store = options.store === 'none' || mongo ? undefined : (options.store ?? new MemoryStore());
  // Read before the services start, as main.ts does: a file that stops the start leaves nothing running.
  const credentials = config.adminTokensFile === undefined ? undefined : watchCredentialFile({ path: config.adminTokensFile, reloadMs: config.adminTokensReloadMs, jwt: jwtVerificationOn(config) });
  if (credentials) t.teardown(() => credentials.close());
  const services = await createServices(config, logger, store, options.monotonic ? { monotonic: options.monotonic } : {});
  const app = await buildApp({
    decisions: services.decisions,
    policies: services.policies,
    relations: services.relations,
    entities: services.entities,
    ...(services.tokens ? { tokens: services.tokens } : {}),
    manager: services.manager,
    preview: services.preview,
    ...(services.history ? { history: services.history } : {}),
    plans: services.plans,
    planMaxIds: services.planMaxIds,
    forwardAuth: services.forwardAuth,
    authzen: { service: services.authzen, ...(config.authzenPdpUrl ? { pdpUrl: config.authzenPdpUrl } : {}) },
    ...(config.ui ? { ui: { assetsDir: options.uiAssetsDir ?? defaultUiDir() } } : {}),
    auth: {
      adminToken: config.adminToken, readToken: config.readToken, decisionToken: config.decisionToken, allowedHosts: config.allowedHosts, loopbackOnly: options.loopbackOnly ?? true,
      ...(credentials ? { credentials } : {}),
    },
    bodyLimit: config.bodyLimit,
    metrics: services.metrics,
    decisionLog: decisionLogOptions(config),
    decisionSinks: services.shippers,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  t.teardown(async () => {
    await app.close();
    await services.close();
  });
  return { app, services, config };
}

/** PUT a YAML policy and expect success. */
export async function putYaml(t: Test, app: FastifyInstance, key: string, yamlText: string, headers: Record<string, string> = {}): Promise<string> {
  const r = await app.inject({ method: 'PUT', url: `/v1/policies/${key}`, headers: { 'content-type': 'application/yaml', ...headers }, payload: yamlText });
  t.ok(r.statusCode === 200 || r.statusCode === 201, `PUT ${key}: ${r.statusCode} ${r.body.slice(0, 300)}`);
  return String(r.headers.etag);
}

export async function evaluate(app: FastifyInstance, body: object): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: body });
  return { status: r.statusCode, json: r.json() as Record<string, unknown> };
}

/**
 * Two service instances over one fresh FerretDB/MongoDB database (the replica tests):
 * each polls the store every second, so a change made through one reaches the other
 * within the policies' propagation bound.
 */
export async function mongoReplicas(t: Test): Promise<{ mongo: Awaited<ReturnType<typeof testMongo>>; a: TestApp; b: TestApp }> {
  const mongo = await testMongo(t);
  const replica = () => testApp(t, {
    store: new MongoStore({ url: mongo.url }),
    env: { POLL_INTERVAL_MS: '1000' },
    config: { mongoUrl: mongo.url, mongoDb: mongo.dbName },
  });
  return { mongo, a: await replica(), b: await replica() };
}
