// Delegated administration (docs/audit.md): a table of credentials × routes × namespaces
// with the expected answer, including prefix tricks (org:57af never reaches org:57af0),
// percent-encoded keys, bulk imports mixing allowed and forbidden keys (refused whole),
// scoped lists, history and feed filtering, and revocation by editing the file.

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { exampleSchema } from '../helpers/relations-example.js';
import { parseCredentials } from '../../src/server/credentials.js';
import { prefixReaches } from '../../src/core/access.js';

const ROOT = 'root-token-0123456789abcdef';
const READ = 'read-token-0123456789abcdef';
const tokens = {
  team: 'team-57af-token-aaaaaaaaaaaa',
  reader: 'reader-57af-token-bbbbbbbbbb',
  rel: 'relations-token-cccccccccccc',
  wild: 'wildcard-token-dddddddddddd',
  previewer: 'preview-token-eeeeeeeeeeee',
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function credentialsFile(without: string[] = []): string {
  const all = [
    { name: 'team-57af', sha256: sha(tokens.team), verbs: ['read', 'write'], namespaces: ['org:57af'] },
    { name: 'reader-57af', sha256: sha(tokens.reader), verbs: ['read'], namespaces: ['org:57af'] },
    { name: 'relations-bot', sha256: sha(tokens.rel), verbs: ['relations'], namespaces: ['*'] },
    { name: 'wild-57af', sha256: sha(tokens.wild), verbs: ['read', 'write'], namespaces: ['org:57af*'] },
    { name: 'previewer', sha256: sha(tokens.previewer), verbs: ['preview'], namespaces: ['org:57af'] },
  ];
  return JSON.stringify({ credentials: all.filter((c) => !without.includes(c.name)) });
}

const policy = (key: string) => `key: ${key}\nrules:\n  - subjects: ["*"]\n    grant: ["doc:read"]\n`;

t.test('prefixes reach at separators only', async (t) => {
  t.ok(prefixReaches('org:57af', 'org:57af'));
  t.ok(prefixReaches('org:57af', 'org:57af:eu'));
  t.ok(prefixReaches('org:57af', 'org:57af.team'));
  t.notOk(prefixReaches('org:57af', 'org:57af0'));
  t.notOk(prefixReaches('org:57af', 'org:57a'));
  t.notOk(prefixReaches('org:57af', 'org'));
  t.ok(prefixReaches('org:57af*', 'org:57af0'), 'a trailing * is a raw prefix');
  t.ok(prefixReaches('*', 'anything'));
});

t.test('the file format refuses what it cannot use', async (t) => {
  t.throws(() => parseCredentials('{}'), /credentials/);
  t.throws(() => parseCredentials(JSON.stringify({ credentials: [{ name: 'x', sha256: 'abc', verbs: ['read'], namespaces: ['a'] }] })), /sha256/);
  t.throws(() => parseCredentials(JSON.stringify({ credentials: [{ name: 'x', sha256: sha('a'), verbs: ['root'], namespaces: ['a'] }] })), /verbs/);
  t.throws(() => parseCredentials(JSON.stringify({ credentials: [{ name: 'x', sha256: sha('a'), verbs: ['read'], namespaces: [] }] })), /namespaces/);
  t.throws(() => parseCredentials(JSON.stringify({ credentials: [{ name: 'x', token: 'plain', sha256: sha('a'), verbs: ['read'], namespaces: ['a'] }] })), /unknown fields: token/);
  t.throws(() => parseCredentials(JSON.stringify({ credentials: [
    { name: 'x', sha256: sha('a'), verbs: ['read'], namespaces: ['a'] }, { name: 'y', sha256: sha('a'), verbs: ['read'], namespaces: ['b'] },
  ] })), /share one token/);
  t.equal(parseCredentials(`credentials:\n  - name: yaml-ok\n    sha256: ${sha('a')}\n    verbs: [read]\n    namespaces: ["org:1"]\n`).length, 1, 'YAML works too');
});

t.test('credentials × routes × namespaces', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pe-creds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'credentials.json');
  await writeFile(file, credentialsFile());
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: ROOT, READ_TOKEN: READ, ADMIN_TOKENS_FILE: file, ADMIN_TOKENS_RELOAD_MS: '100' } });
  const as = (token: string | undefined, extra: Record<string, string> = {}) => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra });
  // Stored by the root credential: the team's namespace, a look-alike, a sub-namespace, another team.
  for (const key of ['org:57af-base', 'org:57af0-base', 'org:57af:eu-base', 'other-base']) {
    const r = await app.inject({ method: 'PUT', url: `/v1/policies/${key}`, headers: as(ROOT, { 'content-type': 'application/yaml' }), payload: policy(key) });
    t.equal(r.statusCode, 201, `${key}: ${r.body}`);
  }
  t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: as(ROOT, { 'content-type': 'application/yaml' }), payload: exampleSchema })).statusCode, 200);

  type Row = [who: string, token: string | undefined, method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, body: string | object | undefined, status: number, code?: string];
  const yaml = (key: string) => policy(key);
  const rows: Row[] = [
    ['team', tokens.team, 'GET', '/v1/policies/org:57af-base', undefined, 200],
    ['team', tokens.team, 'GET', '/v1/policies/org:57af:eu-base', undefined, 200],
    ['team', tokens.team, 'GET', '/v1/policies/org:57af0-base', undefined, 404, 'POLICY_NOT_FOUND'],
    ['team', tokens.team, 'GET', '/v1/policies/other-base', undefined, 404, 'POLICY_NOT_FOUND'],
    ['team', tokens.team, 'GET', '/v1/policies/org%3A57af0-base', undefined, 404, 'POLICY_NOT_FOUND'],
    ['team', tokens.team, 'PUT', '/v1/policies/org:57af-new', yaml('org:57af-new'), 201],
    ['team', tokens.team, 'PUT', '/v1/policies/org:57af:eu-new', yaml('org:57af:eu-new'), 201],
    ['team', tokens.team, 'PUT', '/v1/policies/org:57af0-new', yaml('org:57af0-new'), 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'PUT', '/v1/policies/org%3A57af0-new', yaml('org:57af0-new'), 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'PUT', '/v1/policies/other-new', yaml('other-new'), 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'DELETE', '/v1/policies/org:57af0-base', undefined, 404, 'POLICY_NOT_FOUND'],
    ['team', tokens.team, 'DELETE', '/v1/policies/org:57af-new', undefined, 204],
    ['team', tokens.team, 'GET', '/v1/policies?namespace=org:57af0', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'GET', '/v1/policies/org:57af0-base/history', undefined, 404, 'POLICY_NOT_FOUND'],
    ['team', tokens.team, 'POST', '/v1/policies/org:57af0-base/rollback', { revision: '2' }, 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'POST', '/v1/relations/write', { writes: ['document:d1#owner@user:alice'] }, 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'GET', '/v1/relations', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'PUT', '/v1/relations/schema', exampleSchema, 403, 'SCOPE_FORBIDDEN'],
    ['team', tokens.team, 'POST', '/v1/preview', { delete: ['org:57af-base'], samples: false, tests: false }, 403, 'SCOPE_FORBIDDEN'],
    ['reader', tokens.reader, 'GET', '/v1/policies/org:57af-base', undefined, 200],
    ['reader', tokens.reader, 'PUT', '/v1/policies/org:57af-r', yaml('org:57af-r'), 403, 'SCOPE_FORBIDDEN'],
    ['reader', tokens.reader, 'DELETE', '/v1/policies/org:57af-base', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['relations', tokens.rel, 'POST', '/v1/relations/write', { writes: ['document:d1#owner@user:alice'] }, 200],
    ['relations', tokens.rel, 'GET', '/v1/policies/org:57af-base', undefined, 403, 'SCOPE_FORBIDDEN'],
    ['relations', tokens.rel, 'PUT', '/v1/policies/org:57af-x', yaml('org:57af-x'), 403, 'SCOPE_FORBIDDEN'],
    ['wild', tokens.wild, 'GET', '/v1/policies/org:57af0-base', undefined, 200],
    ['wild', tokens.wild, 'PUT', '/v1/policies/org:57af00-new', yaml('org:57af00-new'), 201],
    ['wild', tokens.wild, 'PUT', '/v1/policies/other-wild', yaml('other-wild'), 403, 'SCOPE_FORBIDDEN'],
    ['previewer', tokens.previewer, 'POST', '/v1/preview', { delete: ['org:57af-base'], samples: false, tests: false }, 200],
    ['previewer', tokens.previewer, 'POST', '/v1/preview', { delete: ['other-base'], samples: false, tests: false }, 403, 'SCOPE_FORBIDDEN'],
    ['previewer', tokens.previewer, 'PUT', '/v1/policies/org:57af-p', yaml('org:57af-p'), 403, 'SCOPE_FORBIDDEN'],
    ['read token', READ, 'GET', '/v1/policies/org:57af0-base', undefined, 200],
    ['read token', READ, 'PUT', '/v1/policies/org:57af-rt', yaml('org:57af-rt'), 403, 'TOKEN_READ_ONLY'],
    ['unknown token', 'not-a-known-token-zzzzzzzz', 'GET', '/v1/policies/org:57af-base', undefined, 401, 'UNAUTHORIZED'],
    ['no token', undefined, 'PUT', '/v1/policies/org:57af-n', yaml('org:57af-n'), 401, 'UNAUTHORIZED'],
    ['root', ROOT, 'PUT', '/v1/policies/org:57af0-root', yaml('org:57af0-root'), 201],
    ['root', ROOT, 'GET', '/v1/policies/other-base', undefined, 200],
  ];
  for (const [who, token, method, url, body, status, code] of rows) {
    const headers = as(token, typeof body === 'string' ? { 'content-type': 'application/yaml' } : {});
    const r = await app.inject({ method, url, headers, ...(body !== undefined ? { payload: body } : {}) });
    t.equal(r.statusCode, status, `${who} ${method} ${url} → ${status} (${r.body.slice(0, 200)})`);
    if (code !== undefined) t.equal(r.json().code, code, `${who} ${method} ${url}: ${code}`);
  }

  // A bulk import mixing reached and unreached keys is refused whole.
  const mixed = await app.inject({ method: 'POST', url: '/v1/policies', headers: as(tokens.team, { 'content-type': 'application/yaml' }), payload: `${policy('org:57af-b1')}---\n${policy('org:57af0-b2')}` });
  t.equal(mixed.statusCode, 403);
  t.equal(mixed.json().code, 'SCOPE_FORBIDDEN');
  t.same(mixed.json().details, [{ namespace: 'org:57af0' }], 'the refusal names the namespace out of reach');
  for (const key of ['org:57af-b1', 'org:57af0-b2']) {
    t.equal((await app.inject({ method: 'GET', url: `/v1/policies/${key}`, headers: as(ROOT) })).statusCode, 404, `${key} was not written`);
  }
  const allowed = await app.inject({ method: 'POST', url: '/v1/policies', headers: as(tokens.team, { 'content-type': 'application/yaml' }), payload: `${policy('org:57af-b1')}---\n${policy('org:57af:eu-b2')}` });
  t.equal(allowed.statusCode, 200, allowed.body);

  // Scoped reads: a list shows only what the credential reaches.
  const list = await app.inject({ method: 'GET', url: '/v1/policies?limit=2', headers: as(tokens.team) });
  const seen: string[] = list.json().items.map((i: { key: string }) => i.key);
  let cursor = list.json().cursor as string | null;
  while (cursor !== null) {
    const next = await app.inject({ method: 'GET', url: `/v1/policies?limit=2&cursor=${encodeURIComponent(cursor)}`, headers: as(tokens.team) });
    seen.push(...next.json().items.map((i: { key: string }) => i.key));
    cursor = next.json().cursor;
  }
  t.same(seen.sort(), ['org:57af-b1', 'org:57af-base', 'org:57af:eu-b2', 'org:57af:eu-base', 'org:57af:eu-new'], 'only the team namespaces, through every page');

  // The feed and history name who wrote, and show a team only its namespaces.
  const feed = await app.inject({ method: 'GET', url: '/v1/changes?limit=500', headers: as(tokens.team) });
  const namespaces = new Set(feed.json().changes.map((c: { namespace?: string }) => c.namespace));
  t.same([...namespaces].sort(), ['org:57af', 'org:57af:eu'], 'the feed is filtered to the reached namespaces (and no relationship changes)');
  const rootFeed = await app.inject({ method: 'GET', url: '/v1/changes?limit=500', headers: as(ROOT) });
  const actors = new Set(rootFeed.json().changes.map((c: { actor: string }) => c.actor));
  t.same([...actors].sort(), ['admin', 'relations-bot', 'team-57af', 'wild-57af'], 'each write names its credential');

  // Revocation: remove the team from the file; every request with its token is refused once the file is re-read.
  await writeFile(file, credentialsFile(['team-57af']));
  let status = 0;
  for (let i = 0; i < 100 && status !== 401; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(tokens.team) })).statusCode;
  }
  t.equal(status, 401, 'a revoked credential stops working after the reload');
  t.equal((await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(tokens.reader) })).statusCode, 200, 'the others keep working');
  // A file that turns bad revokes every named credential; the root one keeps working.
  await writeFile(file, '{ not json');
  status = 0;
  for (let i = 0; i < 100 && status !== 401; i++) {
    await new Promise((r) => setTimeout(r, 50));
    status = (await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(tokens.reader) })).statusCode;
  }
  t.equal(status, 401, 'a broken file fails closed');
  t.equal((await app.inject({ method: 'GET', url: '/v1/policies/org:57af-base', headers: as(ROOT) })).statusCode, 200, 'ADMIN_TOKEN stays the root credential');
});
