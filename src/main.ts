// Composition root: configuration, logger, services, HTTP listener, graceful shutdown.

import { ConfigError, isLoopback, jwtVerificationOn, loadConfig } from './config/config.js';
import { createServices, decisionLogOptions } from './compose.js';
import { createLogger } from './observability/logger.js';
import { accessWarnings } from './server/admin-auth.js';
import { buildApp } from './server/app.js';
import { watchCredentialFile } from './server/credentials.js';
import { defaultUiDir } from './server/routes/ui.js';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  let config;
  try {
    config = loadConfig(env, argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`policy-engine: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const loopbackOnly = isLoopback(config.host);
  const credentials = config.adminTokensFile === undefined ? undefined : watchCredentialFile({
    path: config.adminTokensFile,
    reloadMs: config.adminTokensReloadMs,
    jwt: jwtVerificationOn(config),
    onProblem: (message) => logger.error({ file: config.adminTokensFile }, message),
  });
  const auth = { adminToken: config.adminToken, readToken: config.readToken, decisionToken: config.decisionToken, loopbackOnly, allowedHosts: config.allowedHosts, ...(credentials ? { credentials } : {}) };
  for (const warning of accessWarnings(auth)) logger.warn({ host: config.host }, warning);
  const services = await createServices(config, logger);
  services.metrics.collectProcessMetrics();
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
    ...(config.ui ? { ui: { assetsDir: defaultUiDir() } } : {}),
    auth,
    bodyLimit: config.bodyLimit,
    logger,
    metrics: services.metrics,
    decisionLog: decisionLogOptions(config),
    decisionSinks: services.shippers,
    ...(config.tlsCertFile && config.tlsKeyFile
      ? { tls: { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) } }
      : {}),
  });
  const address = await app.listen({ port: config.port, host: config.host });
  collectStartupGarbage();
  if (config.ui && (loopbackOnly || config.adminToken !== undefined)) logger.info({ url: `${address}/ui` }, 'the policy playground is served at /ui');

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    void (async () => {
      await app.close();
      await services.close();
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2), process.env).catch((err: unknown) => {
    process.stderr.write(`policy-engine: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * One full garbage collection once the documents are loaded and the port is open. The load's
 * texts, parse trees and compile intermediates are garbage by now, and with the small young
 * generation the server starts with (package.json `start`, docs/operations.md) much of it was
 * promoted: without this the old space keeps those pages until its next major collection,
 * which an idle sidecar may not reach for a long time. `gc` is exposed for this call only, in a
 * throw-away context, never as a global.
 */
function collectStartupGarbage(): void {
  let gc: unknown;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('typeof gc === "function" ? gc : undefined');
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  // A Node whose V8 ignores the late flag just skips it: memory, not correctness.
  if (typeof gc === 'function') (gc as () => void)();
}
