// Evaluations per second with conditions versus without: the same 3 namespaces x 10
// documents, once plain and once with a CEL `when` on every rule (true for this
// request, so the same rules apply). Run: node --import tsx bench/conditions.ts
import { bench, run, summary } from 'mitata';
import { buildPlan, evaluatePlan } from '../src/core/evaluate/plan.js';
import { compileAll } from './fixtures.js';
import { makeDocument } from './fixtures.js';
const namespaces = ['global', 'org', 'org:57af7f6d-f6f7'];
const docs = namespaces.flatMap((ns) => Array.from({ length: 10 }, (_, i) => makeDocument(ns, i)));
const withConditions = docs.map((d) => ({
    ...d,
    rules: d.rules.map((r) => ({ ...r, when: 'subject.attributes.mfa == true && context.hour >= 9' })),
}));
const plain = buildPlan(compileAll(docs));
const conditional = buildPlan(compileAll(withConditions));
const input = {
    subject: { id: 'user:alice', roles: ['editor', 'viewer'], groups: [], attributes: { mfa: true } },
    context: { hour: 10 },
    namespaces,
};
const opts = { defaultPermissions: ['*'] };
const a = evaluatePlan(plain, input, opts);
const b = evaluatePlan(conditional, input, opts);
if (JSON.stringify(a.permissions) !== JSON.stringify(b.permissions))
    throw new Error('the two sets must decide alike');
summary(() => {
    bench('3 ns x 10 docs, no conditions (uncached)', () => evaluatePlan(plain, input, opts));
    bench('3 ns x 10 docs, a CEL condition on every rule (uncached)', () => evaluatePlan(conditional, input, opts));
});
await run();
