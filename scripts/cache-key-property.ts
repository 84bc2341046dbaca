// The cache-key property (equal keys ⇒ equal decisions) at a larger count than the test
// suite runs: node --import tsx scripts/cache-key-property.ts [runs=100000] [seed]
import fc from 'fast-check';
import { keyProperty, newStats } from '../test/helpers/cache-key-property.js';

const runs = Number(process.argv[2] ?? 100_000);
const seed = process.argv[3] !== undefined ? Number(process.argv[3]) : Date.now() ^ (Math.random() * 2 ** 31);
const stats = newStats();
const started = performance.now();
console.log(`seed ${seed}, ${runs} runs`);
fc.assert(keyProperty(stats), { numRuns: runs, seed });
console.log(`${stats.runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s: ${stats.invalid} conditions did not compile, ${stats.equalKeys} pairs with equal keys (${stats.equalKeysDifferentInputs} of them with different inputs), all decided alike`);
