// The cache-key property (equal keys ⇒ equal decisions) at a larger count than the test
// suite runs: node --import tsx scripts/cache-key-property.ts [runs=100000] [seed]
// (the registry-typed property runs half as many)
import fc from 'fast-check';
import { keyProperty, newStats, typedKeyProperty } from '../test/helpers/cache-key-property.js';

const runs = Number(process.argv[2] ?? 100_000);
const seed = process.argv[3] !== undefined ? Number(process.argv[3]) : Date.now() ^ (Math.random() * 2 ** 31);
console.log(`seed ${seed}, ${runs} runs untyped, ${Math.ceil(runs / 2)} with a registry`);
for (const [name, n] of [['untyped', runs], ['with a registry', Math.ceil(runs / 2)]] as const) {
  const stats = newStats();
  const started = performance.now();
  if (name === 'untyped') fc.assert(keyProperty(stats), { numRuns: n, seed });
  else fc.assert(typedKeyProperty(stats), { numRuns: n, seed });
  console.log(`${name}: ${stats.runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s: ${stats.invalid} conditions did not compile, ${stats.equalKeys} pairs with equal keys (${stats.equalKeysDifferentInputs} of them with different inputs), all decided alike`);
}
