// Lookups: candidates first, then each candidate confirmed by a check.
//
// lookupResources walks *backwards* from the subject: the sets naming it (or its type's
// wildcard), then, through the schema's positive dependents, every object#name that
// could include it — a userset naming the node, a permission of the same object naming
// it, an arrow whose relation points at the object. Every object that truly has the
// permission is reached this way (a proof uses only positive positions); intersections
// and exclusions can make a reached one false, so each is confirmed with a check that
// shares one memo (same subject). lookupSubjects walks *forwards* from the resource,
// collecting subjects of the type (a wildcard makes every known id a candidate), and
// confirms each. Both page by id; the page stops once it has one result more than
// asked, so the cursor is null exactly on the last page.

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

export function lookupResources(
  schema: CompiledSchema, index: RelationIndex, budget: Budget,
  target: Definition, subject: SubjectEntry, limit: number, after: string | undefined,
): LookupPage {
  const candidates = new Set<string>();
  const { queue, reach } = walk(budget);
  const starts = [index.naming(subject.subjectKey), subject.relation === undefined && subject.id !== WILDCARD ? index.naming(`${subject.type}:*`) : undefined];
  for (const sets of starts) for (const set of sets ?? []) reach(set.resource, definitionOf(schema, set.resource.type, set.relation));
  while (queue.length > 0) {
    const { object, def } = queue.pop()!;
    if (def === target) candidates.add(object.id);
    for (const dep of schema.dependents.get(def.key) ?? []) {
      if (dep.kind === 'ref') reach(object, dep.def);
      else if (dep.kind === 'arrow') {
        for (const set of index.namingObject(object.key, dep.via) ?? []) if (set.resource.type === dep.def.type) reach(set.resource, dep.def);
      } else {
        for (const set of index.naming(`${object.key}#${def.name}`) ?? []) {
          if (set.relation === dep.def.name && set.resource.type === dep.def.type) reach(set.resource, dep.def);
        }
      }
    }
  }
  const run = new CheckRun(schema, index, subject, budget);
  const sorted = [...candidates].sort();
  return confirmPage(sorted, after, limit, (id) => run.has(index.object(target.type, id), target));
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
