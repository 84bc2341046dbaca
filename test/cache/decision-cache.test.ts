// Decision cache keys are injective (SPEC §4), identities are order-insensitive for
// roles and groups, and invalidation drops exactly the entries of changed namespaces.
import t from 'tap';
import fc from 'fast-check';
import { DecisionCache, decisionKey, encodeValue, escapeKeyPart, identityDigest } from '../../src/cache/decision-cache.js';
import { compileCondition } from '../../src/core/condition/compile-condition.js';
import type { Decision } from '../../src/core/evaluate/types.js';
import { addPath, emptyReads } from '../../src/core/condition/dependencies.js';

const subject = (id: string, roles: string[] = [], groups: string[] = []) => ({ id, roles, groups, attributes: {} });

t.test('keys are injective', async (t) => {
  t.not(decisionKey('perm', 'a-b', 'c', undefined), decisionKey('perm', 'a', 'b-c', undefined), 'the SPEC example');
  t.not(decisionKey('perm', 'a%2Db', 'c', undefined), decisionKey('perm', 'a-b', 'c', undefined), 'escapes are escaped');
  t.not(decisionKey('perm', 'x', 'g-p', undefined), decisionKey('pol', 'x', 'g-p', undefined), 'modes never share');
  let runs = 0;
  const part = fc.string({ unit: fc.constantFrom('a', '-', '%', '2', 'D', ':'), maxLength: 6 });
  fc.assert(fc.property(part, part, part, part, fc.option(part, { nil: undefined }), fc.option(part, { nil: undefined }), (s1, n1, s2, n2, d1, d2) => {
    runs++;
    const same = s1 === s2 && n1 === n2 && d1 === d2;
    return (decisionKey('perm', s1, n1, d1) === decisionKey('perm', s2, n2, d2)) === same;
  }), { numRuns: 20000 });
  t.comment(`${runs} generated pairs`);
  t.equal(escapeKeyPart('a-b%c'), 'a%2Db%25c');
});

t.test('identity: roles and groups in any order, exactly what conditions read', async (t) => {
  t.equal(identityDigest({ subject: subject('u') }, undefined, 0), undefined);
  t.equal(identityDigest({ subject: subject('u', ['b', 'a']) }, undefined, 0), identityDigest({ subject: subject('u', ['a', 'b']) }, undefined, 0));
  t.not(identityDigest({ subject: subject('u', ['a']) }, undefined, 0), identityDigest({ subject: subject('u', [], ['a']) }, undefined, 0), 'a role is not a group');
  const reads = { ...emptyReads(), now: true };
  addPath(reads, ['context', 'tier']);
  const a = identityDigest({ subject: subject('u'), context: { tier: 'gold', other: 1 } }, reads, 5);
  t.equal(a, identityDigest({ subject: subject('u'), context: { tier: 'gold', other: 2 } }, reads, 5), 'unread keys do not matter');
  t.not(a, identityDigest({ subject: subject('u'), context: { tier: 'silver' } }, reads, 5));
  t.not(a, identityDigest({ subject: subject('u'), context: { tier: 'gold' } }, reads, 6), 'another time bucket');
  const long = identityDigest({ subject: subject('u', Array.from({ length: 50 }, (_, i) => `role-${i}`)) }, undefined, 0);
  t.match(long, /^[A-Za-z0-9_-]{22}$/, 'long identities are hashed');
});

t.test('invalidation drops exactly the entries of changed namespaces', async (t) => {
  const cache = new DecisionCache({ max: 100, ttlMs: 0 });
  const decision = {} as Decision;
  cache.set('k1', { decision, namespaces: ['global', 'org'], revision: '1' });
  cache.set('k2', { decision, namespaces: ['global', 'team'], revision: '1' });
  cache.set('k3', { decision, namespaces: ['other'], revision: '1' });
  cache.invalidate(new Set(['org']));
  t.equal(cache.get('k1'), undefined);
  t.ok(cache.get('k2'));
  cache.invalidate(new Set(['global']));
  t.equal(cache.get('k2'), undefined);
  t.ok(cache.get('k3'));
  cache.invalidate('all');
  t.equal(cache.size, 0);
  const bounded = new DecisionCache({ max: 3, ttlMs: 0 });
  for (let i = 0; i < 10; i++) bounded.set(`k${i}`, { decision, namespaces: ['x'], revision: '1' });
  t.equal(bounded.size, 3, 'the cache is bounded');
  const off = new DecisionCache({ max: 0, ttlMs: 0 });
  off.set('k', { decision, namespaces: ['x'], revision: '1' });
  t.equal(off.get('k'), undefined, 'CACHE_MAX=0 disables the cache');
});

t.test('TTL on an injected clock: an entry lives exactly ttlMs; a per-entry TTL is shorter', async (t) => {
  let now = 1_000;
  const cache = new DecisionCache({ max: 100, ttlMs: 200, now: () => now });
  const decision = {} as Decision;
  cache.set('k', { decision, namespaces: ['global'], revision: '1' });
  cache.set('short', { decision, namespaces: ['global'], revision: '1' }, 50);
  now += 51;
  t.ok(cache.get('k'), 'young: served');
  t.equal(cache.get('short'), undefined, 'its own TTL (a time-of-day bucket) ended first');
  now += 149;
  t.ok(cache.get('k'), 'at exactly ttlMs: still served');
  now += 1;
  t.equal(cache.get('k'), undefined, 'one ms past the TTL: gone');
  const forever = new DecisionCache({ max: 100, ttlMs: 0, now: () => now });
  forever.set('k', { decision, namespaces: ['global'], revision: '1' });
  now += 1e9;
  t.ok(forever.get('k'), 'without a TTL an entry stays until invalidated or evicted');
});

t.test('read paths are segments; a dynamic step keys the whole value it picks from', async (t) => {
  const paths = (when: string) => {
    const c = compileCondition(when, []);
    if (!c.ok) throw new Error(c.error.message);
    return [...c.condition.reads.paths.values()].map((p) => [...p]).sort();
  };
  t.same(paths('context["mfa.verified"] == true'), [['context', 'mfa.verified']]);
  t.same(paths('context.mfa.verified == true'), [['context', 'mfa']]);
  t.same(paths('subject.attributes["a.b"] == 1 && resource.attributes.c.d == 2'), [['resource', 'attributes', 'c'], ['subject', 'attributes', 'a.b']]);
  t.same(paths('context[context.k] == 1'), [['context'], ['context', 'k']]);
  t.same(paths('subject.attributes[context.k] == 1'), [['context', 'k'], ['subject', 'attributes']]);
  t.same(paths('context.xs.exists(x, x.y == 1)'), [['context', 'xs']]);
  t.same(paths('"a" in context || dyn(resource).id == "x"'), [['context'], ['resource']]);
});

t.test('values a condition can tell apart encode apart', async (t) => {
  const values: unknown[] = [undefined, null, true, false, 0, -0, 1, 1.5, -1, Infinity, -Infinity, NaN, 1n, '1', '', 'null', 'Infinity', '~',
    [], [1], ['1'], [null], [[]], {}, { a: 1 }, { a: '1' }, { 'a.b': 1 }, { a: { b: 1 } }, { a: 1, b: 2 }, { b: 2, a: 1 }, { a: undefined }, new Date(0), new Date(1), '1970-01-01T00:00:00.000Z'];
  const texts = values.map(encodeValue);
  t.equal(new Set(texts).size, values.length, texts.join(' '));
  t.not(encodeValue(new Map()), encodeValue(new Map()), 'unknown objects never share a text');
  const reads = emptyReads();
  addPath(reads, ['context', 'x']);
  const id = (context: object) => identityDigest({ subject: subject('u'), context }, reads, 0);
  t.not(id({ x: null }), id({}), 'null is not missing');
  t.not(id({ x: Infinity }), id({ x: null }), 'Infinity is not null');
  const dotted = emptyReads();
  addPath(dotted, ['context', 'a.b']);
  t.not(identityDigest({ subject: subject('u'), context: { 'a.b': true } }, dotted, 0), identityDigest({ subject: subject('u'), context: { 'a.b': false } }, dotted, 0));
  const deep = emptyReads();
  addPath(deep, ['context', 'a', 'b']);
  t.not(identityDigest({ subject: subject('u'), context: { a: 'str' } }, deep, 0), identityDigest({ subject: subject('u'), context: { a: {} } }, deep, 0), 'a step through a string is not a missing key');
});

t.test('invalidation goes through a namespace index that follows evictions and replacements', async (t) => {
  const decision = { permissions: [], denied: [], policies: [], applied: [] } as unknown as Decision;
  const cache = new DecisionCache({ max: 4, ttlMs: 0 });
  // namespace → the keys indexed under it (through the groups of namespace lists)
  const index = (c: DecisionCache) => {
    const by = (c as unknown as { byNamespace: Map<string, Set<{ keys: Set<string> }>> }).byNamespace;
    return new Map([...by].map(([ns, groups]) => [ns, new Set([...groups].flatMap((g) => [...g.keys]))]));
  };
  for (let i = 0; i < 10; i++) cache.set(`k${i}`, { decision, namespaces: ['global', `t${i}`], revision: '1' });
  t.same([...index(cache).get('global')!].sort(), ['k6', 'k7', 'k8', 'k9'], 'evicted entries leave the index');
  t.equal(index(cache).has('t0'), false, 'an emptied namespace leaves the index');
  // Replaced under the same key, for other namespaces: only the new ones index it.
  cache.set('k9', { decision, namespaces: ['other'], revision: '2' });
  t.equal(index(cache).has('t9'), false);
  cache.invalidate(new Set(['t9']));
  t.ok(cache.get('k9'), 'the old namespace no longer drops the replaced entry');
  cache.invalidate(new Set(['other']));
  t.equal(cache.get('k9'), undefined);
  cache.invalidate(new Set(['t7']));
  t.equal(cache.get('k7'), undefined);
  t.ok(cache.get('k6') && cache.get('k8'), 'entries of other namespaces stay');
  // A namespace no entry holds costs no walk of the cache: the large cache keeps everything.
  const large = new DecisionCache({ max: 50_000, ttlMs: 0 });
  for (let i = 0; i < 50_000; i++) large.set(`k${i}`, { decision, namespaces: ['global', `t${i % 1000}`], revision: '1' });
  large.invalidate(new Set(['t3']));
  t.equal(large.size, 50_000 - 50, 'exactly the 50 entries of t3 dropped');
  t.equal(index(large).get('global')!.size, 50_000 - 50);
  const bytes = new DecisionCache({ max: 100, maxBytes: 65_536, ttlMs: 0 });
  bytes.set('huge', { decision: { ...decision, permissions: ['x'.repeat(200_000)] } as unknown as Decision, namespaces: ['n'], revision: '1' });
  t.equal(index(bytes).has('n'), false, 'an entry refused for its size is not indexed');
});

t.test('entries of one namespace list share a group, found by the frozen list or by its names', async (t) => {
  const decision = { permissions: [], denied: [], policies: [], applied: [] } as unknown as Decision;
  const cache = new DecisionCache({ max: 2, ttlMs: 0 });
  const groups = (c: DecisionCache) => (c as unknown as { groups: Map<string, { keys: Set<string> }> }).groups;
  const path = Object.freeze(['global', 'org']);
  cache.set('a', { decision, namespaces: path, revision: '1' });
  cache.set('b', { decision, namespaces: ['global', 'org'], revision: '1' });
  t.equal(groups(cache).size, 1, 'an equal list that is not the frozen one joins the same group');
  // Both evicted: the group is dropped; an equal unfrozen list starts a new one, which the frozen list then finds.
  cache.set('c', { decision, namespaces: ['x'], revision: '1' });
  cache.set('d', { decision, namespaces: ['x'], revision: '1' });
  t.equal(groups(cache).has('global\u0000org'), false, 'an emptied group leaves the index');
  cache.set('e', { decision, namespaces: ['global', 'org'], revision: '1' });
  cache.set('f', { decision, namespaces: path, revision: '1' });
  t.same([...groups(cache).get('global\u0000org')!.keys].sort(), ['e', 'f'], 'one group again, holding both');
  cache.invalidate(new Set(['org']));
  t.equal(cache.size, 0, 'both dropped by their namespace');
  t.equal(groups(cache).size, 0, 'and the index is empty');
});

t.test("admission 'second': an entry is stored the second time its key is offered", async (t) => {
  const value = Object.freeze({ decision: { permissions: ['a:read'], denied: [], default: false, exact: true, policies: [], applied: [] } as Decision, namespaces: Object.freeze(['global']), revision: '1' });
  const cache = new DecisionCache({ max: 100, ttlMs: 0, admission: 'second' });
  cache.set('k', value);
  t.equal(cache.get('k'), undefined, 'the first offer only remembers the key');
  cache.set('k', value);
  t.equal(cache.get('k'), value, 'the second stores it');
  cache.invalidate(new Set(['global']));
  t.equal(cache.get('k'), undefined, 'and it is indexed like any entry: a change to its namespace drops it');
  const other = new DecisionCache({ max: 100, ttlMs: 0 });
  other.set('k', value);
  t.equal(other.get('k'), value, "the default here ('first') stores at once");
});
