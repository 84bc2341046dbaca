// The cost of the decision-cache key when conditions read inputs: DecisionService.evaluate
// on the realistic path (3 namespaces, 50 documents) plus one document whose rules read
// subject attributes and context keys (a dotted key among them), cache hit and miss (a new
// subject id per call), and identityDigest alone. Run:
//   nice -n 10 node --import tsx bench/cache-key.ts [--quick]
import { pino } from 'pino';
import { loadConfig } from '../src/config/config.js';
import { createServices } from '../src/compose.js';
import { identityDigest } from '../src/cache/decision-cache.js';
import { compileCondition } from '../src/core/condition/compile-condition.js';
import { emptyReads, mergeReads } from '../src/core/condition/dependencies.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import type { PolicyDocument } from '../src/core/document/types.js';
import { micro } from './lib/micro.js';
import { ALICE, REALISTIC_PATH, TENANT, realisticDocs, recordOf } from './lib/sets.js';
import { int, ns } from './lib/util.js';

const quick = process.argv.includes('--quick');
const WHEN = [
  'subject.attributes.mfa == true && context.hour >= 9',
  'context["ip.addr"] != "" && has(context.region)',
  'context.tags.exists(t, t == "beta") || resource.attributes.owner == subject.id',
];
const conditional: PolicyDocument = {
  key: `${TENANT}-conditions`, namespace: TENANT, ordinal: 1000,
  rules: WHEN.map((when, i) => ({ id: `c${i}`, subjects: ['*'], when, grant: [`cond${i}:read`] })),
};
const store = new MemoryStore();
await store.putMany([...realisticDocs(), conditional].map(recordOf));
const services = await createServices(loadConfig({ LOG_LEVEL: 'silent' }), pino({ level: 'silent' }), store);
const decisions = services.decisions;

const attributes = { mfa: true, department: 'sales', level: 3 };
const context = { hour: 10, region: 'eu-west', 'ip.addr': '10.0.0.7', tags: ['beta', 'x'], unrelated: { deep: [1, 2, 3] } };
const resource = { type: 'doc', id: 'd1', attributes: { owner: 'user:alice', size: 12.5 } };
const hitReq = { subject: { ...ALICE, attributes }, namespace: REALISTIC_PATH, context, resource };
// Stored at its second ask (CACHE_ADMISSION=second, the default), a hit from the third.
const first = decisions.evaluate(hitReq).response;
decisions.evaluate(hitReq);
const second = decisions.evaluate(hitReq).response;
if (first.cached || !second.cached) throw new Error('the cache did not warm');
if (!first.permissions.includes('cond0:read') || !first.permissions.includes('cond1:read') || !first.permissions.includes('cond2:read')) throw new Error(`conditions did not hold: ${JSON.stringify(first.permissions)}`);
let seq = 0;
const missReq = () => ({ ...hitReq, subject: { id: `user:u${seq++}`, roles: ALICE.roles, attributes } });

const reads = emptyReads();
for (const w of WHEN) {
  const c = compileCondition(w, []);
  if (!c.ok) throw new Error(c.error.message);
  mergeReads(reads, c.condition.reads);
}
const input = { subject: { ...ALICE, groups: [], attributes }, context, resource };

const rows: Array<[string, Awaited<ReturnType<typeof micro>>]> = [];
rows.push(['identityDigest (3 conditions’ reads)', await micro(() => identityDigest(input, reads, 0), quick)]);
rows.push(['DecisionService.evaluate cache hit', await micro(() => decisions.evaluate(hitReq), quick)]);
rows.push(['DecisionService.evaluate miss (new subject id)', await micro(() => decisions.evaluate(missReq()), quick)]);
for (const [label, r] of rows) console.log(`${label}: ${int(r.perSec)}/s, avg ${ns(r.avgNs)}, p50 ${ns(r.p50Ns)}, p99 ${ns(r.p99Ns)}`);
await services.close();
