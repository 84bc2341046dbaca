// Issue 16 item 4, over real HTTP on the file store: a policy file that does not load
// never silently drops what it says (its namespace answers 503 POLICY_STATE_BROKEN, or
// every path when its namespace cannot be read), and a policy directory that cannot be
// read makes the state stale (default refused, /readyz 503) until it can be read again.
// The MongoDB side (a stored document that does not parse) is in outage.test.ts.

import t, { type Test } from 'tap';
import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { httpSender, type Send } from '../helpers/http.js';
import { FileStore } from '../../src/store/file/file-store.js';

const GLOBAL = 'key: global-base\nrules:\n  - subjects: ["*"]\n    grant: ["document:*"]\n';
const ORG_DENY = 'key: org-deny\nrules:\n  - subjects: ["*"]\n    deny: ["document:delete"]\n';
/** the same deny, with one field this version does not know */
const ORG_DENY_BROKEN = 'key: org-deny\nrules:\n  - subjects: ["*"]\n    deny: ["document:delete"]\n    colour: red\n';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(t: Test, what: string, cond: () => Promise<boolean>, boundMs: number): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > boundMs) {
      t.fail(`${what}: not within ${boundMs} ms`);
      return;
    }
    await sleep(25);
  }
}

async function service(t: Test, files: Record<string, string>): Promise<{ dir: string; send: Send }> {
  const dir = await mkdtemp(join(tmpdir(), 'pe-broken-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const { app } = await testApp(t, { store: new FileStore({ dir, probeMs: 100 }) });
  return { dir, send: await httpSender(app) };
}

function asker(send: Send) {
  return {
    check: async (namespace: string) => {
      const r = await send({ method: 'POST', url: '/v1/check', payload: { subject: 'user:ann', namespace, permission: 'document:delete' } });
      return { status: r.status, body: r.json() as Record<string, unknown> };
    },
    evaluate: async (namespace: string) => {
      const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'user:ann', namespace } });
      return { status: r.status, body: r.json() as Record<string, unknown> };
    },
    ready: async () => {
      const r = await send({ method: 'GET', url: '/readyz' });
      return { status: r.status, body: r.json() as Record<string, unknown> };
    },
  };
}

t.test('a new policy file with a deny and one invalid field: its namespace answers 503, never allowed', async (t) => {
  const { dir, send } = await service(t, { 'global-base.yaml': GLOBAL });
  const { check, ready } = asker(send);
  t.same((await check('global.org')).body.allowed, true, 'before: the global grant');
  await writeFile(join(dir, 'org-deny.yaml'), ORG_DENY_BROKEN);
  await until(t, 'the broken file is seen', async () => (await check('global.org')).status !== 200, 3000);
  const broken = await check('global.org');
  t.same([broken.status, broken.body.code], [503, 'POLICY_STATE_BROKEN'], `paths through its namespace (got ${broken.status} ${JSON.stringify(broken.body).slice(0, 200)})`);
  t.match(broken.body.message, /namespace org/);
  t.same([(await check('global')).status, (await check('global')).body.allowed], [200, true], 'other paths answer');
  const r = await ready();
  t.match([r.status, r.body], [200, { brokenDocuments: 1, stale: false }], '/readyz counts it (and is not stale)');
  const listed = await send({ method: 'GET', url: '/v1/policies/org-deny' });
  t.equal(listed.status, 200, 'the broken document is listed as stored, to be fixed');
  await writeFile(join(dir, 'org-deny.yaml'), ORG_DENY);
  await until(t, 'the fixed file is seen', async () => (await check('global.org')).status === 200, 3000);
  t.same((await check('global.org')).body.allowed, false, 'fixed: its deny holds');
  t.equal((await ready()).body.brokenDocuments, 0);
});

t.test('a policy file whose namespace cannot be read: every path answers 503', async (t) => {
  const { dir, send } = await service(t, { 'global-base.yaml': GLOBAL });
  const { check, ready } = asker(send);
  await writeFile(join(dir, 'org-deny.yaml'), 'key: org-deny\nrules: [\n  { subjects: ["*"], deny: ["document:delete"] \n');
  await until(t, 'the unparseable file is seen', async () => (await check('global')).status !== 200, 3000);
  for (const ns of ['global', 'global.org', 'elsewhere']) {
    const r = await check(ns);
    t.same([r.status, r.body.code], [503, 'POLICY_STATE_BROKEN'], ns);
  }
  t.equal((await ready()).body.brokenDocuments, 1);
  const put = await send({ method: 'PUT', url: '/v1/policies/org-deny', headers: { 'content-type': 'application/yaml' }, payload: ORG_DENY });
  t.equal(put.status, 201, `a write under its file name replaces it: ${put.body.slice(0, 300)}`);
  t.same([(await check('global.org')).status, (await check('global.org')).body.allowed], [200, false], 'and its deny holds at once');
  t.same((await check('global')).body.allowed, true);
  t.equal((await ready()).body.brokenDocuments, 0);
  await unlink(join(dir, 'org-deny.yaml'));
});

t.test('a policy directory that goes away: stale, no default; back: fresh again', async (t) => {
  const { dir, send } = await service(t, { 'global-base.yaml': GLOBAL });
  const { check, evaluate, ready } = asker(send);
  t.same([(await evaluate('vacant')).status, (await evaluate('vacant')).body.default], [200, true], 'before: a path with no documents gets the default');
  await rm(dir, { recursive: true, force: true });
  await until(t, '/readyz turns 503', async () => (await ready()).status === 503, 3000);
  t.match((await ready()).body, { stale: true, lastError: /policy directory/ });
  const known = await check('global');
  t.same([known.status, known.body.allowed, known.body.stale], [200, true, true], `the last good policies, marked stale: ${JSON.stringify(known.body)}`);
  const vacant = await evaluate('vacant');
  t.same([vacant.status, vacant.body.code], [503, 'STORE_UNAVAILABLE'], 'no default from stale knowledge');

  await mkdir(dir);
  await writeFile(join(dir, 'global-base.yaml'), GLOBAL);
  await until(t, '/readyz turns 200', async () => (await ready()).status === 200, 5000);
  t.same([(await evaluate('vacant')).status, (await evaluate('vacant')).body.default], [200, true], 'fresh again: the default answers');
  await writeFile(join(dir, 'org-deny.yaml'), ORG_DENY);
  await until(t, 'a file added to the new directory is seen', async () => (await check('global.org')).body.allowed === false, 3000);
});
