// GET /ui without a browser: the headers that make the page safe, the asset route's
// bounds, and who may open the page (src/server/routes/ui.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { UI_CSP, defaultUiDir } from '../../src/server/routes/ui.js';
import { ROOT, buildUiBundle, uiApp } from './ui-app.js';
const assetsDir = buildUiBundle(t);
t.test('the page and its assets carry a strict CSP, and the page inlines nothing', async (t) => {
    const app = await uiApp(t, { assetsDir });
    for (const url of ['/ui', '/ui/']) {
        const r = await app.inject({ url });
        t.equal(r.statusCode, 200, url);
        t.match(r.headers['content-type'], /^text\/html/);
        t.equal(r.headers['content-security-policy'], UI_CSP);
        t.equal(r.headers['x-content-type-options'], 'nosniff');
        t.equal(r.headers['x-frame-options'], 'DENY');
        t.equal(r.headers['referrer-policy'], 'no-referrer');
        t.equal(r.headers['cache-control'], 'no-store');
    }
    t.match(UI_CSP, /script-src 'self'(;|$)/);
    t.match(UI_CSP, /style-src 'self'(;|$)/);
    t.notMatch(UI_CSP, /unsafe-|https?:|\*/, 'no unsafe-*, no other origin, no wildcard');
    const html = (await app.inject({ url: '/ui' })).body;
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    t.ok(scripts.length > 0);
    for (const [, attrs, body] of scripts) {
        t.match(attrs, /src="\/ui\/assets\/[a-z.]+"/, 'every script is a file of this origin');
        t.equal(body.trim(), '', 'no inline script');
    }
    t.notMatch(html, /<style|\sstyle=|\son[a-z]+=|javascript:/i, 'no inline style or handler');
    t.notMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing from another origin');
    const js = await app.inject({ url: '/ui/assets/app.js' });
    t.equal(js.statusCode, 200);
    t.match(js.headers['content-type'], /^text\/javascript/);
    t.equal(js.headers['content-security-policy'], UI_CSP);
    t.notMatch(js.body, /https?:\/\/(?!www\.w3\.org|codemirror\.net)[a-z0-9.-]+\.[a-z]{2,}\/[^\s"'`]*\.(js|css|woff2?)\b/i, 'the bundle loads nothing from elsewhere');
    const css = await app.inject({ url: '/ui/assets/app.css' });
    t.equal(css.statusCode, 200);
    t.match(css.headers['content-type'], /^text\/css/);
    t.notMatch(css.body, /@import|url\(\s*['"]?https?:/i);
});
t.test('the asset route serves only the bundle', async (t) => {
    const app = await uiApp(t, { assetsDir });
    for (const url of ['/ui/assets/index.html', '/ui/assets/nope.js', '/ui/assets/..%2F..%2Fpackage.json', '/ui/assets/.hidden', '/ui/assets/app.txt']) {
        const r = await app.inject({ url });
        t.equal(r.statusCode, 404, url);
    }
});
t.test('with ADMIN_TOKEN the page opens without it, and the API it calls needs it', async (t) => {
    const app = await uiApp(t, { assetsDir, adminToken: 's3cret', loopbackOnly: false });
    t.equal((await app.inject({ url: '/ui' })).statusCode, 200);
    t.equal((await app.inject({ url: '/ui/assets/app.js' })).statusCode, 200);
    const body = { put: ['key: org-x\nrules: []\n'], samples: false, tests: false };
    const refused = await app.inject({ method: 'POST', url: '/v1/preview', payload: body });
    t.equal(refused.statusCode, 401);
    t.equal(refused.json().code, 'UNAUTHORIZED');
    const ok = await app.inject({ method: 'POST', url: '/v1/preview', payload: body, headers: { authorization: 'Bearer s3cret' } });
    t.equal(ok.statusCode, 200, ok.body.slice(0, 300));
});
t.test('beyond loopback without ADMIN_TOKEN the page is refused, as writes are', async (t) => {
    const app = await uiApp(t, { assetsDir, loopbackOnly: false });
    for (const url of ['/ui', '/ui/assets/app.js']) {
        const r = await app.inject({ url });
        t.equal(r.statusCode, 403, url);
        t.equal(r.json().code, 'WRITES_DISABLED');
    }
});
t.test('an unbuilt page is a 503 that says how to build it', async (t) => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'policy-ui-empty-'));
    t.teardown(() => rmSync(empty, { recursive: true, force: true }));
    const app = await uiApp(t, { assetsDir: empty });
    const r = await app.inject({ url: '/ui' });
    t.equal(r.statusCode, 503);
    t.equal(r.json().code, 'UI_NOT_BUILT');
    t.match(r.json().message, /build:ui/);
});
t.test('defaultUiDir is dist/ui at the package root', async (t) => {
    t.equal(defaultUiDir(), path.join(ROOT, 'dist', 'ui'));
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    t.match(pkg.scripts['build'], /build-ui\.mjs/, 'npm run build bundles the page');
});
