// `policy-engine push` and `export` against a real service (testApp, listening on a
// loopback port): the dry-run plan and diff, the writes, --prune, the admin token, and
// an export that pushes back unchanged.

import t from 'tap';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { ROOT, runCli } from './run-cli.js';

const TOKEN = 'push-test-token-0123456789';
const READ_TOKEN = 'push-read-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'pe-push-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const src = join(dir, 'policies');
cpSync(join(ROOT, 'examples/policies'), src, { recursive: true });

const { app } = await testApp(t, { env: { ADMIN_TOKEN: TOKEN, READ_TOKEN } });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const auth = { POLICY_ENGINE_TOKEN: TOKEN };
const keys = async () => ((await (await fetch(`${url}/v1/policies`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { items: Array<{ key: string }> }).items.map((i) => i.key).sort();
const ACME = 'org:57af7f6d-f6f7-4af1-b182-3a30440fa781-acme';

t.test('a first push: the plan, then the writes', async (t) => {
  const [dry, noToken, dryNoToken] = await Promise.all([
    runCli(['push', src, '--url', url, '--dry-run'], { env: { POLICY_ENGINE_TOKEN: READ_TOKEN } }),
    runCli(['push', src, '--url', url]),
    runCli(['push', src, '--url', url, '--dry-run']),
  ]);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /^create\s+global-base\s+\(.*global-base\.yaml\)$/m);
  t.match(dry.stdout, /dry run, nothing written: 3 created, 0 replaced, 0 unchanged, 0 deleted/);
  t.equal(noToken.code, 3, 'without the token the service refuses: an error (3)');
  t.match(noToken.stderr, /UNAUTHORIZED/);
  t.equal(dryNoToken.code, 3, 'a dry run reads the stored policies: a token is needed for that too (a refusal is an error: 3)');
  t.match(dryNoToken.stderr, /UNAUTHORIZED/);
  t.same(await keys(), [], 'nothing was written');

  const real = await runCli(['push', src, '--url', url], { env: auth });
  t.equal(real.code, 0, real.stderr);
  t.match(real.stdout, /pushed: 3 created, 0 replaced, 0 unchanged, 0 deleted/);
  t.same(await keys(), [ACME, 'global-base', 'org-editors'].sort());
  const stored = await (await fetch(`${url}/v1/policies/org-editors`, { headers: { accept: 'application/yaml', authorization: `Bearer ${READ_TOKEN}` } })).text();
  t.equal(stored, readFileSync(join(src, 'org-editors.yaml'), 'utf8'), 'stored as written, comments included');
});

t.test('changes: replaced with a diff, created, unchanged, pruned; invalid files refused', async (t) => {
  // One edit, one new file; a policy only the service holds.
  const editors = join(src, 'org-editors.yaml');
  writeFileSync(editors, readFileSync(editors, 'utf8').replace('grant: ["billing:*"]', 'grant: ["billing:*", "report:read"]'));
  writeFileSync(join(src, 'global-support.json'), JSON.stringify({ key: 'global-support', rules: [{ subjects: ['role:support'], grant: ['ticket:*'] }] }, null, 2));
  const put = await fetch(`${url}/v1/policies/global-legacy`, {
    method: 'PUT', headers: { 'content-type': 'application/yaml', authorization: `Bearer ${TOKEN}` },
    body: 'key: global-legacy\nrules:\n  - { subjects: ["*"], grant: [legacy:read] }\n',
  });
  t.equal(put.status, 201);

  // An invalid directory is refused before the service is asked: it runs alongside.
  const bad = join(dir, 'bad');
  cpSync(src, bad, { recursive: true });
  writeFileSync(join(bad, 'global-bad.yaml'), 'key: global-bad\nrules:\n  - { subjects: ["*"], grant: ["a::b"] }\n');
  const [keep, dry, invalid] = await Promise.all([
    runCli(['push', src, '--url', url, '--dry-run'], { env: auth }),
    runCli(['push', src, '--url', url, '--dry-run', '--prune'], { env: auth }),
    runCli(['push', bad, '--url', url, '--prune'], { env: auth }),
  ]);
  t.equal(invalid.code, 1, 'invalid files: nothing is pushed');
  t.match(invalid.stderr, /nothing pushed, the files are invalid:\n\s+.*global-bad\.yaml:3:33: global-bad: rules\[0\]\.grant\[0\]: must be a permission pattern/);
  t.match(keep.stdout, /1 created, 1 replaced, 2 unchanged, 0 deleted; 1 stored policy not in the files \(kept; --prune deletes them\)/);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /^replace\s+org-editors\s+\(.*org-editors\.yaml\)\n\s+@@\n(\s+ .*\n)*\s+- \s+grant: \["billing:\*"\]\n\s+\+ \s+grant: \["billing:\*", "report:read"\]/m, 'the diff of the stored text');
  t.match(dry.stdout, /^create\s+global-support\s/m);
  t.match(dry.stdout, /^unchanged\s+global-base\s/m);
  t.match(dry.stdout, /^delete\s+global-legacy$/m);
  t.match(dry.stdout, /dry run, nothing written: 1 created, 1 replaced, 2 unchanged, 1 deleted/);

  const real = await runCli(['push', src, '--url', url, '--prune', '--token', TOKEN]);
  t.equal(real.code, 0, real.stderr);
  t.match(real.stdout, /pushed: 1 created, 1 replaced, 2 unchanged, 1 deleted/);
  t.same(await keys(), [ACME, 'global-base', 'global-support', 'org-editors'].sort());
});

t.test('export, then push the export back: nothing changes', async (t) => {
  const out = join(dir, 'export');
  const r = await runCli(['export', '--url', url, '--out', out], { env: { POLICY_ENGINE_TOKEN: READ_TOKEN } });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /exported 4 policies to/);
  t.same(readdirSync(out).sort(), [`${ACME}.yaml`, 'global-base.yaml', 'global-support.json', 'org-editors.yaml'].sort());
  for (const f of ['org-editors.yaml', 'global-base.yaml', 'global-support.json']) {
    t.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(src, f), 'utf8'), `${f}: as written`);
  }
  const again = await runCli(['push', out, '--url', url, '--prune'], { env: auth });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /pushed: 0 created, 0 replaced, 4 unchanged, 0 deleted/);
});

t.test('a dry run shows the impact on recorded requests and stored tests', async (t) => {
  // Requests the service has answered become samples; a stored suite pins one decision.
  for (const id of ['bea', 'bo']) {
    const r = await fetch(`${url}/v1/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: { id, roles: ['billing'] }, namespace: 'global.org' }) });
    t.equal(r.status, 200);
  }
  const suite = 'key: org-billing-tests\nkind: tests\nname: billing\ncases:\n  - name: billing staff pay\n    namespace: global.org\n    subject: { id: bea, roles: [billing] }\n    expect: { allowed: ["billing:invoice:pay"] }\n';
  const put = await fetch(`${url}/v1/policies/org-billing-tests`, { method: 'PUT', headers: { 'content-type': 'application/yaml', authorization: `Bearer ${TOKEN}` }, body: suite });
  t.equal(put.status, 201);
  const editors = join(src, 'org-editors.yaml');
  writeFileSync(editors, readFileSync(editors, 'utf8').replace('grant: ["billing:*", "report:read"]', 'grant: ["billing:invoice:read", "report:read"]'));
  const dry = await runCli(['push', src, '--url', url, '--dry-run'], { env: auth });
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stdout, /impact on \d+ recorded requests?: 2 would change \(2 gain, 2 lose permissions, 0 newly denied, 0 checks flip\)/);
  t.match(dry.stdout, /evaluate +bea role:billing @ global\.org\n +\+ billing:invoice:read\n +- billing:\*/);
  t.match(dry.stdout, /stored tests: 1\/1 pass now, 0\/1 would pass \(1 broken, 0 fixed\)\n +FAIL billing › billing staff pay/);
  t.match(dry.stdout, /dry run, nothing written: 0 created, 1 replaced/);
  const readOnly = await runCli(['push', src, '--url', url, '--dry-run'], { env: { POLICY_ENGINE_TOKEN: READ_TOKEN } });
  t.equal(readOnly.code, 0, 'the plan still shows with the read-only token');
  t.match(readOnly.stdout, /impact preview unavailable: .*READ_TOKEN is for reads only/i);
});
