// Takes docs/img/playground.png: the playground with the example policies, Acme's
// organisation document open with an edit, and the impact preview of that edit on a
// few recorded requests. Run after changing the page:
//
//   node --import tsx scripts/screenshot-ui.ts [out.png]
//
// Needs /usr/bin/chromium (scripts/install-chromium.sh) and bundles the page first.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { loadConfig } from '../src/config/config.js';
import { createServices, decisionLogOptions } from '../src/compose.js';
import { buildApp } from '../src/server/app.js';
import { defaultUiDir } from '../src/server/routes/ui.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'img', 'playground.png'));
const ACME = 'global.org.org:57af7f6d-f6f7-4af1-b182-3a30440fa781';
execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-ui.mjs'), '--quiet'], { stdio: 'inherit' });
const config = loadConfig({});
const services = await createServices(config, pino({ level: 'silent' }), new MemoryStore());
const app = await buildApp({
    decisions: services.decisions, policies: services.policies, relations: services.relations, manager: services.manager,
    preview: services.preview, ui: { assetsDir: defaultUiDir() }, auth: { adminToken: undefined, loopbackOnly: true },
    bodyLimit: config.bodyLimit, metrics: services.metrics, decisionLog: decisionLogOptions(config),
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
if (!address || typeof address === 'string')
    throw new Error('no TCP address');
const base = `http://127.0.0.1:${address.port}`;
const post = async (url, body, type = 'application/json') => {
    const r = await fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': type }, body });
    if (!r.ok)
        throw new Error(`POST ${url}: ${r.status} ${await r.text()}`);
};
const dir = path.join(ROOT, 'examples', 'policies');
const stream = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => readFileSync(path.join(dir, f), 'utf8'));
await post('/v1/policies', stream.join('\n---\n'), 'application/yaml');
// Traffic to replay: who asked what, before the edit.
const people = [
    { id: 'user:eddie', roles: ['editor'] }, { id: 'user:erin', roles: ['editor'], groups: ['contractors'] },
    { id: 'user:vera', roles: ['viewer'] }, { id: 'user:olga', roles: ['org-admin'] }, { id: 'user:bill', roles: ['billing'] },
];
for (const subject of people) {
    await post('/v1/evaluate', JSON.stringify({ subject, namespace: ACME }));
    await post('/v1/evaluate', JSON.stringify({ subject, namespace: 'global.org' }));
}
await post('/v1/check', JSON.stringify({ subject: people[0], namespace: ACME, permission: 'comment:write' }));
const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 820 }, deviceScaleFactor: 1 });
    page.setDefaultTimeout(15_000);
    await page.goto(`${base}/ui`);
    await page.locator('[data-testid=document-entry][data-key=org-editors]').click();
    await page.locator('[data-testid=valid]').waitFor();
    // The edit: editors may no longer comment.
    await page.locator('.cm-line', { hasText: 'revoke: ["document:purge"]' }).click();
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type(', "comment:*"');
    await page.locator('[data-testid=valid]').waitFor();
    await page.click('[data-testid=tab-impact]');
    await page.click('[data-testid=impact-run]');
    await page.locator('[data-testid=impact-summary]').waitFor();
    await page.screenshot({ path: out });
    process.stderr.write(`screenshot-ui: ${path.relative(process.cwd(), out)}\n`);
}
finally {
    await browser.close();
    await app.close();
    await services.close();
}
