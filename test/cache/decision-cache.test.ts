// Decision cache keys are injective (SPEC §4), identities are order-insensitive for
// roles and groups, and invalidation drops exactly the entries of changed namespaces.
import t from 'tap';
import fc from 'fast-check';
import { DecisionCache, decisionKey, escapeKeyPart, identityDigest } from '../../src/cache/decision-cache.js';
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
