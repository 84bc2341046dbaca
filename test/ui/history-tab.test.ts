// The playground's History tab in a real browser (issue 21): the open document's recorded
// versions with their diffs (GET /v1/policies/:key/history), a rollback through
// POST /v1/policies/:key/rollback with If-Match of the version the page holds, and a
// concurrent change reported as a banner (412), never overwritten. Markup in a document
// is shown as text; no CSP violation, no request to another origin.
import t from 'tap';
import type { Page, Request } from 'playwright-core';
import { api, buildUiBundle, listen, uiApp } from './ui-app.js';
import { cspViolations, launchChromium, watchedPage } from './browser.js';

const assetsDir = buildUiBundle(t);
const HOSTILE = '<img src=x id=injected onerror="window.__pwned=1">';

const V1 = `key: org-editors
description: Editors manage documents
rules:
  - id: editors
    subjects: ["role:editor"]
    grant: ["document:read", "document:write"]
`;
const V2 = V1.replace('description: Editors manage documents', `description: '${HOSTILE}'`);
const V3 = V1.replace('grant: ["document:read", "document:write"]', 'grant: ["document:read"]');

async function editorText(page: Page): Promise<string> {
  return (await page.locator('.cm-line').allInnerTexts()).join('\n').replace(/\n+$/, '');
}

async function stored(base: string): Promise<{ text: string; etag: string }> {
  const r = await api(base, 'GET', '/v1/policies/org-editors', undefined, { accept: 'application/yaml' });
  return { text: await r.text(), etag: r.headers.get('etag') ?? '' };
}

t.test('the History tab lists versions with diffs, rolls back with If-Match, reports a concurrent change', async (t) => {
  const app = await uiApp(t, { assetsDir });
  const base = await listen(app);
  t.equal((await api(base, 'PUT', '/v1/policies/org-editors', V1)).status, 201);
  t.equal((await api(base, 'PUT', '/v1/policies/org-editors', V2)).status, 200);
  const v2 = await stored(base);

  const browser = await launchChromium(t);
  const w = await watchedPage(browser, base);
  const { page } = w;
  page.setDefaultTimeout(15_000);
  const rollbacks: Request[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/rollback')) rollbacks.push(r);
  });
  await page.goto(`${base}/ui`);
  await page.locator('[data-testid=valid]').waitFor();
  t.equal(await page.locator('[data-testid=doc-title]').innerText(), 'org-editors');

  await page.click('[data-testid=tab-history]');
  const entries = page.locator('[data-testid=history-entry]');
  await entries.nth(1).waitFor();
  t.equal(await entries.count(), 2, 'two versions');
  const newest = entries.first();
  t.equal(await newest.locator('[data-testid=history-current]').count(), 1, 'the newest is the one open');
  t.equal(await newest.locator('[data-testid=history-rollback]').count(), 0, 'nothing to roll back to there');
  const added = await newest.locator('.diff-add').allInnerTexts();
  t.ok(added.some((l) => l.includes(`+description: '${HOSTILE}'`)), 'the diff, with the markup as text');
  t.ok((await newest.locator('.diff-del').allInnerTexts()).some((l) => l.includes('-description: Editors manage documents')));
  const oldest = entries.nth(1);
  const v1Revision = await oldest.getAttribute('data-revision');
  t.match(await oldest.innerText(), /created/);

  await t.test('rolling back writes the old version again, If-Match the one open', async (t) => {
    await oldest.locator('[data-testid=history-rollback]').click();
    await page.locator('[data-testid=rolled-back]').waitFor();
    t.match(await page.locator('[data-testid=rolled-back]').innerText(), new RegExp(`back to revision ${v1Revision}`));
    t.equal(rollbacks.length, 1);
    t.equal(rollbacks[0]!.headers()['if-match'], v2.etag, 'If-Match of the version the page opened');
    t.same(JSON.parse(rollbacks[0]!.postData() ?? '{}'), { revision: v1Revision });
    t.equal((await stored(base)).text, V1, 'the old version is stored again');
    t.equal(await editorText(page), V1.trimEnd(), 'and in the editor');
    await entries.nth(2).waitFor();
    t.equal(await entries.count(), 3, 'the rollback is recorded');
    t.equal(await entries.first().locator('[data-testid=history-current]').count(), 1);
  });

  await t.test('a concurrent change: 412, a banner, nothing overwritten', async (t) => {
    const now = await stored(base);
    t.equal((await api(base, 'PUT', '/v1/policies/org-editors', V3, { 'if-match': now.etag })).status, 200, 'someone else saves');
    // The list still shows what the page loaded: roll back to the second version.
    await entries.nth(1).locator('[data-testid=history-rollback]').click();
    const conflict = page.locator('[data-testid=rollback-conflict]');
    await conflict.waitFor();
    t.match(await conflict.innerText(), /Not rolled back[\s\S]*changed by someone else/);
    t.equal(rollbacks.at(-1)!.headers()['if-match'], now.etag);
    t.equal((await stored(base)).text, V3, 'their version stays');
    await page.click('[data-testid=rollback-conflict-reload]');
    await page.locator('[data-testid=reloaded]').waitFor();
    t.equal(await editorText(page), V3.trimEnd(), 'their version loaded');
    await entries.nth(3).waitFor();
    t.equal(await entries.count(), 4, 'and the history shows their change');
  });

  await t.test('a new document has no history', async (t) => {
    await page.click('[data-testid=new-document]');
    await page.locator('[data-testid=history-none]').waitFor();
    t.equal(await entries.count(), 0);
  });

  t.equal(await page.locator('#injected, img').count(), 0, 'no element injected');
  t.equal(await page.evaluate('window.__pwned'), undefined, 'never run');
  t.same([...w.problems, ...(await cspViolations(page))], [], 'no CSP violation, page error or request to another origin');
});
