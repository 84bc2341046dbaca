// A real policy engine on a loopback port for the client tests, and ports that answer
// nothing (refused) or never answer (hang).

import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { Test } from 'tap';
import type { Logger } from 'pino';
import { testApp, type TestApp } from '../helpers/app.js';
import { editorsPolicy } from '../helpers/policies.js';

export const ADMIN_TOKEN = 'client-test-admin-token-0123';

export const DOCS_POLICY = editorsPolicy({ key: 'global-docs', comment: 'who may do what with documents' });

/** testApp, listening on 127.0.0.1, with an admin token; closed at teardown. */
export async function runningEngine(t: Test, options: { logger?: Logger; env?: Record<string, string> } = {}): Promise<TestApp & { url: string }> {
  const { env, ...rest } = options;
  const engine = await testApp(t, { env: { ADMIN_TOKEN, ...env }, ...rest });
  const url = await engine.app.listen({ port: 0, host: '127.0.0.1' });
  return { ...engine, url };
}

/** A loopback URL where nothing listens (connections are refused). */
export async function refusedUrl(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A loopback URL that accepts connections and never answers; closed at teardown. */
export async function hangingUrl(t: Test): Promise<string> {
  const server = createHttpServer(() => { /* never answers */ });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

/**
 * Asks a guarded service whose engine never answers (DELETE a document as an editor):
 * the guard must answer 503 AUTHORIZATION_UNAVAILABLE once its client's 2 s timeout
 * passes, not before it and not never.
 */
export async function assertTimeoutRefused(t: Test, url: string, path: string): Promise<void> {
  const started = Date.now();
  const r = await fetch(`${url}${path}`, { method: 'DELETE', headers: { 'x-user': 'user:alice', 'x-role': 'editor' } });
  const took = Date.now() - started;
  t.equal(r.status, 503);
  t.match(await r.json(), { code: 'AUTHORIZATION_UNAVAILABLE' });
  t.ok(took >= 1900 && took < 30_000, `answered after the client's 2 s timeout, not before and not never (${took} ms)`);
}
