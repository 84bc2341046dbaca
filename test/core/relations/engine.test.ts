// The engine on hand-made graphs: the example, cycles, bounds (depth, fan-out,
// deadline: a clear error, never a hang), explain and tuple syntax. (The manager's
// consistency across replicas is in test/engine/relation-manager.test.ts.)

import t from 'tap';
import { RelationError } from '../../../src/core/relations/errors.js';
import { RelationEngine } from '../../../src/core/relations/relation-engine.js';
import { RelationIndex } from '../../../src/core/relations/relation-index.js';
import { compileSchema } from '../../../src/core/relations/schema/compile-schema.js';
import type { CompiledSchema } from '../../../src/core/relations/schema/types.js';
import { formatTuple, parseObject, parseSubject, parseTuple, tupleOf } from '../../../src/core/relations/tuple.js';
import { exampleChecks, exampleSchema, exampleTuples } from '../../helpers/relations-example.js';

function schemaOf(text: string): CompiledSchema {
  const r = compileSchema(text, 'yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.schema;
}

function engineOf(text: string, tuples: string[], limits?: ConstructorParameters<typeof RelationEngine>[2]): RelationEngine {
  const index = new RelationIndex();
  for (const s of tuples) index.add(parseTuple(s));
  return new RelationEngine(index, schemaOf(text), limits);
}

const check = (e: RelationEngine, resource: string, permission: string, subject: string) =>
  e.check(parseObject(resource), permission, parseSubject(subject)).allowed;

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof RelationError ? err.code : String(err);
  }
};

t.test('tuple syntax', async (t) => {
  for (const s of ['document:doc1#reader@user:alice', 'document:doc1#reader@group:team#member', 'document:doc1#reader@user:*', 'doc:a:b/c#r@u:x.y-z']) {
    t.equal(formatTuple(parseTuple(s)), s);
  }
  t.same(tupleOf({ resource: 'document:doc1', relation: 'reader', subject: 'group:team#member' }), parseTuple('document:doc1#reader@group:team#member'));
  for (const bad of ['document:doc1#reader', 'document#reader@user:a', 'document:doc1@user:a', 'document:d#reader@user:*#member', 'document:d#reader@user', 'document:d#1x@user:a', 'document:#r@user:a', 'document:d d#r@user:a']) {
    t.throws(() => parseTuple(bad), { name: 'TupleSyntaxError' }, bad);
  }
});

t.test('the example', async (t) => {
  const e = engineOf(exampleSchema, exampleTuples);
  for (const [resource, permission, subject, allowed] of exampleChecks) t.equal(check(e, resource, permission, subject), allowed, `${resource}#${permission}@${subject}`);
  t.same(e.check(parseObject('document:handbook'), 'read', parseSubject('user:zed'), { explain: true }).path, ['document:handbook#read', 'document:handbook#reader', 'document:handbook#reader@user:*']);
  t.same(e.check(parseObject('document:root'), 'read', parseSubject('user:zed'), { explain: true }), { allowed: false });
  t.equal(codeOf(() => check(e, 'document:root', 'reed', 'user:a')), 'RELATION_UNKNOWN');
  t.equal(codeOf(() => e.lookupSubjects(parseObject('document:root'), 'read', 'usr', 10)), 'RELATION_UNKNOWN');
  t.equal(codeOf(() => new RelationEngine(new RelationIndex(), undefined).check(parseObject('a:b'), 'c', parseSubject('d:e'))), 'RELATION_UNKNOWN', 'no schema: every name is unknown');
});

t.test('cycles terminate with the least-fixpoint answer', async (t) => {
  // Groups that contain each other; documents that are their own ancestors.
  const e = engineOf(exampleSchema, [
    'group:a#member@group:b#member', 'group:b#member@group:c#member', 'group:c#member@group:a#member', 'group:c#member@user:u',
    'document:x#parent@document:y', 'document:y#parent@document:z', 'document:z#parent@document:x', 'document:z#reader@group:a#member',
  ]);
  t.ok(check(e, 'group:a', 'member', 'user:u'));
  t.ok(check(e, 'document:x', 'read', 'user:u'));
  t.notOk(check(e, 'document:x', 'read', 'user:v'));
  t.notOk(check(e, 'document:x', 'write', 'user:u'));
  t.same(e.lookupResources('document', 'read', parseSubject('user:u'), 10).ids, ['x', 'y', 'z']);
  t.same(e.lookupResources('group', 'member', parseSubject('user:u'), 10).ids, ['a', 'b', 'c']);
});

t.test('a false answer found under a cycle cut is not reused where the cut no longer holds', async (t) => {
  // Checking g0 reaches g1, whose only way in is back through g0 (open: false for now);
  // g0 then succeeds through g2. g1 must not be remembered as false: it holds, via g0.
  const e = engineOf('user: {}\ngroup: { relations: { member: [user, "group#member"] } }', [
    'group:g0#member@group:g1#member', 'group:g0#member@group:g2#member', 'group:g1#member@group:g0#member', 'group:g2#member@user:u0',
  ]);
  t.same(e.lookupResources('group', 'member', parseSubject('user:u0'), 10).ids, ['g0', 'g1', 'g2']);
});

t.test('bounds: a clear error, never a hang', async (t) => {
  const chain = (n: number) => Array.from({ length: n }, (_, i) => `document:d${i + 1}#parent@document:d${i}`).concat('document:d0#reader@user:u');
  const e = engineOf(exampleSchema, chain(120));
  t.ok(check(e, 'document:d40', 'read', 'user:u'), '40 parents deep is within the default depth of 50');
  let err: unknown;
  try {
    check(e, 'document:d120', 'read', 'user:u');
  } catch (x) {
    err = x;
  }
  t.match(err, { code: 'RELATION_LIMIT_EXCEEDED', message: /more than 50 nested relations \(depth limit\)/ });
  t.equal(codeOf(() => e.lookupResources('document', 'read', parseSubject('user:u'), 200)), 'RELATION_LIMIT_EXCEEDED', 'lookups share the bounds');

  const wide = Array.from({ length: 5000 }, (_, i) => `group:g#member@group:m${i}#member`);
  const fan = engineOf(exampleSchema, wide, { maxDepth: 50, maxSteps: 1000, deadlineMs: 1000 });
  t.match(codeOf(() => check(fan, 'group:g', 'member', 'user:u')), 'RELATION_LIMIT_EXCEEDED', 'fan-out limit');
  const slow = engineOf(exampleSchema, wide, { maxDepth: 50, maxSteps: 1_000_000, deadlineMs: 0 });
  t.equal(codeOf(() => check(slow, 'group:g', 'member', 'user:u')), 'RELATION_DEADLINE_EXCEEDED', 'per-request deadline');
  t.notOk(check(engineOf(exampleSchema, wide), 'group:g', 'member', 'user:u'), 'within the bounds it answers');
});

t.test('deep graphs: an iterative walk, no stack overflow however deep the depth limit allows', async (t) => {
  // 10,000 parents: a recursive walk runs out of JavaScript stack long before this.
  const n = 10_000;
  const deep = { maxDepth: 3 * n, maxSteps: 10_000_000, deadlineMs: 60_000 };
  const chain = Array.from({ length: n }, (_, i) => `document:d${i + 1}#parent@document:d${i}`);
  const e = engineOf(exampleSchema, [...chain, 'document:d0#reader@user:u'], deep);
  t.ok(check(e, `document:d${n}`, 'read', 'user:u'), 'read through 10,000 parents');
  t.notOk(check(e, `document:d${n}`, 'read', 'user:v'), 'and no one else');
  const path = e.check(parseObject(`document:d${n}`), 'read', parseSubject('user:u'), { explain: true }).path!;
  t.equal(path[0], `document:d${n}#read`);
  t.equal(path[path.length - 1], 'document:d0#reader@user:u', 'explain walks the whole proof');
  t.equal(e.lookupResources('document', 'read', parseSubject('user:u'), 2 * n).ids.length, n + 1, 'lookup-resources finds every document of the chain');

  // The same chain closed into a cycle (d0's parent is the last): a cycle 10,000 long,
  // false for a stranger (every path comes back to an open node), true where a reader is.
  const ring = engineOf(exampleSchema, [...chain, `document:d0#parent@document:d${n}`, 'document:d5000#reader@user:u'], deep);
  t.notOk(check(ring, 'document:d4999', 'read', 'user:v'), 'a cycle 10,000 long ends, false');
  t.ok(check(ring, 'document:d4999', 'read', 'user:u'), 'around the cycle to the reader');
  t.ok(check(ring, 'document:d5000', 'read', 'user:u'));

  // Groups nested 10,000 deep (usersets, not arrows).
  const groups = Array.from({ length: n }, (_, i) => `group:g${i}#member@group:g${i + 1}#member`).concat(`group:g${n}#member@user:u`);
  const g = engineOf(exampleSchema, groups, deep);
  t.ok(check(g, 'group:g0', 'member', 'user:u'), 'a member 10,000 groups down');
  t.notOk(check(g, 'group:g0', 'member', 'user:v'));
});

t.test('the index keeps what checks read beside the tuples: many relation names, removal, clear', async (t) => {
  // Checks read the subject's numeric set keys and each object's relations off its entry:
  // past the first 64 relation names the keys take another form; removing a resource's
  // last tuple, or clearing the index, must leave no stale link behind.
  const names = Array.from({ length: 70 }, (_, i) => `r${i}`);
  const text = `user: {}\ngroup: { relations: { member: [user, "group#member"] } }\ndoc:\n  relations: { ${names.map((n) => `${n}: [user, "user:*", "group#member"]`).join(', ')} }\n  permissions: { any: "${names.join(' | ')}" }\n`;
  const index = new RelationIndex();
  const e = new RelationEngine(index, schemaOf(text));
  const add = (s: string) => index.add(parseTuple(s));
  for (const [i, n] of names.entries()) add(`doc:d${i}#${n}@user:u${i}`);
  add('doc:w#r69@user:*');
  add('doc:g#r68@group:g#member');
  add('group:g#member@user:v');
  // Every relation on every document, for its one user: only d_i#r_i holds (keys never collide).
  let wrong = 0;
  for (let u = 0; u < names.length; u++) {
    for (let d = Math.max(0, u - 2); d < Math.min(names.length, u + 3); d++) {
      for (const [r, n] of names.entries()) if (check(e, `doc:d${d}`, n, `user:u${u}`) !== (r === d && d === u)) wrong++;
    }
  }
  t.equal(wrong, 0, 'each relation on neighbouring documents, for each user');
  t.notOk(check(e, 'doc:d3', 'r3', 'user:u4'), 'someone else');
  t.ok(check(e, 'doc:d66', 'any', 'user:u66'));
  t.ok(check(e, 'doc:w', 'r69', 'user:nobody'), 'a wildcard past the 64th name');
  t.notOk(check(e, 'doc:w', 'r68', 'user:nobody'));
  t.ok(check(e, 'doc:g', 'r68', 'user:v'), 'a userset past the 64th name');
  add('doc:d66#r66@user:x');
  add('doc:other#r1@user:u66');
  index.remove(parseTuple('doc:d66#r66@user:u66'));
  t.notOk(check(e, 'doc:d66', 'r66', 'user:u66'), 'removed, the set still there');
  t.ok(check(e, 'doc:d66', 'r66', 'user:x'));
  index.remove(parseTuple('doc:d66#r66@user:x'));
  t.notOk(check(e, 'doc:d66', 'any', 'user:u66'));
  add('doc:d66#r1@user:u66');
  t.ok(check(e, 'doc:d66', 'any', 'user:u66'), 'the object is a resource again, under another relation');
  index.clear();
  t.notOk(check(e, 'doc:d66', 'any', 'user:u66'), 'cleared');
  add('doc:d66#r2@user:u66');
  t.ok(check(e, 'doc:d66', 'r2', 'user:u66'), 'refilled');
  t.notOk(check(e, 'doc:d66', 'r1', 'user:u66'));
});
