// Lookups: candidates first, then each candidate confirmed by a check unless the walk
// that found it already proved it.
//
// lookupResources walks *backwards* from the subject: the sets naming it (or its type's
// wildcard), then, through the schema's positive dependents, every object#name that
// could include it — a userset naming the node, a permission of the same object naming
// it, an arrow whose relation points at the object. Every object that truly has the
// permission is reached this way (a proof uses only positive positions), so the
// candidates are complete.
//
// Which candidates need a check. Each dependent edge is `sure` when its position in the
// permission lies under unions only (schema/recursion.ts): then the dependency holding
// makes the dependent hold — `a | b` holds when `a` does, `via->p` holds on X when some
// X#via tuple names an object where `p` holds (the tuple the walk followed), a relation
// holds when it names a userset that holds (the tuple followed), and a set naming the
// subject or its wildcard holds outright (the walk's start). A node reached from the
// start through sure edges only is thus the end of a finite derivation from tuples,
// which is in the least fixpoint the check computes (check.ts): the check would say
// allowed, so asking it is skipped. An edge through an operand of `&` or the base of `-`
// is not sure (the other operand may fail, the subtrahend may hold): what is reached
// only through one is a candidate and is confirmed by a check, sharing one memo. So the
// answer is exactly { candidates the check allows }, with no check for the common case
// of permissions built from unions and arrows. One more case goes to the check: a sure
// proof longer than the depth limit, so a lookup still meets the limit where a check of
// that resource would (test/core/relations/engine.test.ts, "bounds").
//
// lookupSubjects walks *forwards* from the resource, collecting subjects of the type (a
// wildcard makes every known id a candidate), and confirms each. Both page by id; the
// page stops once it has one result more than asked, so the cursor is null exactly on
// the last page.

import { definitionOf, type CompiledSchema, type Definition, type PermissionDef, type Rewrite } from './schema/types.js';
import { WILDCARD } from './tuple.js';
import { CheckRun, type Budget } from './check.js';
import type { ObjectEntry, RelationIndex, SubjectEntry } from './relation-index.js';

export interface LookupPage {
  ids: string[];
  /** the last id of this page when more may follow */
  next?: string;
}

/** Confirm sorted candidates after `after` until `limit` + 1 hold. */
function confirmPage(candidates: readonly string[], after: string | undefined, limit: number, holds: (id: string) => boolean): LookupPage {
  let i = 0;
  if (after !== undefined) {
    let hi = candidates.length;
    while (i < hi) {
      const mid = (i + hi) >> 1;
      if (candidates[mid]! <= after) i = mid + 1;
      else hi = mid;
    }
  }
  const ids: string[] = [];
  for (; i < candidates.length; i++) {
    const id = candidates[i]!;
    if (!holds(id)) continue;
    if (ids.length === limit) return { ids, next: ids[ids.length - 1]! };
    ids.push(id);
  }
  return { ids };
}

/** A breadth of object#name nodes to visit, each once, every visit paid from the budget. */
function walk(budget: Budget): { queue: Array<{ object: ObjectEntry; def: Definition }>; reach: (object: ObjectEntry, def: Definition | undefined) => void } {
  const seen = new Set<string>();
  const queue: Array<{ object: ObjectEntry; def: Definition }> = [];
  const reach = (object: ObjectEntry, def: Definition | undefined): void => {
    if (!def) return;
    const node = `${object.key}#${def.name}`;
    if (seen.has(node)) return;
    budget.spend();
    seen.add(node);
    queue.push({ object, def });
  };
  return { queue, reach };
}

/** A node the backward walk reached; `sure` when a proof of it was found on the way. */
interface Reached {
  readonly object: ObjectEntry;
  readonly def: Definition;
  sure: boolean;
  /** nodes from the subject's set to here (on a sure path: the shortest such path) */
  depth: number;
}

export function lookupResources(
  schema: CompiledSchema, index: RelationIndex, budget: Budget,
  target: Definition, subject: SubjectEntry, limit: number, after: string | undefined,
): LookupPage {
  // By node id (resource id × definitionCount + ordinal: every node reached is the
  // resource of a set, so it has one).
  const reached = new Map<number, Reached>();
  // Sure nodes first, breadth first, so each sure node's depth is its shortest sure path;
  // then the rest. A node first reached as a candidate and later on a sure path is made
  // sure before any candidate is expanded, so nothing needs walking twice.
  const sureQueue: Reached[] = [];
  const maybeQueue: Reached[] = [];
  const reach = (object: ObjectEntry, def: Definition | undefined, depth: number, sure: boolean): void => {
    if (!def) return;
    const resource = index.resource(object.key);
    if (!resource) return;
    const id = resource.id * schema.definitionCount + def.ordinal;
    const known = reached.get(id);
    if (known) {
      if (sure && !known.sure) {
        budget.spend();
        known.sure = true;
        known.depth = depth;
        sureQueue.push(known);
      }
      return;
    }
    budget.spend();
    const r: Reached = { object, def, sure, depth };
    reached.set(id, r);
    (sure ? sureQueue : maybeQueue).push(r);
  };
  const expand = (r: Reached): void => {
    const { object, def } = r;
    const depth = r.depth + 1;
    for (const dep of schema.dependents.get(def.key) ?? []) {
      const sure = r.sure && dep.sure;
      if (dep.kind === 'ref') reach(object, dep.def, depth, sure);
      else if (dep.kind === 'arrow') {
        for (const set of index.namingObject(object.key, dep.via) ?? []) if (set.resource.type === dep.def.type) reach(set.resource, dep.def, depth, sure);
      } else {
        for (const set of index.naming(`${object.key}#${def.name}`) ?? []) {
          if (set.relation === dep.def.name && set.resource.type === dep.def.type) reach(set.resource, dep.def, depth, sure);
        }
      }
    }
  };
  // The sets naming the subject (or, for a plain subject, its type's wildcard): each holds.
  const starts = [index.naming(subject.subjectKey), subject.relation === undefined && subject.id !== WILDCARD ? index.naming(`${subject.type}:*`) : undefined];
  for (const sets of starts) for (const set of sets ?? []) reach(set.resource, definitionOf(schema, set.resource.type, set.relation), 0, true);
  for (let i = 0; i < sureQueue.length; i++) expand(sureQueue[i]!);
  for (let i = 0; i < maybeQueue.length; i++) if (!maybeQueue[i]!.sure) expand(maybeQueue[i]!);

  // Sure candidates within the depth limit are answers as they stand; the others are
  // confirmed by a check (which also enforces the limits a deeper proof runs into).
  const proved = new Set<string>();
  const candidates: string[] = [];
  for (const r of reached.values()) {
    if (r.def !== target) continue;
    candidates.push(r.object.id);
    if (r.sure && r.depth <= budget.limits.maxDepth) proved.add(r.object.id);
  }
  candidates.sort();
  let run: CheckRun | undefined;
  return confirmPage(candidates, after, limit, (id) => proved.has(id) || (run ??= new CheckRun(schema, index, subject, budget)).has(index.object(target.type, id), target));
}

export function lookupSubjects(
  schema: CompiledSchema, index: RelationIndex, budget: Budget,
  resource: ObjectEntry, target: Definition, subjectType: string, limit: number, after: string | undefined,
): LookupPage {
  const ids = new Set<string>();
  let wildcard = false;
  const { queue, reach } = walk(budget);
  const positive = (object: ObjectEntry, r: Rewrite): void => {
    switch (r.op) {
      case 'ref':
        return reach(object, r.def);
      case 'arrow':
        for (const e of index.forward(object.key, r.via.name)?.subjects.values() ?? []) reach(e.object, r.targets.get(e.type));
        return;
      case 'union':
      case 'intersection':
        for (const a of r.args) positive(object, a);
        return;
      case 'exclusion':
        positive(object, r.base);
    }
  };
  reach(resource, target);
  while (queue.length > 0) {
    const { object, def } = queue.pop()!;
    if (def.kind === 'permission') {
      positive(object, (def as PermissionDef).rewrite);
      continue;
    }
    for (const e of index.forward(object.key, def.name)?.subjects.values() ?? []) {
      budget.spend();
      if (e.relation !== undefined) reach(e.object, definitionOf(schema, e.type, e.relation));
      else if (e.type === subjectType) {
        if (e.id === WILDCARD) wildcard = true;
        else ids.add(e.id);
      }
    }
  }
  // A wildcard makes every known subject of the type a candidate, and `type:*` itself one.
  const candidates = wildcard ? [WILDCARD, ...index.idsOf(subjectType)] : [...ids].sort();
  return confirmPage(candidates, after, limit, (id) => {
    const run = new CheckRun(schema, index, index.subject(subjectType, id, undefined), budget);
    return run.has(resource, target);
  });
}
