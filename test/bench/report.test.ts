// bench/lib/report.ts writeReports: `npm run bench` rewrites the generated sections of
// RESULTS.md and keeps the hand-written ones after HAND_WRITTEN_MARKER.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HAND_WRITTEN_MARKER, handWritten, writeReports, type RunReport } from '../../bench/lib/report.js';

function report(title: string): RunReport {
  return {
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 24, node: 'v20', platform: 'linux', kernel: '6', date: '2026-12-07T00:00:00Z' },
    mode: 'full',
    peers: {},
    loadavgStart: [0, 0, 0],
    loadavgEnd: [0, 0, 0],
    totalSec: 1,
    scenarios: [{ id: 'http', title, mode: 'full', loadavgBefore: [0, 0, 0], startedAt: '2026-12-07T00:00:00Z', durationSec: 1, tables: [], notes: ['a note'], data: {} }],
  };
}

t.test('the generated sections are replaced; the marker and what follows it are kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-report-'));
  const md = join(dir, 'RESULTS.md');
  const hand = `${HAND_WRITTEN_MARKER}\n\n## By hand\n\nnumbers of another script\n`;
  writeFileSync(md, `# Benchmark results\n\n## Old generated section\n\nold\n\n${hand}`);
  writeReports(report('New generated section'), md, join(dir, 'results.json'));
  const text = readFileSync(md, 'utf8');
  t.match(text, /## New generated section/);
  t.notMatch(text, /Old generated section/);
  t.ok(text.endsWith(`\n\n${hand}`), 'the hand-written part, unchanged, after a blank line');
  // and again: still exactly one copy
  writeReports(report('Newer'), md, join(dir, 'results.json'));
  const again = readFileSync(md, 'utf8');
  t.equal(again.split(HAND_WRITTEN_MARKER).length, 2);
  t.ok(again.endsWith(hand));
});

t.test('without the marker (or with it inside another line) nothing is kept', async (t) => {
  t.equal(handWritten('# Benchmark results\n\n## A section\n'), '');
  t.equal(handWritten(`text ${HAND_WRITTEN_MARKER} more text`), '');
  t.equal(handWritten(`text ${HAND_WRITTEN_MARKER}\nafter`), '');
  t.equal(handWritten(`${HAND_WRITTEN_MARKER}\nall of it`), `${HAND_WRITTEN_MARKER}\nall of it`);
  const dir = mkdtempSync(join(tmpdir(), 'pe-report-'));
  const md = join(dir, 'RESULTS.md');
  writeFileSync(md, '# Benchmark results\n\n## Old\n');
  writeReports(report('New'), md, join(dir, 'results.json'));
  t.notMatch(readFileSync(md, 'utf8'), /## Old/);
});

t.test('the repository\'s RESULTS.md has the marker once', async (t) => {
  const text = readFileSync(new URL('../../bench/RESULTS.md', import.meta.url), 'utf8');
  t.equal(text.split(`${HAND_WRITTEN_MARKER}\n`).length, 2);
});
