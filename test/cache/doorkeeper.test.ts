// The relationship check cache's admission (src/cache/doorkeeper.ts): a key is admitted
// the second time it is asked, the filter starts over after its capacity, and keys asked
// once are rarely taken for asked-before (admission never changes an answer, only what
// the cache keeps).

import t from 'tap';
import { Doorkeeper } from '../../src/cache/doorkeeper.js';

t.test('a key is admitted on its second ask, and from then on', async (t) => {
  const d = new Doorkeeper(1000);
  t.equal(d.seenBefore('doc:1\0read\0user:alice'), false, 'first ask: remembered, not admitted');
  t.equal(d.seenBefore('doc:1\0read\0user:alice'), true, 'second ask: admitted');
  t.equal(d.seenBefore('doc:1\0read\0user:alice'), true);
  t.equal(d.seenBefore('doc:1\0read\0user:bob'), false, 'another key is its own');
  t.equal(d.seenBefore(''), false, 'the empty key too');
  t.equal(d.seenBefore(''), true);
  t.equal(d.seenBefore('\u{1F600}\uD800'), false, 'lone surrogates and astral characters hash like any code units');
  t.equal(d.seenBefore('\u{1F600}\uD800'), true);
});

t.test('the filter starts over after its capacity', async (t) => {
  const d = new Doorkeeper(100);
  d.seenBefore('kept');
  t.equal(d.seenBefore('kept'), true);
  for (let i = 0; i < 100; i++) d.seenBefore(`filler-${i}`);
  t.equal(d.seenBefore('kept'), false, 'forgotten: the window moved on');
  t.equal(d.seenBefore('kept'), true, 'and remembered again');
});

t.test('keys asked once are rarely admitted (false positives stay low up to capacity)', async (t) => {
  const capacity = 20_000;
  const d = new Doorkeeper(capacity);
  let admitted = 0;
  for (let i = 0; i < capacity; i++) if (d.seenBefore(`document:${i * 7919}\0viewer\0user:${i}`)) admitted++;
  t.ok(admitted / capacity < 0.05, `${admitted} of ${capacity} distinct keys taken for asked-before`);
});
