// A server under test, run as a child process of bench/run.ts. Configured by the JSON
// in BENCH_SERVER; prints `{"ready":true,"port":N,...}` once it listens on loopback.
//
//   { "mode": "bare", "bodyBytes": 412 }   fastify with POST /bare answering a fixed JSON
//                                           body of that size (the ceiling); with
//                                           "spinMicros": N, it busy-waits N µs first
//   { "mode": "app", "env": {...} }         the full service (compose + buildApp) around
//                                           a MemoryStore holding the realistic set
//                                           (and the peers' edge cases with withEdge)
//   { "mode": "app", "floor": true }        the same, but once a cache hit of
//                                           POST /v1/evaluate is answered, the decision
//                                           service returns that result for every request
//                                           without deciding anything: the route's own cost
//                                           (fastify's hooks and validation, the decision
//                                           id, metrics), the floor of any faster cache
//                                           (bench/ratio-budget.ts)
//   { "mode": "mongo", "env": {...} }       the full service on MONGO_URL (scenario 4)
//
// `env` is read by loadConfig like the real environment (CACHE_MAX, POLL_INTERVAL_MS…).
// The service is tsc's output in dist/ (bench/lib/shipped.ts), started with the Node
// flags and environment of `npm start` (bench/lib/start-flags.ts): what is measured is
// what ships.

import Fastify from 'fastify';
import { pino } from 'pino';
import type { MemoryStore } from '../../src/store/memory/memory-store.js';
import { shipped } from '../lib/shipped.js';
import { realisticDocs, recordOf } from '../lib/sets.js';
import { edgeDocs } from '../peers/model.js';

interface ServerConfig {
  mode: 'bare' | 'app' | 'mongo';
  bodyBytes?: number;
  /** bare: busy-wait this many µs in the handler (bench/ratio-budget.ts) */
  spinMicros?: number;
  /** app: answer every evaluate with the first cache hit's result, deciding nothing (see above) */
  floor?: boolean;
  /** app: also store the peers' edge-case documents (agreement checks only) */
  withEdge?: boolean;
  env?: Record<string, string>;
}

const cfg = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerConfig;

/** A JSON object whose serialization is exactly `bytes` long. */
function bodyOfSize(bytes: number): string {
  const empty = JSON.stringify({ permissions: [], padding: '' });
  const pad = Math.max(0, bytes - empty.length);
  return JSON.stringify({ permissions: [], padding: 'x'.repeat(pad) });
}

async function main(): Promise<void> {
  if (cfg.mode === 'bare') {
    const app = Fastify({
      logger: false,
      bodyLimit: 1_048_576,
      onProtoPoisoning: 'error',
      onConstructorPoisoning: 'error',
      return503OnClosing: true,
    });
    const body = bodyOfSize(cfg.bodyBytes ?? 400);
    // Same request as /v1/evaluate (a JSON body fastify parses), fixed answer.
    const spinMs = (cfg.spinMicros ?? 0) / 1000;
    app.post('/bare', async (_request, reply) => {
      // bench/ratio-budget.ts: a busy-wait standing for handler work of a known length
      if (spinMs > 0) for (const end = performance.now() + spinMs; performance.now() < end;);
      return reply.type('application/json; charset=utf-8').send(body);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    announce(typeof addr === 'object' && addr ? addr.port : 0, { bodyBytes: body.length });
    onSignal(() => app.close());
    return;
  }

  const env = { LOG_LEVEL: 'silent', ...(cfg.env ?? {}) };
  // The code that ships (dist/, see bench/lib/shipped.ts), not src/ through tsx.
  const { loadConfig, createServices, buildApp, MemoryStore } = await shipped();
  const config = loadConfig(env);
  const logger = pino({ level: config.logLevel });
  let store: MemoryStore | undefined;
  if (cfg.mode === 'app') {
    store = new MemoryStore();
    await store.putMany([...realisticDocs(), ...(cfg.withEdge ? edgeDocs() : [])].map(recordOf));
  }
  const services = await createServices(config, logger, store);
  if (cfg.floor) answerFromFloor(services.decisions);
  const app = await buildApp({
    decisions: services.decisions,
    policies: services.policies,
    manager: services.manager,
    authzen: { service: services.authzen },
    forwardAuth: services.forwardAuth,
    auth: { adminToken: config.adminToken, loopbackOnly: true },
    bodyLimit: config.bodyLimit,
    logger: false,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  announce(typeof addr === 'object' && addr ? addr.port : 0, {
    documents: services.manager?.status().documents,
    cacheMax: config.cacheMax,
    pollIntervalMs: config.pollIntervalMs,
  });
  onSignal(async () => {
    await app.close();
    await services.close();
  });
}

/** The `floor` mode: the first fresh cache hit's result, returned for every later evaluate. */
function answerFromFloor(decisions: { evaluate: (...args: never[]) => { body?: string } }): void {
  const evaluate = decisions.evaluate.bind(decisions);
  let hit: ReturnType<typeof evaluate> | undefined;
  decisions.evaluate = (...args) => {
    if (hit !== undefined) return hit;
    const result = evaluate(...args);
    if (result.body !== undefined) hit = result;
    return result;
  };
}

function announce(port: number, extra: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid, ...extra })}\n`);
}

function onSignal(close: () => Promise<unknown>): void {
  const stop = () => {
    close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // the parent went away without stopping us
  process.stdin.on('end', stop);
  process.stdin.resume();
}

main().catch((err) => {
  process.stderr.write(`server failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
