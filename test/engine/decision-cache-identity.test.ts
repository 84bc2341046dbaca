// The cache identity follows exactly what conditions read (issue 3 item 5): different
// values of a read attribute never share an entry; unread ones do; a result that reads
// `now` lives within its time bucket only.
import t, { type Test } from 'tap';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { PolicyManager } from '../../src/engine/policy-manager.js';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { DecisionService } from '../../src/engine/decision-service.js';
import { PolicyService } from '../../src/engine/policy-service.js';
import { DEFAULT_PARSE_LIMITS } from '../../src/core/document/parse.js';
import { initLua } from '../../src/core/lua/sandbox.js';

async function setup(t: Test) {
  const store = new MemoryStore();
  await store.open();
  const logger = { info() {}, warn() {}, error() {} };
  const manager = new PolicyManager({ store, pollIntervalMs: 1000, staleAfterMs: 10_000, resyncIntervalMs: 0, logger });
  const cache = new DecisionCache({ max: 1000, ttlMs: 0 });
  manager.onChange((c) => cache.invalidate(c));
  await manager.start();
  t.teardown(() => manager.stop());
  let now = Date.parse('2026-11-26T08:59:30Z');
  const decisions = new DecisionService({
    manager, cache, defaultPermissions: ['*'], namespaceLimits: { maxDepth: 32, maxLength: 128 }, parseLimits: DEFAULT_PARSE_LIMITS,
    timeBucketMs: 60_000, clock: () => now,
  });
  const policies = new PolicyService({ store, manager, parseLimits: DEFAULT_PARSE_LIMITS });
  return { decisions, policies, cache, setNow: (ms: number) => { now = ms; } };
}

t.test('read attributes join the key; unread ones do not', async (t) => {
  const { decisions, policies } = await setup(t);
  await policies.put('global-p', 'key: global-p\nrules:\n  - subjects: ["*"]\n    when: context.tier == "gold" && subject.attributes.mfa == true\n    grant: ["vip:*"]\n', 'yaml', {});
  const ev = (context: object, attributes: object) => decisions.evaluate({ subject: { id: 'u', attributes: attributes as Record<string, unknown> }, namespace: 'global', context: context as Record<string, unknown> }).response;
  t.same(ev({ tier: 'gold' }, { mfa: true }).permissions, ['vip:*']);
  const silver = ev({ tier: 'silver' }, { mfa: true });
  t.same(silver.permissions, []);
  t.equal(silver.cached, false, 'another value of a read key is another entry');
  const noMfa = ev({ tier: 'gold' }, { mfa: false });
  t.same(noMfa.permissions, []);
  t.equal(noMfa.cached, false);
  const again = ev({ tier: 'gold', unrelated: 42 }, { mfa: true, color: 'blue' });
  t.equal(again.cached, true, 'unread keys do not split the cache');
  t.same(again.permissions, ['vip:*']);
});

t.test('a result that reads now lives within its time bucket', async (t) => {
  const { decisions, policies, setNow } = await setup(t);
  await policies.put('global-h', 'key: global-h\nrules:\n  - subjects: ["*"]\n    when: inTimeWindow(now, "09:00", "17:00", "UTC")\n    grant: ["office:*"]\n', 'yaml', {});
  const ev = () => decisions.evaluate({ subject: 'u', namespace: 'global' }).response;
  t.same(ev().permissions, [], '08:59:30');
  t.equal(ev().cached, true, 'same bucket');
  setNow(Date.parse('2026-11-26T09:00:05Z'));
  const later = ev();
  t.equal(later.cached, false, 'a new bucket is a new entry');
  t.same(later.permissions, ['office:*']);
});

t.test('explain shows condition values, predicates and who granted what', async (t) => {
  const { decisions, policies } = await setup(t);
  await policies.put('global-e', [
    'key: global-e',
    'predicates:',
    '  is_owner: resource.attributes.owner == subject.id',
    'rules:',
    '  - id: owners',
    '    subjects: ["*"]',
    '    when: is_owner',
    '    grant: ["doc:*"]',
    '  - id: broken',
    '    subjects: ["*"]',
    '    when: context.missing == 1',
    '    grant: ["x:y"]',
    '',
  ].join('\n'), 'yaml', {});
  const r = decisions.evaluate({ subject: 'u', namespace: 'global', resource: { id: 'd', attributes: { owner: 'u' } }, explain: true }).response;
  t.same(r.permissions, ['doc:*']);
  t.same(r.trace?.[0]?.predicates, { is_owner: { value: true } });
  t.same(r.trace?.[0]?.rules.map((x) => x.condition), [{ value: true }, { error: 'No such key: missing' }]);
  t.same(r.grantedBy, { 'doc:*': { document: 'global-e', rule: 'owners' } });
  t.same(r.conditionErrors, [{ document: 'global-e', rule: 'broken', error: 'No such key: missing' }]);
});

t.test('a Lua document keys exactly the reads it declares (as segments)', async (t) => {
  await initLua();
  const { decisions, policies } = await setup(t);
  const script = [
    'key: global-tiered',
    'kind: lua',
    'reads: ["context.tier", "subject.attributes.dept"]',
    'script: |',
    '  function can_execute(subject, resource, context)',
    '    if context.tier == "gold" and subject.attributes.dept == "ops" then return { grant = { "vip:*" } } end',
    '    return true',
    '  end',
    '',
  ].join('\n');
  const put = await policies.put('global-tiered', script, 'yaml', {});
  t.ok(put, 'stored');
  const ev = (context: object, attributes: object) => decisions.evaluate({ subject: { id: 'u', attributes: attributes as Record<string, unknown> }, namespace: 'global', context: context as Record<string, unknown> }).response;
  t.same(ev({ tier: 'gold' }, { dept: 'ops' }).permissions, ['vip:*']);
  const silver = ev({ tier: 'silver' }, { dept: 'ops' });
  t.same(silver.permissions, [], 'another declared value: its own answer');
  t.equal(silver.cached, false);
  const otherDept = ev({ tier: 'gold' }, { dept: 'sales' });
  t.same(otherDept.permissions, []);
  t.equal(otherDept.cached, false);
  const again = ev({ tier: 'gold', unrelated: 1 }, { dept: 'ops', color: 'blue' });
  t.equal(again.cached, true, 'undeclared keys do not split the cache');
  t.same(again.permissions, ['vip:*']);
});
