// The playground tests' server: the page bundled into a temporary directory (so these
// tests never race a build of dist/ui), served by testApp's fully wired app, with the
// admin settings a test needs.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { testApp } from '../helpers/app.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Bundle the page into a fresh directory, removed when the test ends. */
export function buildUiBundle(t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-ui-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-ui.mjs'), '--out', dir, '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return dir;
}

export async function uiApp(t: Test, options: { assetsDir: string; adminToken?: string; decisionToken?: string; loopbackOnly?: boolean }): Promise<FastifyInstance> {
  // The tokens go straight into the configuration: tests use short ones. Beyond loopback
  // decisions need DECISION_TOKEN (the page sends the admin token, which passes too).
  const { app } = await testApp(t, {
    uiAssetsDir: options.assetsDir,
    config: { adminToken: options.adminToken, decisionToken: options.decisionToken ?? (options.loopbackOnly === false ? 'ui-decision-token' : undefined) },
    ...(options.loopbackOnly !== undefined ? { loopbackOnly: options.loopbackOnly } : {}),
  });
  return app;
}

/** Listen on a free loopback port; the base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** Replace the editor's whole text, as a user selecting all and typing would. */
export async function typeDocument(page: Page, text: string): Promise<void> {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

/** A JSON or YAML call to the server, as another client would make it. */
export async function api(base: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const yaml = typeof body === 'string';
  return fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': yaml ? 'application/yaml' : 'application/json', ...headers },
    ...(body === undefined ? {} : { body: yaml ? body : JSON.stringify(body) }),
  });
}
