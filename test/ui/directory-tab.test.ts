// The playground's Directory tab in a real browser: the stored entities listed by type,
// paged with More, one shown with its roles, groups and attributes; a ref holding markup
// is shown as text; no CSP violation, no request to another origin.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildUiBundle, uiApp } from './ui-app.js';
import { cspViolations, launchChromium, watchedPage } from './browser.js';

const assetsDir = buildUiBundle(t);
const HOSTILE = 'user:<img src=x onerror="window.__pwned=1">';

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

t.test('the Directory tab lists, pages and shows entities', async (t) => {
  const app = await uiApp(t, { assetsDir });
  const base = await listen(app);
  const entities = [
    { ref: 'user:alice', roles: ['editor'], attributes: { email: 'alice@example.com' } },
    { ref: HOSTILE, roles: ['x'] },
    { ref: 'document:d1', attributes: { owner: 'user:alice' } },
    ...Array.from({ length: 120 }, (_, i) => ({ ref: `user:u${String(i).padStart(3, '0')}` })),
  ];
  const r = await fetch(`${base}/v1/entities`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entities) });
  t.equal(r.status, 200);

  const browser = await launchChromium(t);
  const w = await watchedPage(browser, base);
  const { page } = w;
  page.setDefaultTimeout(15_000);
  await page.goto(`${base}/ui`);
  await page.locator('[data-testid=tab-directory]').click();
  await page.locator('[data-testid=entity-entry]').first().waitFor();
  t.equal(await page.locator('[data-testid=entity-entry]').count(), 100, 'a first page of 100');
  await page.locator('[data-testid=directory-more]').click();
  await page.locator('[data-testid=entity-entry]').nth(122).waitFor();
  t.equal(await page.locator('[data-testid=entity-entry]').count(), 123, 'More fetches the rest');
  t.ok(await page.locator('[data-testid=directory-more]').isHidden(), 'and hides itself on the last page');

  await page.locator('[data-testid=directory-type]').fill('document');
  await page.locator('[data-testid=directory-load]').click();
  await page.locator('[data-testid=entity-entry][data-ref="document:d1"]').waitFor();
  t.equal(await page.locator('[data-testid=entity-entry]').count(), 1, 'the type filter');
  await page.locator('[data-testid=entity-entry] button').click();
  t.equal(await page.locator('[data-testid=entity-ref]').innerText(), 'document:d1');
  t.same(JSON.parse(await page.locator('[data-testid=entity-json]').innerText()), { roles: [], groups: [], attributes: { owner: 'user:alice' } });

  await page.locator('[data-testid=directory-type]').fill('user');
  await page.locator('[data-testid=directory-load]').click();
  const hostile = page.locator('[data-testid=entity-entry]').filter({ hasText: '<img' });
  await hostile.waitFor();
  await hostile.locator('button').click();
  t.equal(await page.locator('[data-testid=entity-ref]').innerText(), HOSTILE, 'markup in a ref is shown as text');
  t.equal(await page.evaluate('window.__pwned'), undefined, 'never run');
  t.same([...w.problems, ...(await cspViolations(page))], [], 'no CSP violation, page error or request to another origin');
});
