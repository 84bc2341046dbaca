// The line reader the file stores share (src/store/file/journal.ts): every line in order;
// a malformed last line (broken JSON, or JSON that is not an object: a crash mid-append
// or a stray write) is cut off and reported; a malformed line before others refuses the
// whole journal with StoreUnavailableError, never a TypeError from deeper in a store.

import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJournalLines } from '../../src/store/file/journal.js';
import { StoreUnavailableError } from '../../src/store/store.js';

const wording = { line: 'a change', state: 'the test state', torn: 'a test crash' };

function journal(t: Test, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pe-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'journal.jsonl');
  writeFileSync(path, text);
  return path;
}

function read(path: string): { lines: unknown[]; repairs: string[] } {
  const lines: unknown[] = [];
  const repairs: string[] = [];
  readJournalLines(path, wording, (m) => repairs.push(m), (v) => lines.push(v));
  return { lines, repairs };
}

t.test('every line in order; blank lines skipped; no file is no lines', async (t) => {
  const path = journal(t, '{"revision":"1"}\n\n{"revision":"2"}\n');
  t.same(read(path), { lines: [{ revision: '1' }, { revision: '2' }], repairs: [] });
  t.same(read(join(path, '..', 'missing.jsonl')), { lines: [], repairs: [] });
});

for (const [name, last] of [['broken JSON', '{"revision":"3"'], ['null', 'null'], ['a list', '[1]'], ['a number', '7']] as const) {
  t.test(`a last line that is ${name} is cut off and reported`, async (t) => {
    const good = '{"revision":"1"}\n{"revision":"2"}\n';
    const path = journal(t, `${good}${last}`);
    const { lines, repairs } = read(path);
    t.same(lines, [{ revision: '1' }, { revision: '2' }]);
    t.equal(repairs.length, 1);
    t.match(repairs[0], /dropped a torn last line \(a test crash\)/);
    t.equal(readFileSync(path, 'utf8'), good, 'the file ends after the last good line');
  });

  t.test(`a line that is ${name} before others refuses the journal`, async (t) => {
    const text = `{"revision":"1"}\n${last}\n{"revision":"2"}\n`;
    const path = journal(t, text);
    let thrown: unknown;
    try {
      read(path);
    } catch (err) {
      thrown = err;
    }
    t.ok(thrown instanceof StoreUnavailableError, 'a StoreUnavailableError');
    t.match((thrown as Error).message, /line 2 is not a change; refusing to guess the test state/);
    t.equal(readFileSync(path, 'utf8'), text, 'nothing cut');
  });
}
