// The playground's "Which resources" tab in a real browser (issue 18): the query plan of
// the stored documents beside the plan with the draft (POST /v1/preview with `plans`),
// its filter, MongoDB and SQL forms; a draft that cannot be planned shows the refusal,
// and a partial plan what to re-check. Values (here: from the context and a document)
// are shown as text; no CSP violation, no request to another origin, nothing stored.
import t from 'tap';
import { api, buildUiBundle, listen, typeDocument, uiApp } from './ui-app.js';
import { cspViolations, launchChromium, watchedPage } from './browser.js';

const assetsDir = buildUiBundle(t);
const HOSTILE = '<img src=x id=injected onerror="window.__pwned=1">';

const STORED = `key: global-docs
description: published documents are public
rules:
  - id: published
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.status == 'published'"
`;
// The draft: documents shared with the name the context carries, too.
const DRAFT = `key: global-docs
description: '${HOSTILE}'
rules:
  - id: published
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.status == 'published'"
  - id: shared
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.sharedWith == context.who"
`;
const UNPLANNABLE = `${STORED}  - id: name-prefix
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.name.startsWith('pub')"
`;

t.test('the Which resources tab plans the stored documents and the draft side by side', async (t) => {
  const app = await uiApp(t, { assetsDir });
  const base = await listen(app);
  t.equal((await api(base, 'PUT', '/v1/policies/global-docs', STORED)).status, 201);

  const browser = await launchChromium(t);
  const w = await watchedPage(browser, base);
  const { page } = w;
  page.setDefaultTimeout(15_000);
  await page.goto(`${base}/ui`);
  await page.locator('[data-testid=valid]').waitFor();
  await typeDocument(page, DRAFT);
  await page.locator('[data-testid=valid]').waitFor();

  await page.click('[data-testid=tab-plans]');
  await page.fill('[data-testid=plan-subject]', 'user:alice');
  await page.fill('[data-testid=plan-namespace]', 'global');
  await page.fill('[data-testid=plan-permission]', 'document:read');
  await page.fill('[data-testid=plan-type]', 'document');
  await page.locator('[data-testid=plan-run]').evaluate((b) => b.closest('.panel')?.querySelector('details')?.setAttribute('open', ''));
  await page.fill('[data-testid=plan-context]', JSON.stringify({ who: HOSTILE }));
  await page.fill('[data-testid=plan-fields]', JSON.stringify({ 'attributes.sharedWith': 'shared_with' }));
  await page.click('[data-testid=plan-run]');
  await page.locator('[data-testid=plan-answer]').waitFor();

  t.equal(await page.locator('[data-testid=plan-changed]').getAttribute('data-changed'), 'true', 'the draft changes the plan');
  t.equal(await page.locator('[data-testid=plan-before] [data-testid=plan-filter]').innerText(), 'attributes.status = "published"');
  const after = await page.locator('[data-testid=plan-after] [data-testid=plan-filter]').innerText();
  t.equal(after, `attributes.status = "published" OR attributes.sharedWith = ${JSON.stringify(HOSTILE)}`, 'the draft\'s filter, the context value as text');
  t.match(await page.locator('[data-testid=plan-after] [data-testid=plan-kind]').innerText(), 'conditional');
  t.match(await page.locator('[data-testid=plan-after] [data-testid=plan-exact]').innerText(), /^exact$/);
  await page.locator('[data-testid=plan-after] .plan-translations summary').click();
  t.same(JSON.parse(await page.locator('[data-testid=plan-after] [data-testid=plan-mongo]').innerText()), { $or: [{ status: 'published' }, { shared_with: HOSTILE }] });
  t.equal(await page.locator('[data-testid=plan-after] [data-testid=plan-sql]').innerText(), '"status" = $1 OR "shared_with" = $2');
  t.match(await page.locator('[data-testid=plan-after] [data-testid=plan-params]').innerText(), JSON.stringify(['published', HOSTILE]), 'values only as parameters');
  t.equal(await page.locator('[data-testid=changes]').innerText(), 'replace global-docs');

  await t.test('a draft without a filter form: the refusal for that state, and a partial plan', async (t) => {
    await typeDocument(page, UNPLANNABLE);
    await page.locator('[data-testid=valid]').waitFor();
    await page.click('[data-testid=plan-run]');
    await page.locator('[data-testid=plan-after] [data-testid=plan-error]').waitFor();
    t.match(await page.locator('[data-testid=plan-after] [data-testid=plan-error]').innerText(), /PLAN_UNSUPPORTED[\s\S]*global-docs[\s\S]*name-prefix/);
    t.equal(await page.locator('[data-testid=plan-before] [data-testid=plan-filter]').innerText(), 'attributes.status = "published"', 'the stored state still plans');
    await page.check('[data-testid=plan-partial]');
    await page.click('[data-testid=plan-run]');
    await page.locator('[data-testid=plan-after] [data-testid=plan-recheck]').waitFor();
    t.match(await page.locator('[data-testid=plan-after] [data-testid=plan-exact]').innerText(), /not exact/);
    t.match(await page.locator('[data-testid=plan-after] [data-testid=plan-recheck]').innerText(), /global-docs › name-prefix/);
    t.equal(await page.locator('[data-testid=plan-after] [data-testid=plan-filter]').innerText(), 'every row');
  });

  await t.test('a refused request is shown as the API said it', async (t) => {
    await page.fill('[data-testid=plan-permission]', 'document:*');
    await page.click('[data-testid=plan-run]');
    await page.locator('[data-testid=plan-before] [data-testid=plan-error]').waitFor();
    t.match(await page.locator('[data-testid=plan-before] [data-testid=plan-error]').innerText(), /PERMISSION_INVALID/);
  });

  const stored = await (await api(base, 'GET', '/v1/policies/global-docs', undefined, { accept: 'application/yaml' })).text();
  t.equal(stored, STORED, 'nothing was saved');
  t.equal(await page.locator('#injected, img').count(), 0, 'no element injected');
  t.equal(await page.evaluate('window.__pwned'), undefined, 'never run');
  t.same([...w.problems, ...(await cspViolations(page))], [], 'no CSP violation, page error or request to another origin');
});
