// The file store: the shared conformance suite, then what only a directory does —
// changes made on disk (by hand, by an editor, by a Kubernetes ConfigMap update) reach
// subscribers without a restart, broken files are reported, writes leave no debris.

import { mkdir, mkdtemp, readdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { meaningfulEvents, samplePolicy, storeConformance, waitUntil } from '../../src/store/conformance.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { JOURNAL_NAME } from '../../src/store/file/policy-journal.js';
import type { StoreEvent } from '../../src/store/store.js';

async function tempDir(t: Test): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'pe-file-store-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  return base;
}

interface Warning { obj: object; msg: string }

async function openStore(t: Test, dir: string): Promise<{ store: FileStore; events: StoreEvent[]; warnings: Warning[] }> {
  const warnings: Warning[] = [];
  const store = new FileStore({ dir, logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } });
  t.teardown(() => store.close());
  await store.open();
  const events: StoreEvent[] = [];
  store.subscribe((e) => events.push(e));
  return { store, events, warnings };
}

/** Wait (≤ 2 s, the SPEC bound) for a meaningful event matching `want`. */
async function seen(events: StoreEvent[], want: (e: StoreEvent) => boolean): Promise<boolean> {
  return waitUntil(() => meaningfulEvents(events).some(want), 2000);
}

const putOf = (key: string, etag?: string) => (e: StoreEvent) =>
  e.type === 'put' && e.record.key === key && (etag === undefined || e.record.etag === etag);
const deleteOf = (key: string) => (e: StoreEvent) => e.type === 'delete' && e.key === key;

storeConformance(t, 'file', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pe-file-store-'));
  // A directory that does not exist yet: open() creates it.
  const store = new FileStore({ dir: join(base, 'policies') });
  return {
    store,
    cleanup: async () => {
      const left = (await readdir(join(base, 'policies')).catch(() => [])).filter((f) => f.endsWith('.tmp'));
      if (left.length > 0) throw new Error(`temp files left behind: ${left.join(', ')}`);
      await rm(base, { recursive: true, force: true });
    },
  };
});

t.test('files edited, added and removed on disk reach subscribers', async (t) => {
  const dir = await tempDir(t);
  const a = samplePolicy('org-a', { format: 'yaml' });
  await writeFile(join(dir, 'a.yaml'), a.text);
  const { store, events } = await openStore(t, dir);
  t.equal((await store.get('org-a'))?.text, a.text, 'the key comes from the content, not the file name');

  const b = samplePolicy('org-b');
  await writeFile(join(dir, 'b.json'), b.text);
  t.ok(await seen(events, putOf('org-b')), 'an added file is a put');

  const a2 = samplePolicy('org-a', { format: 'yaml', grant: ['document:write'] });
  await writeFile(join(dir, 'a.yaml'), a2.text);
  t.ok(await seen(events, putOf('org-a', (await store.get('org-a'))?.etag)), 'an edit in place is a put');
  t.equal((await store.get('org-a'))?.text, a2.text);

  // An editor's atomic save: write a hidden temp file, rename it over the original.
  const a3 = samplePolicy('org-a', { format: 'yaml', grant: ['document:purge'] });
  await writeFile(join(dir, '.a.yaml.swp'), a3.text);
  await rename(join(dir, '.a.yaml.swp'), join(dir, 'a.yaml'));
  t.ok(await seen(events, (e) => e.type === 'put' && e.record.text === a3.text), 'an atomic save is a put');

  const c = samplePolicy('global-c', { format: 'yaml' });
  await writeFile(join(dir, 'c.yml'), c.text);
  t.ok(await seen(events, putOf('global-c')), '.yml counts too');

  await unlink(join(dir, 'b.json'));
  t.ok(await seen(events, deleteOf('org-b')), 'a removed file is a delete');
  t.equal(await store.get('org-b'), undefined);

  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'd.json'), samplePolicy('org-d').text);
  await writeFile(join(dir, '.hidden.json'), samplePolicy('org-e').text);
  await writeFile(join(dir, 'notes.txt'), 'not a policy');
  await new Promise((r) => setTimeout(r, 300));
  t.same((await store.loadAll()).records.map((r) => r.key).sort(), ['global-c', 'org-a'], 'subdirectories, dotfiles and other files are ignored');
  t.same(store.problems(), []);
  t.same(meaningfulEvents(events).filter((e) => e.type === 'reset'), [], 'changes are named, never a reset');
});

t.test('a Kubernetes ConfigMap update (..data symlink swap) is seen', async (t) => {
  const dir = await tempDir(t);
  const x1 = samplePolicy('org-x', { format: 'yaml' });
  const y = samplePolicy('org-y', { format: 'yaml' });
  await mkdir(join(dir, '..2026_01_01_00_00_00.1'));
  await writeFile(join(dir, '..2026_01_01_00_00_00.1', 'x.yaml'), x1.text);
  await writeFile(join(dir, '..2026_01_01_00_00_00.1', 'y.yaml'), y.text);
  await symlink('..2026_01_01_00_00_00.1', join(dir, '..data'));
  await symlink('..data/x.yaml', join(dir, 'x.yaml'));
  await symlink('..data/y.yaml', join(dir, 'y.yaml'));

  const { store, events } = await openStore(t, dir);
  t.same((await store.loadAll()).records.map((r) => r.key).sort(), ['org-x', 'org-y']);

  // What the kubelet does: write a new timestamped directory, point `..data_tmp` at it,
  // rename that over `..data`, add symlinks for new files, drop those of removed ones,
  // remove the old directory.
  async function update(stamp: string, files: Record<string, string>, previous: string): Promise<void> {
    const ts = `..${stamp}`;
    await mkdir(join(dir, ts));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, ts, name), text);
    await symlink(ts, join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    const visible = (await readdir(dir)).filter((n) => !n.startsWith('.'));
    for (const name of Object.keys(files)) if (!visible.includes(name)) await symlink(`..data/${name}`, join(dir, name));
    for (const name of visible) if (!(name in files)) await unlink(join(dir, name));
    await rm(join(dir, previous), { recursive: true });
  }

  const x2 = samplePolicy('org-x', { format: 'yaml', grant: ['document:*'] });
  const z = samplePolicy('org-z', { format: 'yaml' });
  await update('2026_01_02_00_00_00.2', { 'x.yaml': x2.text, 'y.yaml': y.text, 'z.yaml': z.text }, '..2026_01_01_00_00_00.1');
  t.ok(await seen(events, (e) => e.type === 'put' && e.record.text === x2.text), 'a changed file is a put');
  t.ok(await seen(events, putOf('org-z')), 'a new file is a put');
  t.notOk(meaningfulEvents(events).some((e) => e.type !== 'put' || e.record.key === 'org-y'), 'the unchanged file makes no event');

  await update('2026_01_03_00_00_00.3', { 'x.yaml': x2.text }, '..2026_01_02_00_00_00.2');
  t.ok(await seen(events, deleteOf('org-y')), 'a file dropped from the ConfigMap is a delete');
  t.ok(await seen(events, deleteOf('org-z')));
  t.same((await store.loadAll()).records.map((r) => r.text), [x2.text]);
});

t.test('broken files are skipped and reported; a duplicate key loses to the first file', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a-good.yaml'), samplePolicy('org-a', { format: 'yaml' }).text);
  await writeFile(join(dir, 'b-bad.yaml'), 'key: org-b\nrules: [\n');
  await writeFile(join(dir, 'c-invalid.json'), JSON.stringify({ key: 'org-c', rules: [{ subjects: ['*'], grnat: ['x'] }] }));
  await writeFile(join(dir, 'd-dup.json'), samplePolicy('org-a', { grant: ['dup:*'] }).text);
  const { store, events, warnings } = await openStore(t, dir);

  // A broken file is still a document (issue 16 item 4): a record that does not compile, under
  // its own key and namespace when they can be read, else `~<file>` in namespace `*` (every path).
  const loaded = (await store.loadAll()).records.map((r) => [r.key, r.namespace, r.format]).sort();
  t.same(loaded, [['org-a', 'org', 'yaml'], ['org-c', 'org', 'json'], ['~b-bad.yaml', '*', 'yaml']], 'the first file by name wins; broken files stand as broken records');
  const problems = store.problems();
  t.same(problems.map((p) => p.file), ['b-bad.yaml', 'c-invalid.json', 'd-dup.json']);
  t.ok(problems.every((p) => p.errors.length > 0));
  t.match(problems[1]?.errors, [{ path: /rules\[0\]/ }], 'errors name the field');
  t.match(problems[2]?.errors, [{ message: /already defined in a-good\.yaml/ }]);
  t.equal(warnings.length, 3, 'one warning per problem');

  // A good file that turns bad keeps its last good version: dropping it could leave a
  // namespace path with no documents, which answers with the default grant.
  const good = await store.get('org-a');
  await writeFile(join(dir, 'a-good.yaml'), 'key: org-a\nrules: {{{\n');
  await waitUntil(() => store.problems().some((p) => p.file === 'a-good.yaml'), 2000);
  t.equal((await store.get('org-a'))?.etag, good?.etag, 'the last good version stays, ahead of the duplicate');
  t.match(store.problems().find((p) => p.file === 'd-dup.json')?.errors, [{ message: /kept from a-good\.yaml/ }]);
  t.ok(warnings.some((w) => (w.obj as { keeping?: string }).keeping === 'org-a'), 'the warning says what is kept');
  t.same(meaningfulEvents(events), [], 'and nothing is announced');

  await writeFile(join(dir, 'b-bad.yaml'), samplePolicy('org-b', { format: 'yaml' }).text);
  t.ok(await seen(events, putOf('org-b')), 'a fixed file loads');
  t.notOk(store.problems().some((p) => p.file === 'b-bad.yaml'));

  await unlink(join(dir, 'a-good.yaml'));
  t.ok(await seen(events, (e) => e.type === 'put' && e.record.key === 'org-a' && e.record.format === 'json'),
    'with the broken file gone, the duplicate takes over');
});

t.test('writes go to <key>.<format>, atomically, and tidy up', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'hand-named.yml'), samplePolicy('org-a', { format: 'yaml' }).text);
  await writeFile(join(dir, 'org-a.json.bak'), 'not a policy file');
  const { store, events } = await openStore(t, dir);

  const json = await store.put(samplePolicy('org-a'));
  t.same((await readdir(dir)).filter((n) => n !== JOURNAL_NAME).sort(), ['org-a.json', 'org-a.json.bak'], 'the hand-named file is replaced by org-a.json');
  await store.put(samplePolicy('org-a', { format: 'yaml' }));
  t.same((await readdir(dir)).filter((n) => n !== JOURNAL_NAME).sort(), ['org-a.json.bak', 'org-a.yaml'], 'a format change removes the old file');
  await store.putMany([samplePolicy('org-b'), samplePolicy('org-c', { format: 'yaml' })]);
  t.ok(await store.delete('org-b'));
  t.same((await readdir(dir)).filter((n) => n !== JOURNAL_NAME).sort(), ['org-a.json.bak', 'org-a.yaml', 'org-c.yaml'], 'no temp files, nothing deleted left');

  await new Promise((r) => setTimeout(r, 300));
  const puts = events.filter((e) => e.type === 'put' && e.record.key === 'org-a');
  const etags = puts.map((e) => (e.type === 'put' ? e.record.etag : ''));
  t.same([...new Set(etags)], [json.record.etag, etags[etags.length - 1]], 'our own writes come back at most as idempotent puts');
  t.equal(meaningfulEvents(events).length, 5, 'one event per write (4 puts, 1 delete)');

  // Another store on the same directory (another replica on a shared volume) sees them.
  const other = new FileStore({ dir });
  t.teardown(() => other.close());
  await other.open();
  const otherEvents: StoreEvent[] = [];
  other.subscribe((e) => otherEvents.push(e));
  const d = await store.put(samplePolicy('org-d'));
  t.ok(await seen(otherEvents, putOf('org-d', d.record.etag)), 'a write through one store reaches the other');

  await writeFile(join(dir, 'org-e.json'), samplePolicy('org-f').text);
  t.ok(await seen(events, putOf('org-f')));
  await t.rejects(store.put(samplePolicy('org-e')), /holds policy org-f/, 'a file named after the key but holding another policy is never overwritten');
});

t.test('open and use', async (t) => {
  const dir = await tempDir(t);
  const store = new FileStore({ dir: join(dir, 'nested', 'policies') });
  await t.rejects(store.loadAll(), /open/, 'unusable before open()');
  await store.open();
  await store.ping();
  t.same((await store.loadAll()).records, []);
  await store.close();
  await store.close();
  await t.rejects(store.get('org-a'), /closed/, 'unusable after close()');
  await writeFile(join(dir, 'file'), '');
  await t.rejects(new FileStore({ dir: join(dir, 'file', 'sub') }).open(), { name: 'StoreUnavailableError' });
});

t.test('an edit of a symlinked file\'s target outside the directory is seen (one watcher per link)', async (t) => {
  const dir = await tempDir(t);
  const outside = await tempDir(t);
  const a1 = samplePolicy('org-a', { format: 'yaml' });
  await writeFile(join(outside, 'a.yaml'), a1.text);
  await symlink(join(outside, 'a.yaml'), join(dir, 'a.yaml'));
  const { store, events } = await openStore(t, dir);
  t.same((await store.loadAll()).records.map((r) => r.text), [a1.text]);
  const a2 = samplePolicy('org-a', { format: 'yaml', grant: ['document:*'] });
  await writeFile(join(outside, 'a.yaml'), a2.text);
  t.ok(await seen(events, (e) => e.type === 'put' && e.record.text === a2.text), 'the edited target is a put');
  // A link added later is followed too.
  const b1 = samplePolicy('org-b', { format: 'yaml' });
  await writeFile(join(outside, 'b.yaml'), b1.text);
  await symlink(join(outside, 'b.yaml'), join(dir, 'b.yaml'));
  t.ok(await seen(events, putOf('org-b')), 'a new link is a put');
  await new Promise((r) => setTimeout(r, 200));
  const b2 = samplePolicy('org-b', { format: 'yaml', grant: ['document:list'] });
  await writeFile(join(outside, 'b.yaml'), b2.text);
  t.ok(await seen(events, (e) => e.type === 'put' && e.record.text === b2.text), 'and its target\'s edits are seen');
});
