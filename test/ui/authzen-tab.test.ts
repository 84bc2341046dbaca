// The playground's AuthZEN tab in a real browser (issue 19): an AuthZEN 1.0 Access
// Evaluation composed as JSON, sent to POST /access/v1/evaluation (or /evaluations for a
// batch, with its semantic), the decision and the reason shown; the admin token goes
// with it as with every call. A subject id holding markup is shown as text; no CSP
// violation, no request to another origin.
import t from 'tap';
import type { Request } from 'playwright-core';
import { api, buildUiBundle, listen, uiApp } from './ui-app.js';
import { cspViolations, launchChromium, watchedPage } from './browser.js';

const assetsDir = buildUiBundle(t);
const HOSTILE = '<img src=x id=injected onerror="window.__pwned=1">';

const POLICY = `key: global-docs
rules:
  - id: readers
    subjects: ["role:reader"]
    grant: [read]
  - id: owners
    subjects: ["*"]
    when: 'resource.attributes.owner == subject.id'
    grant: [read, edit]
  - id: no-purge
    subjects: ["*"]
    deny: [purge]
    message: 'Purging needs an administrator ${HOSTILE}'
`;

t.test('the AuthZEN tab evaluates one request and a batch', async (t) => {
  const app = await uiApp(t, { assetsDir, adminToken: 'tok-a7', loopbackOnly: false });
  const base = await listen(app);
  t.equal((await api(base, 'PUT', '/v1/policies/global-docs', POLICY, { authorization: 'Bearer tok-a7' })).status, 201);

  const browser = await launchChromium(t);
  const w = await watchedPage(browser, base);
  const { page } = w;
  page.setDefaultTimeout(15_000);
  const sent: Request[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/access/v1/')) sent.push(r);
  });
  await page.goto(`${base}/ui`);
  await page.locator('[data-testid=token-bar]').waitFor();
  await page.fill('[data-testid=token-input]', 'tok-a7');
  await page.click('[data-testid=token-save]');
  await page.locator('[data-testid=valid]').waitFor();

  await page.click('[data-testid=tab-authzen]');
  const subject = { type: 'user', id: HOSTILE, properties: { roles: ['reader'] } };
  await page.fill('[data-testid=authzen-subject]', JSON.stringify(subject));
  await page.fill('[data-testid=authzen-resource]', JSON.stringify({ type: 'document', id: 'd1', properties: { owner: `user:${HOSTILE}` } }));
  await page.fill('[data-testid=authzen-action]', JSON.stringify({ name: 'edit' }));
  await page.click('[data-testid=authzen-run]');
  await page.locator('[data-testid=authzen-answer]').waitFor();
  t.equal(await page.locator('[data-testid=authzen-verdict]').innerText(), 'allowed', 'the owner may edit');
  t.equal(sent.length, 1);
  t.equal(new URL(sent[0]!.url()).pathname, '/access/v1/evaluation');
  t.equal(sent[0]!.headers().authorization, 'Bearer tok-a7', 'the token goes with it');
  t.same(JSON.parse(sent[0]!.postData() ?? ''), { subject, resource: { type: 'document', id: 'd1', properties: { owner: `user:${HOSTILE}` } }, action: { name: 'edit' } });
  await page.locator('[data-testid=authzen-answer] details summary').click();
  t.equal((JSON.parse(await page.locator('[data-testid=authzen-request]').innerText()) as { subject: { id: string } }).subject.id, HOSTILE, 'the request shown, the subject id as text');

  await t.test('a denial shows its reason', async (t) => {
    await page.fill('[data-testid=authzen-action]', JSON.stringify({ name: 'purge' }));
    await page.click('[data-testid=authzen-run]');
    await page.locator('[data-testid=authzen-context]').waitFor();
    t.equal(await page.locator('[data-testid=authzen-verdict]').innerText(), 'denied');
    const reason = JSON.parse(await page.locator('[data-testid=authzen-context]').innerText()) as { reason: { text: string; rule: string } };
    t.equal(reason.reason.text, `Purging needs an administrator ${HOSTILE}`, 'the reason, as text');
    t.equal(reason.reason.rule, 'no-purge');
  });

  await t.test('a batch with a semantic', async (t) => {
    await page.locator('[data-testid=authzen-evaluations]').evaluate((el) => el.closest('details')?.setAttribute('open', ''));
    await page.fill('[data-testid=authzen-evaluations]', JSON.stringify([{ action: { name: 'read' } }, { action: { name: 'purge' } }, { action: { name: 'edit' } }]));
    await page.selectOption('[data-testid=authzen-semantic]', 'deny_on_first_deny');
    await page.click('[data-testid=authzen-run]');
    await page.locator('[data-testid=authzen-item]').first().waitFor();
    t.equal(new URL(sent.at(-1)!.url()).pathname, '/access/v1/evaluations');
    t.same((JSON.parse(sent.at(-1)!.postData() ?? '{}') as { options?: unknown }).options, { evaluations_semantic: 'deny_on_first_deny' });
    const verdicts = await page.locator('[data-testid=authzen-item] [data-testid=authzen-verdict]').allInnerTexts();
    t.same(verdicts, ['allowed', 'denied'], 'stopped at the first denial');
    t.match(await page.locator('[data-testid=authzen-short]').innerText(), /2 of 3 evaluated/);

    await page.selectOption('[data-testid=authzen-semantic]', 'execute_all');
    await page.click('[data-testid=authzen-run]');
    await page.locator('[data-testid=authzen-item]').nth(2).waitFor();
    t.same(await page.locator('[data-testid=authzen-item] [data-testid=authzen-verdict]').allInnerTexts(), ['allowed', 'denied', 'allowed']);
  });

  await t.test('a malformed request: the error, as the API said it', async (t) => {
    await page.fill('[data-testid=authzen-evaluations]', '');
    await page.fill('[data-testid=authzen-action]', '{"name": 7}');
    await page.click('[data-testid=authzen-run]');
    await page.locator('[data-testid=authzen-error]').waitFor();
    t.match(await page.locator('[data-testid=authzen-error]').innerText(), /REQUEST_INVALID|PERMISSION_INVALID/);
    await page.fill('[data-testid=authzen-action]', 'not json');
    await page.click('[data-testid=authzen-run]');
    await page.locator('[data-testid=authzen-error]', { hasText: 'Action is not JSON' }).waitFor();
    t.pass('checked in the page before sending');
  });

  t.equal(await page.locator('#injected, img').count(), 0, 'no element injected');
  t.equal(await page.evaluate('window.__pwned'), undefined, 'never run');
  t.same([...w.problems, ...(await cspViolations(page))], [], 'no CSP violation, page error or request to another origin');
});
