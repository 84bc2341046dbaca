// The file store's history journal (src/store/file/policy-journal.ts) at compaction: lines
// past the retention are dropped (each key's newest kept), whether they were appended in
// this process or read at open; while every line is within the retention nothing changes.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyJournal } from '../../src/store/file/policy-journal.js';
import type { PolicyChange } from '../../src/store/history.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
let revision = 0;
const change = (key: string, at: number): PolicyChange => ({
  kind: 'policy', revision: String(++revision), at: new Date(at).toISOString(), actor: 'test', key, namespace: 'global', op: 'put', before: null, after: null,
});
const keysAndRevisions = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => { const e = JSON.parse(l) as PolicyChange; return `${e.key}@${e.revision}`; });

t.test('compaction drops lines past the retention, keeping each key\'s newest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  revision = 0;
  const journal = new PolicyJournal(dir, 7 * DAY);
  journal.open();
  journal.append(change('a', NOW - 30 * DAY)); // 1: old, superseded by 3
  journal.append(change('b', NOW - 30 * DAY)); // 2: old, but b's newest
  journal.append(change('a', NOW - 20 * DAY)); // 3: old, a's newest
  journal.append(change('c', NOW - DAY)); // 4: recent
  journal.compact(NOW);
  t.same(keysAndRevisions(journal.path), ['b@2', 'a@3', 'c@4']);
  journal.close();

  // Read back at open, then past the retention again later.
  const again = new PolicyJournal(dir, 7 * DAY);
  again.open();
  again.append(change('a', NOW + 10 * DAY)); // 5: recent, so only lines read at open are old
  again.compact(NOW + 10 * DAY);
  t.same(keysAndRevisions(again.path), ['b@2', 'c@4', 'a@5'], 'a line read at open is dropped too');
  again.close();
});

t.test('within the retention, compaction leaves the journal as it is', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  revision = 0;
  const journal = new PolicyJournal(dir, 7 * DAY);
  journal.open();
  for (let i = 0; i < 1000; i++) journal.append(change(`k${i % 10}`, NOW - DAY));
  t.ok(journal.due);
  const before = readFileSync(journal.path, 'utf8');
  journal.compact(NOW);
  t.notOk(journal.due, 'the count starts again');
  t.equal(readFileSync(journal.path, 'utf8'), before);
  journal.close();
});
