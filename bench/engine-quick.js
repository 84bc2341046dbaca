import { bench, run, summary } from 'mitata';
import { evaluatePolicies } from '../src/core/evaluate/evaluate.js';
import { buildPlan, evaluatePlan } from '../src/core/evaluate/plan.js';
import { makePath } from './fixtures.js';
const policies = makePath(['global', 'org', 'org:57af7f6d-f6f7'], 10);
const plan = buildPlan(policies);
const subject = { id: 'user:alice', roles: ['editor', 'viewer'], groups: [], attributes: {} };
const input = { subject, namespaces: ['global', 'org', 'org:57af7f6d-f6f7'] };
const opts = { defaultPermissions: ['*'] };
const a = evaluatePolicies(policies, input, opts);
const b = evaluatePlan(plan, input, opts);
if (JSON.stringify({ ...a, applied: a.applied.length }) !== JSON.stringify({ ...b, applied: b.applied.length }))
    throw new Error('plan and walk disagree');
summary(() => {
    bench('walk 3 ns x 10 docs (uncached)', () => evaluatePolicies(policies, input, opts));
    bench('plan 3 ns x 10 docs (uncached)', () => evaluatePlan(plan, input, opts));
});
await run();
