// Debian's Chromium, driven by playwright-core, for the playground's end-to-end tests.
// Installed by scripts/install-chromium.sh (CI runs it); never downloaded by playwright.
// Every page records what would make a test fail however it ends: CSP violations, page
// errors, and requests to any origin but the server's.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
export async function launchChromium(t) {
    if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} is missing: run scripts/install-chromium.sh (as root, or with sudo), or set CHROMIUM_PATH`);
    }
    // launch() gives every browser a fresh temporary profile, removed when it closes.
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
    t.teardown(() => browser.close());
    return browser;
}
// Reported by the page itself: a violation in the document or in the editor's shadow root.
const CSP_LISTENER = `
  window.__csp = [];
  const record = (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
  document.addEventListener('securitypolicyviolation', record, true);
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    root.addEventListener('securitypolicyviolation', record, true);
    return root;
  };
`;
export async function watchedPage(browser, base) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
    await context.addInitScript({ content: CSP_LISTENER });
    const page = await context.newPage();
    const problems = [];
    const origin = new URL(base).origin;
    page.on('console', (m) => {
        if (/content.security.policy|refused to/i.test(m.text()))
            problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
        const url = new URL(r.url());
        if (url.protocol !== 'data:' && url.origin !== origin)
            problems.push(`request to another origin: ${r.url()}`);
    });
    return { page, context, problems };
}
/** Violations the page saw (read before a test ends). */
export async function cspViolations(page) {
    return page.evaluate('window.__csp ?? []');
}
