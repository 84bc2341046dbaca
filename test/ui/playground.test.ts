// The playground page in a real browser (issue 11): type an invalid policy and see the
// error at its line, fix it, evaluate the draft and see the trace, preview the impact of
// a revoke on recorded requests, save, and see a concurrent edit reported, never
// overwritten. No CSP violation, no request to another origin, all output escaped.

import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { buildUiBundle, uiApp } from './ui-app.js';
import { cspViolations, launchChromium, watchedPage, type Watched } from './browser.js';

const POLICY = `key: org-editors
ordinal: 20
description: Editors manage documents in every org
rules:
  - id: viewers
    subjects: ["role:viewer"]
    grant: ["document:read"]
  - id: editors
    subjects: ["role:editor"]
    grant: ["document:read", "document:write", "document:delete"]
`;
const INVALID = POLICY.replace('grant: ["document:read"]', 'grant: ["document::read"]');
const REVOKED = `${POLICY}    revoke: ["document:delete"]\n`;
const SUITE = `key: org-editors-tests
kind: tests
name: editors
path: global.org
cases:
  - name: editors delete documents
    subject: { id: user:eddie, roles: [editor] }
    expect:
      allowed: [document:delete]
  - name: viewers read documents
    subject: { id: user:vera, roles: [viewer] }
    expect:
      allowed: [document:read]
`;
const HOSTILE = '<img src=x id=injected onerror="window.__pwned=1">';

const assetsDir = buildUiBundle(t);

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

async function api(base: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const yaml = typeof body === 'string';
  return fetch(`${base}${url}`, {
    method,
    headers: { 'content-type': yaml ? 'application/yaml' : 'application/json', ...headers },
    ...(body === undefined ? {} : { body: yaml ? body : JSON.stringify(body) }),
  });
}

/** Replace the editor's whole text, as a user selecting all and typing would. */
async function typeDocument(page: Page, text: string): Promise<void> {
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

async function editorText(page: Page): Promise<string> {
  // An empty line renders as a <br>: compare texts without trailing newlines.
  return (await page.locator('.cm-line').allInnerTexts()).join('\n').replace(/\n+$/, '');
}

async function assertClean(t: Test, w: Watched): Promise<void> {
  t.same([...w.problems, ...(await cspViolations(w.page))], [], 'no CSP violation, page error or request to another origin');
}

t.test('the playground, end to end', async (t) => {
  const app = await uiApp(t, { assetsDir });
  const base = await listen(app);
  const put = await api(base, 'PUT', '/v1/policies/org-editors', POLICY);
  t.equal(put.status, 201);
  t.equal((await api(base, 'PUT', '/v1/policies/org-editors-tests', SUITE)).status, 201);

  // Real decisions first, so the server has request samples to replay.
  const requests = [
    { subject: { id: 'user:alice', roles: ['editor'] }, namespace: 'global.org' },
    { subject: { id: 'user:bob', roles: ['viewer'] }, namespace: 'global.org' },
    { subject: { id: HOSTILE, roles: ['editor'] }, namespace: 'global.org.org:acme' },
  ];
  for (const r of requests) t.equal((await api(base, 'POST', '/v1/evaluate', r)).status, 200);
  t.equal((await api(base, 'POST', '/v1/check', { ...requests[0], permission: 'document:delete' })).status, 200);

  const browser = await launchChromium(t);
  const w = await watchedPage(browser, base);
  const { page } = w;
  page.setDefaultTimeout(15_000);
  await page.goto(`${base}/ui`);

  await t.test('opens with the stored documents listed and the first one in the editor', async (t) => {
    await page.locator('[data-testid=document-entry][data-key="org-editors"]').waitFor();
    await page.locator('[data-testid=valid]').waitFor();
    t.equal(await page.locator('[data-testid=doc-title]').innerText(), 'org-editors');
    t.match(await editorText(page), /id: editors/);
  });

  await t.test('an invalid policy shows its error at its line as you type', async (t) => {
    await typeDocument(page, INVALID);
    const item = page.locator('[data-testid=error-item]');
    await item.first().waitFor();
    t.equal(await item.count(), 1);
    t.equal(await item.getAttribute('data-line'), '7');
    t.match(await item.innerText(), /line 7.*rules\[0\]\.grant\[0\]/);
    t.match(await page.locator('[data-testid=invalid]').innerText(), /1 error/);
    // The lint mark is in the text of line 7, and the gutter marker beside line 7.
    await page.locator('.cm-lintRange-error').first().waitFor();
    t.equal(await page.locator('.cm-line').nth(6).locator('.cm-lintRange-error').count(), 1, 'error marked on line 7');
    t.equal(await page.locator('.cm-lintRange-error').count(), 1, 'and nowhere else');
    const marker = await page.locator('.cm-lint-marker-error').boundingBox();
    const lineNumber = await page.locator('.cm-lineNumbers .cm-gutterElement', { hasText: /^7$/ }).boundingBox();
    t.ok(marker && lineNumber && Math.abs(marker.y + marker.height / 2 - (lineNumber.y + lineNumber.height / 2)) < 6, 'gutter marker beside line 7');
    t.notOk(await page.locator('[data-testid=dirty]').isHidden(), 'shown as modified');
  });

  await t.test('fixing it clears the error', async (t) => {
    await typeDocument(page, POLICY);
    await page.locator('[data-testid=valid]').waitFor();
    t.equal(await page.locator('[data-testid=error-item]').count(), 0);
    t.equal(await page.locator('.cm-lintRange-error').count(), 0);
    t.equal(await editorText(page), POLICY.trimEnd(), 'the editor holds exactly what was typed');
  });

  await t.test('evaluating the draft shows the answer and the trace tree', async (t) => {
    await typeDocument(page, REVOKED);
    await page.locator('[data-testid=valid]').waitFor();
    await page.fill('[data-testid=try-subject]', 'user:alice');
    await page.fill('[data-testid=try-roles]', 'editor');
    await page.fill('[data-testid=try-namespace]', 'global.org');
    await page.fill('[data-testid=try-permission]', 'document:delete');
    await page.click('[data-testid=try-run]');
    await page.locator('[data-testid=trace-after]').waitFor();
    t.match(await page.locator('[data-testid=answer-before]').innerText(), /document:delete/);
    t.notMatch(await page.locator('[data-testid=answer-after]').innerText(), /document:delete\n/);
    t.match(await page.locator('[data-testid=answer-after] [data-testid=answer-check]').innerText(), /document:delete\s+denied/);
    t.match(await page.locator('[data-testid=answer-before] [data-testid=answer-check]').innerText(), /document:delete\s+allowed/);
    t.match(await page.locator('[data-testid=try-delta]').innerText(), /document:delete/);
    const doc = page.locator('[data-testid=trace-after] [data-testid=trace-document]');
    t.equal(await doc.count(), 1);
    t.match(await doc.locator('summary').first().innerText(), /org-editors\s+org/);
    const applied = page.locator('[data-testid=trace-after] [data-testid=trace-rule][data-applied=true]');
    t.equal(await applied.count(), 1);
    t.match(await applied.innerText(), /editors[\s\S]*revoke[\s\S]*document:delete/);
    t.match(await page.locator('[data-testid=trace-after] [data-testid=trace-rule][data-applied=false]').innerText(), /viewers\s+subject not matched/);
    t.equal(await page.locator('[data-testid=changes]').innerText(), 'replace org-editors');
  });

  await t.test('the impact preview of a revoke lists the recorded requests it changes', async (t) => {
    await page.click('[data-testid=tab-impact]');
    await page.click('[data-testid=impact-run]');
    await page.locator('[data-testid=impact-summary]').waitFor();
    t.equal(await page.locator('[data-testid=impact-evaluated] .n').innerText(), '4', 'every recorded request replayed');
    t.equal(await page.locator('[data-testid=impact-changed] .n').innerText(), '3', 'two editors evaluated, one check');
    t.equal(await page.locator('[data-testid=impact-lost] .n').innerText(), '3', 'all three lose document:delete');
    t.equal(await page.locator('[data-testid=impact-gained] .n').innerText(), '0');
    const rows = page.locator('[data-testid=impact-sample]');
    t.equal(await rows.count(), 3);
    const text = (await rows.allInnerTexts()).join('\n');
    t.match(text, /user:alice \(role:editor\)/);
    t.match(text, /document:delete\s+allowed\s+→\s+denied/, 'the check flips');
    t.notMatch(text, /user:bob/, 'the viewer is not affected');
    t.equal(await page.locator('[data-testid=impact-tests-broken] .n').innerText(), '1');
    t.match(await page.locator('[data-testid=tests-broken]').innerText(), /editors › editors delete documents/);
  });

  await t.test('the test suites run with the draft', async (t) => {
    await page.click('[data-testid=tab-tests]');
    await page.click('[data-testid=tests-run]');
    await page.locator('[data-testid=tests-answer]').waitFor();
    t.match(await page.locator('[data-testid=tests-summary]').innerText(), /1 passed, 1 failed with the draft \(stored: 2 passed, 0 failed\)/);
    const failed = page.locator('[data-testid=suite] [data-testid=case].failed');
    t.equal(await failed.count(), 1);
    t.match(await failed.innerText(), /editors delete documents[\s\S]*document:delete/, 'with its diff');
  });

  await t.test('HTML in recorded subjects is shown as text, never run', async (t) => {
    const cell = page.locator('[data-testid=impact-sample] td', { hasText: '<img src=x id=injected' });
    t.equal(await cell.count(), 1, 'shown as text');
    t.equal(await page.locator('#injected').count(), 0, 'no element injected');
    t.equal(await page.evaluate('window.__pwned'), undefined);
  });

  let savedEtag = '';
  await t.test('saving stores the draft with If-Match', async (t) => {
    await page.click('[data-testid=save]');
    await page.locator('[data-testid=saved]').waitFor();
    t.match(await page.locator('[data-testid=saved]').innerText(), /Saved org-editors \(replaced/);
    t.ok(await page.locator('[data-testid=dirty]').isHidden(), 'no longer modified');
    const stored = await api(base, 'GET', '/v1/policies/org-editors', undefined, { accept: 'application/yaml' });
    t.equal(await stored.text(), REVOKED);
    savedEtag = stored.headers.get('etag') ?? '';
  });

  await t.test('a concurrent edit is reported, and the draft kept', async (t) => {
    const theirs = REVOKED.replace('every org', 'every org, says Bob');
    const r = await api(base, 'PUT', '/v1/policies/org-editors', theirs, { 'if-match': savedEtag });
    t.equal(r.status, 200, 'someone else saves first');

    const mine = REVOKED.replace('ordinal: 20', 'ordinal: 25');
    await typeDocument(page, mine);
    await page.keyboard.press('Control+S');
    const conflict = page.locator('[data-testid=conflict]');
    await conflict.waitFor();
    t.match(await conflict.innerText(), /changed by someone else since you opened it/);
    t.match(await conflict.innerText(), /draft is kept/);
    t.equal(await editorText(page), mine.trimEnd(), 'the draft is still in the editor');
    const stored = await (await api(base, 'GET', '/v1/policies/org-editors', undefined, { accept: 'application/yaml' })).text();
    t.equal(stored, theirs, 'their version was not overwritten');

    await page.click('[data-testid=conflict-reload]');
    await page.locator('[data-testid=reloaded]').waitFor();
    t.match(await editorText(page), /says Bob/, 'their version loaded');
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+Z');
    t.match(await editorText(page), /ordinal: 25/, 'one undo brings the draft back');
    await page.click('[data-testid=save]');
    await page.locator('[data-testid=saved]').waitFor();
    const now = await (await api(base, 'GET', '/v1/policies/org-editors', undefined, { accept: 'application/yaml' })).text();
    t.match(now, /ordinal: 25/, 'saved over the version the user saw');
  });

  await t.test('HTML in a document or typed into the page is shown as text, never run', async (t) => {
    const rule = HOSTILE.replace('id=injected', 'id=injected-rule');
    await typeDocument(page, `key: org-editors\ndescription: '${HOSTILE}'\nrules:\n  - id: '${rule}'\n    subjects: ["*"]\n    grant: ["document:read"]\n`);
    await page.locator('[data-testid=valid]').waitFor();
    await page.click('[data-testid=tab-try]');
    await page.fill('[data-testid=try-subject]', HOSTILE);
    await page.fill('[data-testid=try-roles]', '');
    await page.fill('[data-testid=try-permission]', '');
    await page.click('[data-testid=try-run]');
    await page.locator('[data-testid=trace-after]').waitFor();
    t.match(await page.locator('[data-testid=trace-after] [data-testid=trace-rule][data-applied=true]').innerText(), rule, 'the rule id, as text');
    t.equal(await page.locator('#injected, #injected-rule, img').count(), 0, 'no element injected');
    t.equal(await page.evaluate('window.__pwned'), undefined);
  });

  await t.test('no CSP violation, page error or foreign request in the whole session', async (t) => {
    await assertClean(t, w);
  });
});

t.test('with ADMIN_TOKEN the page asks for the token and sends it', async (t) => {
  const app = await uiApp(t, { assetsDir, adminToken: 'tok-3f9a', loopbackOnly: false });
  const base = await listen(app);
  const browser = await launchChromium(t);
  const w = await watchedPage(browser, base);
  const { page } = w;
  page.setDefaultTimeout(15_000);
  await page.goto(`${base}/ui`);
  // Listing the stored documents and validating (caller-supplied policies) need the token.
  await page.locator('[data-testid=token-bar]').waitFor();
  await page.locator('[data-testid=validation-status]').filter({ hasText: 'UNAUTHORIZED' }).waitFor();
  // Any credential the server takes goes here, not only ADMIN_TOKEN.
  t.equal((await page.locator('[data-testid=token-label]').innerText()).trim(), 'Credential', 'the field is labelled Credential');
  t.equal(await page.getAttribute('[data-testid=token-input]', 'placeholder'), 'admin token, scoped token or JWT', 'with a hint of what it takes');
  await page.fill('[data-testid=token-input]', 'tok-3f9a');
  await page.click('[data-testid=token-save]');
  await page.locator('[data-testid=valid]').waitFor();
  await page.click('[data-testid=try-run]');
  await page.locator('[data-testid=trace-after]').waitFor();
  t.match(await page.locator('[data-testid=changes]').innerText(), /create org-example/);
  t.equal(await page.evaluate("sessionStorage.getItem('policy-engine.admin-token')"), 'tok-3f9a', 'kept for this tab');
  await assertClean(t, w);
});
