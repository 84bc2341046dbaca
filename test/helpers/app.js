// A fully wired service around a given store, for inject() tests: the same
// composition as main.ts, with a silent logger and test-friendly intervals.
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { createServices, decisionLogOptions } from '../../src/compose.js';
import { buildApp } from '../../src/server/app.js';
import { defaultUiDir } from '../../src/server/routes/ui.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
export async function testApp(t, options = {}) {
    const config = {
        ...loadConfig({ POLL_INTERVAL_MS: '100', ...(options.env ?? {}) }),
        ...(options.store === 'none' ? { store: 'none' } : {}),
        ...(options.config ?? {}),
    };
    const logger = options.logger ?? pino({ level: 'silent' });
    const store = options.store === 'none' ? undefined : (options.store ?? new MemoryStore());
    const services = await createServices(config, logger, store);
    const app = await buildApp({
        decisions: services.decisions,
        policies: services.policies,
        relations: services.relations,
        manager: services.manager,
        preview: services.preview,
        ...(config.ui ? { ui: { assetsDir: options.uiAssetsDir ?? defaultUiDir() } } : {}),
        auth: { adminToken: config.adminToken, loopbackOnly: options.loopbackOnly ?? true },
        bodyLimit: config.bodyLimit,
        metrics: services.metrics,
        decisionLog: decisionLogOptions(config),
        ...(options.logger ? { logger: options.logger } : {}),
    });
    t.teardown(async () => {
        await app.close();
        await services.close();
    });
    return { app, services, config };
}
/** PUT a YAML policy and expect success. */
export async function putYaml(t, app, key, yamlText, headers = {}) {
    const r = await app.inject({ method: 'PUT', url: `/v1/policies/${key}`, headers: { 'content-type': 'application/yaml', ...headers }, payload: yamlText });
    t.ok(r.statusCode === 200 || r.statusCode === 201, `PUT ${key}: ${r.statusCode} ${r.body.slice(0, 300)}`);
    return String(r.headers.etag);
}
export async function evaluate(app, body) {
    const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: body });
    return { status: r.statusCode, json: r.json() };
}
