// Equal decision-cache keys ⇒ equal decisions, for random conditions and random pairs of
// inputs (issue 16 item 1; generators in test/helpers/cache-key-property.ts, a longer run
// in scripts/cache-key-property.ts). On the previous key (paths joined by `.`, missing and
// non-finite numbers written as null, object keys sorted) this fails within a few hundred
// runs, shrunk to e.g. `context.a.map(k, k)[0] == "a"` with {} against {"a": null}; with a
// registry, to `1.0 / context.a < 0.0` with 0 against -0.
import t from 'tap';
import fc from 'fast-check';
import { keyProperty, newStats, typedKeyProperty } from '../helpers/cache-key-property.js';

t.test('equal keys ⇒ equal decisions', async (t) => {
  const stats = newStats();
  fc.assert(keyProperty(stats), { numRuns: 1600 });
  t.comment(`${stats.runs} runs: ${stats.invalid} conditions did not compile, ${stats.equalKeys} pairs with equal keys, ${stats.equalKeysDifferentInputs} of them with different inputs`);
  // The property says something only where keys collide: most pairs must, many with different inputs.
  t.ok(stats.invalid < stats.runs * 0.2, `most conditions compile (${stats.invalid} of ${stats.runs} did not)`);
  t.ok(stats.equalKeysDifferentInputs > stats.runs * 0.2, `many pairs of different inputs share a key (${stats.equalKeysDifferentInputs})`);
});

t.test('equal keys ⇒ equal decisions, with a registry (numbers stay doubles: -0 is not 0)', async (t) => {
  const stats = newStats();
  fc.assert(typedKeyProperty(stats), { numRuns: 1000 });
  t.comment(`${stats.runs} runs: ${stats.invalid} conditions did not compile, ${stats.equalKeys} pairs with equal keys, ${stats.equalKeysDifferentInputs} of them with different inputs`);
  t.equal(stats.invalid, 0, 'every generated condition type-checks');
  t.ok(stats.equalKeysDifferentInputs > stats.runs * 0.2, `many pairs of different inputs share a key (${stats.equalKeysDifferentInputs})`);
});
