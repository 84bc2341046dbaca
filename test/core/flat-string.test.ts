// flat() (src/core/flat-string.ts) makes a string built from parts flat in place: the same
// value, whatever it holds (one-byte, two-byte, lone surrogates, NUL), so a cache key or a
// kept answer is never changed by it. (What it saves is measured in bench/rss.ts, not here.)

import t from 'tap';
import { flat } from '../../src/core/flat-string.js';

t.test('the value is unchanged for every kind of string', async (t) => {
  const parts = ['{"a":', '"é"', ',"b":"\u{1F600}"', ',"c":"\ud800"', ',"d":"\u0000x"', '}', 'perm-user:a-global.org-[', '"x"]'];
  let built = '';
  for (const p of parts) built += p;
  const expected = parts.join('');
  t.equal(flat(built), expected);
  t.equal(built, expected, 'the same string afterwards');
  t.equal(flat(''), '');
  const lone = `${'\udc00'}${'x'.repeat(20)}${'\ud800'}`;
  t.equal(flat(lone).length, 22);
  t.equal(flat(lone).charCodeAt(0), 0xdc00, 'a lone surrogate is kept as it is');
  t.equal(flat(lone).charCodeAt(21), 0xd800);
});
