// The playground tests' server: the page bundled into a temporary directory (so these
// tests never race a build of dist/ui), served by a fully wired app as main.ts builds
// it, with the admin settings a test needs.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config/config.js';
import { createServices, decisionLogOptions } from '../../src/compose.js';
import { buildApp } from '../../src/server/app.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Bundle the page into a fresh directory, removed when the test ends. */
export function buildUiBundle(t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'policy-ui-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-ui.mjs'), '--out', dir, '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return dir;
}

export async function uiApp(t: Test, options: { assetsDir: string; adminToken?: string; loopbackOnly?: boolean }): Promise<FastifyInstance> {
  const config = loadConfig({ POLL_INTERVAL_MS: '100' });
  const services = await createServices(config, pino({ level: 'silent' }), new MemoryStore());
  const app = await buildApp({
    decisions: services.decisions,
    policies: services.policies,
    relations: services.relations,
    manager: services.manager,
    preview: services.preview,
    ui: { assetsDir: options.assetsDir },
    auth: { adminToken: options.adminToken, loopbackOnly: options.loopbackOnly ?? true },
    bodyLimit: config.bodyLimit,
    metrics: services.metrics,
    decisionLog: decisionLogOptions(config),
  });
  t.teardown(async () => {
    await app.close();
    await services.close();
  });
  return app;
}
