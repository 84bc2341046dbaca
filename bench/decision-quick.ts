// Quick in-process numbers for the decision path through DecisionService (evaluate and
// check, cache hit and miss) on the realistic set: `node --import tsx bench/decision-quick.ts`.
// For before/after comparisons of refactors of the decision path; the full numbers
// are the `engine` scenario's (bench/README.md).

import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createServices } from '../src/compose.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { micro } from './lib/micro.js';
import { ALICE, REALISTIC_PATH, realisticDocs, recordOf } from './lib/sets.js';
import { int, ns } from './lib/util.js';

const store = new MemoryStore();
await store.putMany(realisticDocs().map(recordOf));
const services = await createServices(loadConfig({ LOG_LEVEL: 'silent' }), pino({ level: 'silent' }), store);
const d = services.decisions;
const hit = { subject: ALICE, namespace: REALISTIC_PATH };
const check = { ...hit, permission: 'doc:read' };
let seq = 0;
const fresh = () => ({ subject: { id: `user:u${seq++}`, roles: ALICE.roles }, namespace: REALISTIC_PATH });
d.evaluate(hit);
d.check(check);
const cases: Array<[string, () => unknown]> = [
  ['evaluate hit', () => d.evaluate(hit)],
  ['evaluate miss', () => d.evaluate(fresh())],
  ['check hit', () => d.check(check)],
  ['check miss', () => d.check({ ...fresh(), permission: 'doc:read' })],
];
for (const [label, fn] of cases) {
  const r = await micro(fn, true);
  console.log(`${label}: ${int(r.perSec)}/s, p50 ${ns(r.p50Ns)}, p99 ${ns(r.p99Ns)}`);
}
await services.close();
