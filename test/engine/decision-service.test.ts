// The decision service over the one decision function: where it differs from the other
// callers (the cache, the stale-state refusal, relationships passed in) and nothing else.
import t, { type Test } from 'tap';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';
import type { PolicyStore } from '../../src/store/store.js';
import { PolicyManager } from '../../src/engine/policy-manager.js';
import { PolicyService } from '../../src/engine/policy-service.js';
import { DecisionCache, type CachedDecision } from '../../src/cache/decision-cache.js';
import { DecisionService } from '../../src/engine/decision-service.js';
import { DEFAULT_PARSE_LIMITS } from '../../src/core/document/parse.js';
import { PolicyEngineError } from '../../src/errors.js';
import type { RelationshipCheck } from '../../src/core/condition/related.js';
import { testMongo } from '../helpers/mongo.js';

async function setup(t: Test, options: { store?: PolicyStore; relationships?: RelationshipCheck } = {}) {
  const store = options.store ?? new MemoryStore();
  await store.open();
  let now = Date.parse('2026-03-04T10:00:00Z');
  const logger = { info() {}, warn() {}, error() {} };
  const manager = new PolicyManager({ store, pollIntervalMs: 600_000, staleAfterMs: 30_000, resyncIntervalMs: 0, logger, now: () => now });
  const cache = new DecisionCache({ max: 1000, ttlMs: 0 });
  manager.onChange((c) => cache.invalidate(c));
  await manager.start();
  t.teardown(async () => {
    manager.stop();
    await store.close();
  });
  const decisions = new DecisionService({
    manager, cache, defaultPermissions: ['*'], namespaceLimits: { maxDepth: 32, maxLength: 128 }, parseLimits: DEFAULT_PARSE_LIMITS,
    timeBucketMs: 60_000, clock: () => now, ...(options.relationships ? { relationships: options.relationships } : {}),
  });
  const policies = new PolicyService({ store, manager, parseLimits: DEFAULT_PARSE_LIMITS });
  return { decisions, policies, cache, manager, advance: (ms: number) => { now += ms; } };
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof PolicyEngineError ? err.code : String(err);
  }
};

t.test('a cached entry is never changed after it is stored; hits still send the bytes of the first', async (t) => {
  const { decisions, policies, cache } = await setup(t);
  await policies.put('global-a', 'key: global-a\nrules:\n  - { subjects: ["*"], grant: ["doc:read"] }\n', 'yaml', {});
  const stored: CachedDecision[] = [];
  const set = cache.set.bind(cache);
  cache.set = (key, entry, ttl) => {
    stored.push(entry);
    set(key, entry, ttl);
  };
  const req = { subject: 'u', namespace: 'global' };
  t.equal(decisions.evaluate(req).body, undefined, 'a miss: no stored bytes');
  t.equal(stored.length, 1);
  const entry = stored[0]!;
  t.ok(Object.isFrozen(entry), 'the entry is frozen');
  const keys = Object.keys(entry).sort();
  const hit = decisions.evaluate(req);
  const again = decisions.evaluate(req);
  t.equal(hit.response.cached, true);
  t.equal(typeof hit.body, 'string');
  t.equal(again.body, hit.body, 'the same bytes on every fresh hit');
  decisions.check({ ...req, permission: 'doc:read' });
  t.same(Object.keys(entry).sort(), keys, 'hits and checks add nothing to the entry');
  t.equal(stored.length, 1);
});

t.test('a computed answer is sent as built JSON: the response itself, its shared lists never stale after a policy change', async (t) => {
  const { decisions, policies } = await setup(t);
  await policies.put('global-a', 'key: global-a\nrules:\n  - { subjects: ["*"], grant: ["doc:read"] }\n', 'yaml', {});
  const first = decisions.evaluate({ subject: 'u1', namespace: 'global' });
  t.ok(first.computedBody !== undefined, 'a miss of the usual shape is built by hand');
  t.same(JSON.parse(`${first.computedBody},"decisionId":"x"}`), { ...first.response, decisionId: 'x' });
  const again = decisions.evaluate({ subject: 'u2', namespace: 'global' });
  t.same(JSON.parse(`${again.computedBody}}`).policies, ['global-a'], 'the same plan: its keys, remembered');
  await policies.put('global-b', 'key: global-b\nrules:\n  - { subjects: ["*"], grant: ["doc:write"] }\n', 'yaml', {});
  const after = decisions.evaluate({ subject: 'u3', namespace: 'global' });
  t.same(JSON.parse(`${after.computedBody}}`), JSON.parse(JSON.stringify(after.response)), 'the new plan, its own keys');
  t.same(after.response.policies, ['global-a', 'global-b']);
  t.equal(decisions.evaluate({ subject: 'u1', namespace: 'global', explain: true }).computedBody, undefined, 'a trace is left to the schema serializer');
});

t.test('subjects answered alike share one cached decision; a different answer, an error or a new plan gets its own', async (t) => {
  const { decisions, policies } = await setup(t);
  await policies.put('global-a', [
    'key: global-a',
    'rules:',
    '  - { subjects: ["role:editor"], grant: ["doc:*"] }',
    '  - { subjects: ["user:eve"], revoke: ["doc:delete"] }',
    '  - { subjects: ["role:flaky"], grant: ["doc:odd"], when: "context.n / context.d > 1" }',
    '',
  ].join('\n'), 'yaml', {});
  const decide = (subject: { id: string; roles: string[] }, context?: Record<string, unknown>) => decisions.evaluate({ subject, namespace: 'global', ...(context ? { context } : {}) }).decision;
  const a = decide({ id: 'user:a', roles: ['editor'] });
  const b = decide({ id: 'user:b', roles: ['editor'] });
  t.equal(b, a, 'an equal answer is the plan\'s last decision');
  const sent = (id: string) => decisions.evaluate({ subject: { id, roles: ['editor'] }, namespace: 'global' });
  const s1 = sent('user:s1');
  const s2 = sent('user:s2');
  t.equal(s2.computedBody, s1.computedBody, 'and its answer\'s text is reused');
  t.same(JSON.parse(`${s2.computedBody}}`), JSON.parse(JSON.stringify(s2.response)), 'the text of this response');
  t.same(b.permissions, ['doc:*']);
  const eve = decide({ id: 'user:eve', roles: ['editor'] });
  t.not(eve, a, 'a rule naming the subject: another answer, its own decision');
  t.same(eve.denied, ['doc:delete']);
  t.equal(eve.permissions, a.permissions, 'two cached decisions, one permission list (shared)…');
  t.ok(Object.isFrozen(a.permissions) && Object.isFrozen(eve.denied), '…and frozen: no decision can change another\'s');
  t.equal(decisions.evaluate({ subject: { id: 'user:b', roles: ['editor'] }, namespace: 'global' }).response.cached, true, 'b is a hit…');
  t.same(decisions.evaluate({ subject: { id: 'user:eve', roles: ['editor'] }, namespace: 'global' }).response.denied, ['doc:delete'], '…and eve still gets hers');
  const failed1 = decide({ id: 'user:f1', roles: ['flaky'] }, { n: 1, d: 'x' });
  const failed2 = decide({ id: 'user:f2', roles: ['flaky'] }, { n: 1, d: 'x' });
  t.ok(failed1.conditionErrors && failed2.conditionErrors, 'condition errors…');
  t.not(failed2, failed1, '…are never shared');
  await policies.put('global-b', 'key: global-b\nrules:\n  - { subjects: ["*"], grant: ["doc:read"] }\n', 'yaml', {});
  const c = decide({ id: 'user:c', roles: ['editor'] });
  t.same(c.permissions, ['doc:*'], 'after a policy change…');
  t.not(c, a, '…the new plan\'s decisions are its own');
  t.same(c.policies, ['global-a', 'global-b']);
});

t.test('a stale state refuses a default answer, computed or cached, in one place', async (t) => {
  const mongo = await testMongo(t);
  const { decisions, policies, advance } = await setup(t, { store: new MongoStore({ url: mongo.url, dbName: mongo.dbName, serverSelectionTimeoutMS: 5000 }) });
  await policies.put('global-a', 'key: global-a\nrules:\n  - { subjects: ["*"], grant: ["doc:read"] }\n', 'yaml', {});
  const empty = { subject: 'u', namespace: 'elsewhere' };
  const known = { subject: 'u', namespace: 'global' };
  t.equal(decisions.evaluate(empty).response.default, true, 'fresh: the default answers');
  t.equal(decisions.evaluate(known).response.cached, false);
  advance(60_000);
  t.equal(codeOf(() => decisions.evaluate(empty)), 'STORE_UNAVAILABLE', 'stale, from the cache: refused');
  t.equal(codeOf(() => decisions.check({ ...empty, permission: 'x' })), 'STORE_UNAVAILABLE', 'the check path too');
  t.equal(codeOf(() => decisions.evaluate({ subject: 'v', namespace: 'other' })), 'STORE_UNAVAILABLE', 'stale, computed: refused');
  const r = decisions.evaluate(known).response;
  t.same([r.permissions, r.stale, r.cached], [['doc:read'], true, true], 'known documents still answer, marked stale');
  const alike = decisions.evaluate({ subject: 'u2', namespace: 'global' });
  t.equal(alike.response.stale, true, 'a subject answered alike, computed while stale…');
  t.equal(alike.computedBody, undefined, '…is not sent the text of a fresh answer');
});

t.test('relationships are the service\'s own: passed to each evaluation, their revision in the cache key', async (t) => {
  let revision = '1';
  const granted = new Set<string>(['user:ann']);
  const relationships: RelationshipCheck = {
    get revision() {
      return revision;
    },
    check: (subject) => granted.has(subject),
  };
  const { decisions, policies } = await setup(t, { relationships });
  const other = await setup(t);
  const policy = 'key: global-rel\nrules:\n  - { subjects: ["*"], when: \'related("document:" + resource.id, "write")\', grant: ["doc:write"] }\n';
  await policies.put('global-rel', policy, 'yaml', {});
  await other.policies.put('global-rel', policy, 'yaml', {});
  const req = { subject: 'user:ann', namespace: 'global', resource: { id: 'd' } };
  t.same(decisions.evaluate(req).response.permissions, ['doc:write']);
  t.same(other.decisions.evaluate(req).response.permissions, [], 'a service in the same process without relationships: related() fails closed');
  t.equal(decisions.evaluate(req).response.cached, true);
  granted.delete('user:ann');
  revision = '2';
  const after = decisions.evaluate(req).response;
  t.equal(after.cached, false, 'a new relationship revision is a new cache entry');
  t.same(after.permissions, []);
});
