// Every tuple in memory, indexed three ways so no question scans: forward
// (resource#relation → its subjects, usersets apart), reverse by exact subject (what
// names `user:alice`, or `group:eng#member`), and reverse by subject object and relation
// (what names `document:root` as its `parent`, for arrows walked backwards). Plus the
// known objects of each type, for lookups over wildcards. Strings are interned: one
// object per subject and per resource#relation, shared by every tuple naming it.
//
// For the check walk, the interned entries carry what it reads on every step: an object's
// entry its relations as a resource (`node`), a subject's entry the numeric keys of the
// sets naming it (`memberOf`: resource id and relation number, see setKey), so "is
// user:alice a reader of document:x" is one lookup in alice's own small set, and a
// resource with no userset tuple (`node.usersets`) is decided without reading its sets.

import { WILDCARD, formatSubject, type Tuple } from './tuple.js';
import type { CompiledSchema } from './schema/types.js';

export interface ObjectEntry {
  readonly type: string;
  readonly id: string;
  /** `type:id` */
  readonly key: string;
  /**
   * Its relations as a resource, kept by the index on its interned entry (so a walk never
   * looks the key up); undefined when no tuple has it as the resource, or on a fresh entry.
   */
  node: ResourceNode | undefined;
}

export interface SubjectEntry extends ObjectEntry {
  readonly relation: string | undefined;
  /** `type:id`, `type:id#relation` or `type:*` */
  readonly subjectKey: string;
  /** the subject's object (`group:eng` for `group:eng#member`) */
  readonly object: ObjectEntry;
  /**
   * The sets naming exactly this subject, by `setKey` (interned entries only; undefined
   * for a subject no tuple names): a check asks the subject, not each set.
   */
  readonly memberOf: Set<number> | undefined;
}

/** How many relation names the index can number. */
const RELATION_SPAN = 2 ** 21;
/** The first relation names numbered fit a small key (a small integer in V8 for 16M resources). */
const SMALL_SPAN = 64;

/**
 * The numeric key of resource#relation, from a ResourceNode's id and the index's number
 * for the relation name: `id × 64 + relation` for the first 64 names, negative beyond.
 */
export function setKey(resourceId: number, relationId: number): number {
  return relationId < SMALL_SPAN ? resourceId * SMALL_SPAN + relationId : -(resourceId * RELATION_SPAN + relationId) - 1;
}

/** The relations of one object as a resource; `id` is unique in the index (never reused). */
export interface ResourceNode {
  readonly id: number;
  readonly sets: Map<string, RelationSet>;
  /** how many of its tuples name a userset: none, and a relation is decided by the subject's memberOf */
  usersets: number;
}

/** The subjects of one resource#relation. */
export class RelationSet {
  readonly subjects = new Map<string, SubjectEntry>();
  /** the subjects with a relation, kept apart: a check walks only these beyond one lookup */
  readonly usersets = new Map<string, SubjectEntry>();
  constructor(readonly resource: ObjectEntry, readonly relation: string, readonly key: string) {}
}

export class RelationIndex {
  /** object key → its relations → set: no key is built per question */
  private readonly forwardSets = new Map<string, ResourceNode>();
  private nextResourceId = 0;
  private readonly bySubject = new Map<string, Set<RelationSet>>();
  /** subject object key → relation → sets naming that object, with how many of their subjects do */
  private readonly byObject = new Map<string, Map<string, Map<RelationSet, number>>>();
  private readonly objects = new Map<string, { entry: ObjectEntry; refs: number }>();
  private readonly subjects = new Map<string, { entry: SubjectEntry; refs: number }>();
  private readonly idsByType = new Map<string, Set<string>>();
  private sortedIds = new Map<string, string[]>();
  /** relation name → its number (never reused, kept by clear()) */
  private readonly relationIds = new Map<string, number>();
  /** type → its interned `type:*` subject, while a tuple names it */
  private readonly wildcards = new Map<string, SubjectEntry>();
  private relationIdCache: { schema: CompiledSchema; ids: Int32Array } | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /**
   * By definition ordinal of `schema`, the number of each relation's name, for a check to
   * fill in (-1: not looked up yet, or no tuple used it yet); one array per schema.
   */
  relationIdsFor(schema: CompiledSchema): Int32Array {
    if (this.relationIdCache?.schema !== schema) this.relationIdCache = { schema, ids: new Int32Array(schema.definitionCount).fill(-1) };
    return this.relationIdCache.ids;
  }

  /** The number of a relation name, -1 when no tuple ever used it. */
  relationId(name: string): number {
    return this.relationIds.get(name) ?? -1;
  }

  forward(objectKey: string, relation: string): RelationSet | undefined {
    return this.forwardSets.get(objectKey)?.sets.get(relation);
  }

  /** The object's relations; undefined when no tuple has it as the resource (then nothing holds on it). */
  resource(objectKey: string): ResourceNode | undefined {
    return this.forwardSets.get(objectKey);
  }

  /** The `type:*` subject, when some tuple names it. */
  wildcard(type: string): SubjectEntry | undefined {
    return this.wildcards.get(type);
  }

  /** The sets whose subjects include exactly this subject key. */
  naming(subjectKey: string): ReadonlySet<RelationSet> | undefined {
    return this.bySubject.get(subjectKey);
  }

  /** The sets of `relation` naming this object as a subject (any subject relation). */
  namingObject(objectKey: string, relation: string): Iterable<RelationSet> | undefined {
    return this.byObject.get(objectKey)?.get(relation)?.keys();
  }

  /** Every known id of a type (as resource or subject), sorted; wildcards left out. */
  idsOf(type: string): readonly string[] {
    let ids = this.sortedIds.get(type);
    if (!ids) {
      ids = [...(this.idsByType.get(type) ?? [])].sort();
      this.sortedIds.set(type, ids);
    }
    return ids;
  }

  object(type: string, id: string): ObjectEntry {
    const key = `${type}:${id}`;
    return this.objects.get(key)?.entry ?? { type, id, key, node: undefined };
  }

  /** The interned subject entry, or a fresh one for a subject no tuple names. */
  subject(type: string, id: string, relation: string | undefined): SubjectEntry {
    const subjectKey = relation === undefined ? `${type}:${id}` : `${type}:${id}#${relation}`;
    return this.subjects.get(subjectKey)?.entry ?? { type, id, key: `${type}:${id}`, relation, subjectKey, object: this.object(type, id), node: undefined, memberOf: undefined };
  }

  /** Every tuple, rebuilt from the index (for whole-state checks such as a schema change). */
  *tuples(): Generator<Tuple> {
    for (const node of this.forwardSets.values()) {
      for (const set of node.sets.values()) {
        for (const s of set.subjects.values()) {
          const subject = s.relation === undefined ? { type: s.type, id: s.id } : { type: s.type, id: s.id, relation: s.relation };
          yield { resource: { type: set.resource.type, id: set.resource.id }, relation: set.relation, subject };
        }
      }
    }
  }

  /** Add a tuple; false when it was there already. */
  add(t: Tuple): boolean {
    const resource = this.refObject(t.resource.type, t.resource.id);
    let ofResource = this.forwardSets.get(resource.key);
    if (!ofResource) {
      this.forwardSets.set(resource.key, (ofResource = { id: this.nextResourceId++, sets: new Map(), usersets: 0 }));
      resource.node = ofResource;
    }
    let set = ofResource.sets.get(t.relation);
    if (!set) {
      set = new RelationSet(resource, t.relation, `${resource.key}#${t.relation}`);
      ofResource.sets.set(t.relation, set);
    } else {
      const known = set.subjects.has(formatSubject(t.subject));
      if (known) {
        this.unrefObject(resource.key);
        return false;
      }
    }
    const subject = this.refSubject(t.subject.type, t.subject.id, t.subject.relation);
    set.subjects.set(subject.subjectKey, subject);
    if (subject.relation !== undefined) {
      set.usersets.set(subject.subjectKey, subject);
      ofResource.usersets++;
    }
    let relationId = this.relationIds.get(t.relation);
    if (relationId === undefined) {
      relationId = this.relationIds.size;
      if (relationId >= RELATION_SPAN) throw new Error(`more than ${RELATION_SPAN} relation names`);
      this.relationIds.set(t.relation, relationId);
    }
    subject.memberOf!.add(setKey(ofResource.id, relationId));
    addTo(this.bySubject, subject.subjectKey, set);
    let rels = this.byObject.get(subject.object.key);
    if (!rels) this.byObject.set(subject.object.key, (rels = new Map()));
    let sets = rels.get(t.relation);
    if (!sets) rels.set(t.relation, (sets = new Map()));
    sets.set(set, (sets.get(set) ?? 0) + 1);
    this.count++;
    return true;
  }

  /** Remove a tuple; false when it was not there. */
  remove(t: Tuple): boolean {
    const objectKey = `${t.resource.type}:${t.resource.id}`;
    const ofResource = this.forwardSets.get(objectKey);
    const set = ofResource?.sets.get(t.relation);
    const subjectKey = formatSubject(t.subject);
    const subject = set?.subjects.get(subjectKey);
    if (!set || !subject) return false;
    set.subjects.delete(subjectKey);
    if (set.usersets.delete(subjectKey)) ofResource!.usersets--;
    subject.memberOf!.delete(setKey(ofResource!.id, this.relationIds.get(t.relation)!));
    if (set.subjects.size === 0) {
      ofResource!.sets.delete(t.relation);
      if (ofResource!.sets.size === 0) {
        this.forwardSets.delete(objectKey);
        set.resource.node = undefined;
      }
    }
    removeFrom(this.bySubject, subjectKey, set);
    const rels = this.byObject.get(subject.object.key);
    const sets = rels?.get(t.relation);
    const n = sets?.get(set);
    if (rels && sets && n !== undefined) {
      // The set may still name the same object through another subject relation.
      if (n > 1) sets.set(set, n - 1);
      else sets.delete(set);
      if (sets.size === 0) rels.delete(t.relation);
      if (rels.size === 0) this.byObject.delete(subject.object.key);
    }
    this.unrefSubject(subjectKey);
    this.unrefObject(set.resource.key);
    this.count--;
    return true;
  }

  clear(): void {
    // An entry someone still holds must not lead to the old relations.
    for (const { entry } of this.objects.values()) entry.node = undefined;
    this.forwardSets.clear();
    this.bySubject.clear();
    this.byObject.clear();
    this.objects.clear();
    this.subjects.clear();
    this.wildcards.clear();
    this.idsByType.clear();
    this.sortedIds = new Map();
    this.count = 0;
  }

  private refObject(type: string, id: string): ObjectEntry {
    const key = `${type}:${id}`;
    const known = this.objects.get(key);
    if (known) {
      known.refs++;
      return known.entry;
    }
    const entry: ObjectEntry = { type, id, key, node: undefined };
    this.objects.set(key, { entry, refs: 1 });
    if (id !== WILDCARD) {
      addTo(this.idsByType, type, id);
      this.sortedIds.delete(type);
    }
    return entry;
  }

  private unrefObject(key: string): void {
    const known = this.objects.get(key);
    if (!known || --known.refs > 0) return;
    this.objects.delete(key);
    removeFrom(this.idsByType, known.entry.type, known.entry.id);
    this.sortedIds.delete(known.entry.type);
  }

  private refSubject(type: string, id: string, relation: string | undefined): SubjectEntry {
    const subjectKey = relation === undefined ? `${type}:${id}` : `${type}:${id}#${relation}`;
    const known = this.subjects.get(subjectKey);
    if (known) {
      known.refs++;
      return known.entry;
    }
    const entry: SubjectEntry = { type, id, key: `${type}:${id}`, relation, subjectKey, object: this.refObject(type, id), node: undefined, memberOf: new Set() };
    this.subjects.set(subjectKey, { entry, refs: 1 });
    if (id === WILDCARD && relation === undefined) this.wildcards.set(type, entry);
    return entry;
  }

  private unrefSubject(subjectKey: string): void {
    const known = this.subjects.get(subjectKey);
    if (!known || --known.refs > 0) return;
    this.subjects.delete(subjectKey);
    if (known.entry.id === WILDCARD && known.entry.relation === undefined) this.wildcards.delete(known.entry.type);
    this.unrefObject(known.entry.object.key);
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
