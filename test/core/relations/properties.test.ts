// The engine agrees with the brute-force reference (reference.ts) on generated graphs:
// every check (every object × permission or relation × subject, usersets and wildcards
// included), every lookupResources and every lookupSubjects, paged two at a time; and
// every lookupResources equals the ids the engine's own check allows. The
// graphs come from two schemas that between them use every operator, nested usersets,
// wildcards and arrows, and they freely hold cycles (groups in each other, folders and
// documents that are their own ancestors). Tuples are added, then some removed again,
// so the index's deletes are exercised too. At least 50,000 comparisons, bounded in time.

import fc from 'fast-check';
import t from 'tap';
import { RelationEngine } from '../../../src/core/relations/relation-engine.js';
import { RelationIndex } from '../../../src/core/relations/relation-index.js';
import { compileSchema } from '../../../src/core/relations/schema/compile-schema.js';
import type { CompiledSchema } from '../../../src/core/relations/schema/types.js';
import { parseObject, parseSubject, parseTuple, type Tuple } from '../../../src/core/relations/tuple.js';
import { exampleSchema } from '../../helpers/relations-example.js';
import { ReferenceModel } from './reference.js';

const RICH = `
user: {}
group:
  relations: { member: [user, "group#member"], banned: [user] }
  permissions: { active: "member - banned" }
folder:
  relations: { parent: [folder], viewer: [user, "user:*", "group#member"], blocked: [user, "group#active"] }
  permissions: { view: "(viewer | parent->view) - blocked" }
document:
  relations: { parent: [folder], owner: [user], editor: [user, "group#member"], reader: [user, "user:*", "group#active"], approver: [user, "group#member"] }
  permissions:
    write: owner | editor
    read: write | reader | parent->view
    publish: write & approver
    audit: owner & (approver | parent->view) - reader
    review: (approver & editor) | approver | (parent->view - reader) | (reader & parent->view)
`;

// Few objects, so random graphs are dense: cycles and long chains come up often.
const OBJECTS: Record<string, string[]> = { user: ['u0', 'u1', 'u2'], group: ['g0', 'g1', 'g2'], folder: ['f0', 'f1', 'f2'], document: ['d0', 'd1', 'd2'] };

function compiled(text: string): CompiledSchema {
  const r = compileSchema(text, 'yaml');
  if (!r.ok) throw new Error(`schema: ${JSON.stringify(r.errors)}`);
  return r.schema;
}

/** Every tuple the schema allows over OBJECTS. */
function candidateTuples(schema: CompiledSchema): string[] {
  const out: string[] = [];
  for (const [type, t] of schema.types) {
    for (const def of t.defs.values()) {
      if (def.kind !== 'relation') continue;
      for (const id of OBJECTS[type] ?? []) {
        for (const a of def.allowed) {
          if (a.kind === 'wildcard') out.push(`${type}:${id}#${def.name}@${a.type}:*`);
          else for (const sid of OBJECTS[a.type] ?? []) out.push(`${type}:${id}#${def.name}@${a.type}:${sid}${a.kind === 'userset' ? `#${a.relation}` : ''}`);
        }
      }
    }
  }
  return out;
}

/** Subjects to check: known and unknown users, the wildcard, and every userset the schema can name. */
function subjectsOf(schema: CompiledSchema): string[] {
  const out = ['user:u0', 'user:u1', 'user:u2', 'user:nobody', 'user:*'];
  for (const [type, t] of schema.types) {
    if (type === 'user') continue;
    for (const name of t.defs.keys()) for (const id of (OBJECTS[type] ?? []).slice(0, 2)) out.push(`${type}:${id}#${name}`);
  }
  return out;
}

function pageAll(fetch: (after: string | undefined) => { ids: string[]; next?: string }): string[] {
  const out: string[] = [];
  let after: string | undefined;
  for (let i = 0; i < 100; i++) {
    const p = fetch(after);
    out.push(...p.ids);
    if (p.next === undefined) return out;
    after = p.next;
  }
  throw new Error('paging did not end');
}

let comparisons = 0;

for (const [label, text, runs] of [['py_magister example', exampleSchema, 400], ['every operator', RICH, 250]] as const) {
  t.test(`engine = brute force: ${label}`, async (t) => {
    const schema = compiled(text);
    const candidates = candidateTuples(schema);
    const subjects = subjectsOf(schema);
    const arb = fc.record({
      // Sizes spread evenly from sparse to dense (fast-check alone favours small arrays).
      kept: fc.integer({ min: 1, max: 45 }).chain((n) => fc.uniqueArray(fc.nat({ max: candidates.length - 1 }), { minLength: n, maxLength: n })),
      removed: fc.uniqueArray(fc.nat({ max: candidates.length - 1 }), { maxLength: 8 }),
    });
    fc.assert(fc.property(arb, ({ kept, removed }) => {
      const keptSet = new Set(kept);
      const gone = removed.filter((i) => !keptSet.has(i));
      const tuples: Tuple[] = kept.map((i) => parseTuple(candidates[i]!));
      const index = new RelationIndex();
      for (const i of [...kept, ...gone]) index.add(parseTuple(candidates[i]!));
      for (const i of gone) index.remove(parseTuple(candidates[i]!));
      const engine = new RelationEngine(index, schema, { maxDepth: 10_000, maxSteps: 10_000_000, deadlineMs: 60_000 });
      const ref = new ReferenceModel(schema, tuples);
      for (const [type, ct] of schema.types) {
        const ids = [...(OBJECTS[type] ?? []), 'zz'];
        for (const name of ct.defs.keys()) {
          for (const subject of subjects) {
            const allowed: string[] = [];
            for (const id of ids) {
              const got = engine.check(parseObject(`${type}:${id}`), name, parseSubject(subject)).allowed;
              comparisons++;
              if (got !== ref.has(type, id, name, subject)) throw new Error(`check ${type}:${id}#${name}@${subject}: engine ${got}\n${tuples.map((x) => `${x.resource.type}:${x.resource.id}#${x.relation}@${x.subject.type}:${x.subject.id}${x.subject.relation ? `#${x.subject.relation}` : ''}`).join('\n')}`);
              if (got) allowed.push(id);
            }
            const resources = pageAll((after) => engine.lookupResources(type, name, parseSubject(subject), 2, after));
            comparisons++;
            const want = ref.lookupResources(type, name, subject);
            if (JSON.stringify(resources) !== JSON.stringify(want)) throw new Error(`lookupResources ${type} ${name} ${subject}: ${resources} ≠ ${want}`);
            // And against the engine's own checks: lookup-resources skips the check for
            // what its walk proved (lookup.ts); it must list exactly what check allows.
            comparisons++;
            if (JSON.stringify(resources) !== JSON.stringify(allowed.sort())) throw new Error(`lookupResources ${type} ${name} ${subject}: ${resources} ≠ the ids check allows: ${allowed}`);
          }
          for (const id of ids) {
            for (const subjectType of ['user', 'group']) {
              const got = pageAll((after) => engine.lookupSubjects(parseObject(`${type}:${id}`), name, subjectType, 2, after));
              comparisons++;
              const want = ref.lookupSubjects(type, id, name, subjectType);
              if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`lookupSubjects ${type}:${id} ${name} ${subjectType}: ${got} ≠ ${want}`);
            }
          }
        }
      }
      return true;
    }), { numRuns: runs });
    t.pass(`${runs} generated graphs agree`);
  });
}

t.test('at least 50,000 comparisons', async (t) => {
  // How long they take is a benchmark's business (bench/relations.ts), not a test's.
  t.ok(comparisons >= 50_000, `${comparisons} comparisons`);
});
