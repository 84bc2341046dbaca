// Write safety: If-Match writers racing on two service instances over one database
// (exactly one wins per version, no write lost or invented); a bulk import with one
// invalid document writes nothing, on every store; and the file store never leaves a
// torn policy file behind a process killed mid-write.

import t from 'tap';
import { JOURNAL_NAME } from '../../src/store/file/policy-journal.js';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testApp } from '../helpers/app.js';
import { httpSender, injectSender, type Send } from '../helpers/http.js';
import { testMongo } from '../helpers/mongo.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { formatOfFileName } from '../../src/store/file/policy-dir.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import type { PolicyStore } from '../../src/store/store.js';
import { bigDocument, writeNumberOf } from './fixtures/big-policy.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const yaml = { 'content-type': 'application/yaml' };
const json = { 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const policyText = (key: string, grant: string) => `key: ${key}\nrules:\n  - subjects: ["*"]\n    grant: ["${grant}"]\n`;

t.test('two instances, one database', async (t) => {
  const mongo = await testMongo(t);
  const a = await testApp(t, { store: new MongoStore({ url: mongo.url }), env: { POLL_INTERVAL_MS: '200' } });
  const b = await testApp(t, { store: new MongoStore({ url: mongo.url }), env: { POLL_INTERVAL_MS: '200' } });
  const sendA = await httpSender(a.app);
  const sendB = await httpSender(b.app);
  const put = (send: Send, key: string, grant: string, headers: Record<string, string> = {}) =>
    send({ method: 'PUT', url: `/v1/policies/${key}`, headers: { ...yaml, ...headers }, payload: policyText(key, grant) });
  const changesOf = async (key: string) =>
    (await mongo.client.db().collection('policies_changes').find({ key }).sort({ version: 1 }).toArray()) as unknown as Array<{ version: number; deleted?: boolean; text?: string }>;

  await t.test('If-Match: exactly one winner per version, none lost, the last winner stays', async (t) => {
    const ROUNDS = 12;
    const WRITERS = 6;
    const created = await put(sendA, 'global-race', 'race:start');
    t.equal(created.status, 201, created.body);
    const history = ['race:start'];
    for (let round = 1; round <= ROUNDS; round++) {
      // Every writer read the same version.
      const etag = (await sendB({ method: 'GET', url: '/v1/policies/global-race' })).headers.etag!;
      const grants = Array.from({ length: WRITERS }, (_, w) => `race:r${round}w${w}`);
      const results = await Promise.all(grants.map((g, w) => put(w % 2 === 0 ? sendA : sendB, 'global-race', g, { 'if-match': etag })));
      const winners = results.flatMap((r, w) => (r.status === 200 ? [w] : []));
      const losers = results.filter((r) => r.status === 412);
      t.equal(winners.length, 1, `round ${round}: one winner (${results.map((r) => r.status).join(',')})`);
      t.equal(losers.length, WRITERS - 1, 'everyone else: 412');
      t.ok(losers.every((r) => r.json().code === 'PRECONDITION_FAILED'));
      const w = winners[0]!;
      history.push(grants[w]!);
      for (const send of [sendA, sendB]) {
        const stored = await send({ method: 'GET', url: '/v1/policies/global-race', headers: { accept: 'application/yaml' } });
        t.equal(stored.headers.etag, results[w]!.headers.etag, 'both instances read the winner\'s version');
        t.equal(stored.body, policyText('global-race', grants[w]!), 'as the winner wrote it');
      }
    }
    // The change log holds exactly one version per winner, in order: nothing lost, nothing extra.
    const log = await changesOf('global-race');
    t.same(log.map((c) => c.version), Array.from({ length: ROUNDS + 1 }, (_, i) => i + 1), 'versions 1..N+1, no gap');
    t.same(log.map((c) => /grant: \["([^"]+)"\]/.exec(c.text ?? '')?.[1]), history, 'one change per winner, in order');
    // Both instances answer from the last winner's version (B within the propagation bound).
    const last = history[history.length - 1]!;
    for (const send of [sendA, sendB]) {
      const start = Date.now();
      for (;;) {
        const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global' } });
        if (JSON.stringify(r.json().permissions) === JSON.stringify([last])) break;
        if (Date.now() - start > 2000) {
          t.fail(`not converged on ${last}: ${r.body}`);
          break;
        }
        await sleep(25);
      }
    }
  });

  await t.test('writers without If-Match: every write is sequenced, none lost', async (t) => {
    // Distinct keys, all at once, on both instances: all created.
    const keys = Array.from({ length: 24 }, (_, i) => `blind-k${i}`);
    const results = await Promise.all(keys.map((k, i) => put(i % 2 === 0 ? sendA : sendB, k, `k:${i}`)));
    t.same(results.map((r) => r.status), keys.map(() => 201), results.find((r) => r.status !== 201)?.body ?? 'all created');
    const listed = await sendB({ method: 'GET', url: '/v1/policies?namespace=blind&limit=100' });
    t.same(listed.json().items.map((i: { key: string }) => i.key).sort(), [...keys].sort(), 'all present');
    // One key, many blind writers: each gets its own version; the stored one is the last logged.
    const grants = Array.from({ length: 10 }, (_, i) => `same:w${i}`);
    const same = await Promise.all(grants.map((g, i) => put(i % 2 === 0 ? sendA : sendB, 'blind-same', g)));
    t.ok(same.every((r) => r.status === 200 || r.status === 201), same.map((r) => r.status).join(','));
    t.equal(same.filter((r) => r.status === 201).length, 1, 'exactly one of them created the key');
    const log = await changesOf('blind-same');
    t.equal(log.length, grants.length, 'one logged version per write');
    t.same(log.map((c) => c.version), grants.map((_, i) => i + 1));
    const lastLogged = /grant: \["([^"]+)"\]/.exec(log[log.length - 1]!.text ?? '')?.[1];
    const stored = await sendA({ method: 'GET', url: '/v1/policies/blind-same', headers: { accept: 'application/yaml' } });
    t.equal(stored.body, policyText('blind-same', lastLogged!), 'the stored document is the last sequenced write');
  });
});

// ---------------------------------------------------------------------------------------

const BULK_CASES: Array<{ name: string; headers: Record<string, string>; payload: string; status: number; code: string }> = [
  {
    name: 'JSON array, the last document invalid',
    headers: json,
    payload: JSON.stringify([
      { key: 'bulk-new', rules: [{ subjects: ['*'], grant: ['n:read'] }] },
      { key: 'global-base', rules: [{ subjects: ['*'], grant: ['*'] }] },
      { key: 'bulk-bad', rules: [{ subjects: ['*'], grant: ['a::b'] }] },
    ]),
    status: 422,
    code: 'POLICY_INVALID',
  },
  {
    name: 'JSON array, the first document invalid (unknown field)',
    headers: json,
    payload: JSON.stringify([
      { key: 'bulk-bad', rules: [{ subjects: ['*'], grant: ['a'], colour: 'red' }] },
      { key: 'bulk-new', rules: [{ subjects: ['*'], grant: ['n:read'] }] },
    ]),
    status: 422,
    code: 'POLICY_INVALID',
  },
  {
    name: 'YAML stream, the middle document invalid',
    headers: yaml,
    payload: `${policyText('bulk-new', 'n:read')}---\nkey: bulk-bad\nrules:\n  - subjects: []\n    grant: ["x"]\n---\n${policyText('global-base', '*')}`,
    status: 422,
    code: 'POLICY_INVALID',
  },
  {
    name: 'YAML stream, the last document malformed',
    headers: yaml,
    payload: `${policyText('bulk-new', 'n:read')}---\n${policyText('global-base', '*')}---\nkey: [unclosed\n`,
    status: 400,
    code: 'BODY_MALFORMED',
  },
  {
    name: 'YAML stream, a key whose namespace does not match',
    headers: yaml,
    payload: `${policyText('bulk-new', 'n:read')}---\nkey: bulk-x\nnamespace: other\nrules:\n  - subjects: ["*"]\n    grant: ["x"]\n`,
    status: 422,
    code: 'POLICY_INVALID',
  },
];

async function snapshot(store: PolicyStore): Promise<string[]> {
  const page = await store.list({ limit: 10_000 });
  return page.records.map((r) => `${r.key} ${r.etag}`).sort();
}

t.test('a bulk import with one invalid document writes nothing, on every store', async (t) => {
  const mongo = await testMongo(t);
  const dir = await mkdtemp(join(tmpdir(), 'pe-bulk-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const stores: Array<[string, PolicyStore]> = [
    ['memory', new MemoryStore()],
    ['file', new FileStore({ dir })],
    ['mongo', new MongoStore({ url: mongo.url })],
  ];
  for (const [name, store] of stores) {
    await t.test(name, async (t) => {
      const { app } = await testApp(t, { store });
      const send = injectSender(app);
      const seeded = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: yaml, payload: policyText('global-base', 'doc:read') });
      t.equal(seeded.status, 201);
      const before = await snapshot(store);
      const filesBefore = name === 'file' ? (await readdir(dir)).sort() : [];
      for (const c of BULK_CASES) {
        const r = await send({ method: 'POST', url: '/v1/policies', headers: c.headers, payload: c.payload });
        t.equal(r.status, c.status, `${c.name}: ${r.body.slice(0, 200)}`);
        t.equal(r.json().code, c.code, c.name);
        t.same(await snapshot(store), before, `${c.name}: the store is unchanged`);
      }
      if (name === 'file') t.same((await readdir(dir)).sort(), filesBefore, 'not one file added, changed in name, or left behind');
      const d = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global.bulk' } });
      t.same(d.json().permissions, ['doc:read'], 'answers unchanged');
      // And a valid import after all that works.
      const ok = await send({ method: 'POST', url: '/v1/policies', headers: yaml, payload: `${policyText('bulk-new', 'n:read')}---\n${policyText('global-base', 'doc:*')}` });
      t.equal(ok.status, 200, ok.body);
      t.same(ok.json().keys, ['bulk-new', 'global-base']);
      const d2 = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global.bulk' } });
      t.same(d2.json().permissions, ['doc:*', 'n:read']);
    });
  }
});

// ---------------------------------------------------------------------------------------

interface Child {
  ready: Promise<void>;
  writes(): number;
  lastWrite(): number;
  kill(): Promise<void>;
}

function startWriter(dir: string, first: number): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'fixtures', 'file-writer.child.ts'), dir, String(first)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let writes = 0;
  let last = -1;
  let onReady: (() => void) | undefined;
  let onFail: ((e: Error) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const l of lines) {
      if (l === 'ready') onReady?.();
      else if (l.startsWith('w ')) {
        writes++;
        last = Number(l.slice(2));
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => onFail?.(new Error(`writer exited early (${code ?? signal}): ${err.slice(-2000)}`)));
  return {
    ready,
    writes: () => writes,
    lastWrite: () => last,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

t.test('the file store never leaves a torn file behind a SIGKILL mid-write', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pe-crash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const KILLS = 8;
  let next = 0;
  let totalWrites = 0;
  const leftoverTemps = new Set<string>();
  let duplicateKeys = 0;
  for (let k = 0; k < KILLS; k++) {
    const writer = startWriter(dir, next);
    await writer.ready;
    // A random moment: the loop writes continuously (write, fsync, rename, unlink),
    // so most moments fall inside one of those steps.
    await sleep(50 + Math.floor(Math.random() * 550));
    await writer.kill();
    totalWrites += writer.writes();
    next = Math.max(next, writer.lastWrite() + 2);

    const names = await readdir(dir);
    const visible = names.filter((n) => formatOfFileName(n) !== undefined);
    const temps = names.filter((n) => n.endsWith('.tmp'));
    for (const n of temps) leftoverTemps.add(n);
    t.ok(temps.every((n) => n.startsWith('.') && formatOfFileName(n) === undefined), `kill ${k}: leftover temp files (${temps.length}) are dotfiles the loader ignores`);
    // the history journal (docs/audit.md) is the store's own dotfile, beside the documents
    t.same(names.filter((n) => !visible.includes(n) && !temps.includes(n) && n !== JOURNAL_NAME), [], 'nothing else in the directory');

    // What a fresh store (a restarted service) loads. It parses and validates every
    // visible file (a file that does not would be listed in problems()), and each policy
    // is exactly the write its description names: not a mix of two writes, not cut short.
    const store = new FileStore({ dir });
    await store.open();
    const { records } = await store.loadAll();
    const problems = store.problems();
    await store.close();
    for (const r of records) {
      const n = writeNumberOf(r.document as { description?: string });
      if (n === undefined || JSON.stringify(r.document) !== JSON.stringify(bigDocument(r.key, n))) t.fail(`kill ${k}: ${r.key} is not a whole write`);
    }
    t.ok(records.every((r) => !r.key.endsWith('.tmp')), 'temp files are not loaded');
    t.ok(problems.every((p) => p.errors.every((e) => /is already defined in|is kept from/.test(e.message))), `kill ${k}: the only possible problem is a duplicate of a key (${JSON.stringify(problems).slice(0, 300)})`);
    duplicateKeys += problems.length;
    // Opening may finish a write the kill interrupted after its journal line (FileStore
    // recover: the new file written, another format's file of that key removed), so the
    // files to account for are those visible once the store has opened.
    const visibleAfterOpen = (await readdir(dir)).filter((n) => formatOfFileName(n) !== undefined);
    t.equal(records.length + problems.length, visibleAfterOpen.length, 'every visible file is accounted for');
    t.ok(records.length >= 1 || k === 0, 'policies survive');
  }
  t.ok(totalWrites >= KILLS, `${totalWrites} large writes completed across ${KILLS} kills`);
  t.comment(`${KILLS} SIGKILLs, ${totalWrites} completed writes; ${leftoverTemps.size} temp files left behind (dotfiles, ignored by the loader); ` +
    `${duplicateKeys} duplicate-key sightings (a kill between the rename of a new-format file and the unlink of the old one)`);
});
