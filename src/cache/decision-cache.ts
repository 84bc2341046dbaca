// In-process decision cache (SPEC §4). Keys are injective: `%` and `-` are escaped
// inside each part, so no two (subject, target, identity) triples share an entry.
// Entries remember the namespaces they were computed from, so a policy change drops
// exactly the entries it can affect.

import { flat } from '../core/flat-string.js';
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { Doorkeeper } from './doorkeeper.js';
import type { Decision, Subject } from '../core/evaluate/types.js';
import type { ChangedNamespaces } from '../store/store.js';
import type { ConditionReads } from '../core/condition/dependencies.js';

/** A stored decision; never changed once stored (what a caller remembers about it, it keeps itself). */
export interface CachedDecision {
  readonly decision: Decision;
  /** namespaces (or, for `policy` mode, the namespace of the document) it was computed from */
  readonly namespaces: readonly string[];
  readonly revision: string;
}

export interface DecisionCacheOptions {
  /** most entries held */
  max: number;
  /** most bytes held, by `entryBytes` (absent: bounded by count only) */
  maxBytes?: number;
  /** optional age bound in ms (0 = none; invalidation keeps entries correct) */
  ttlMs: number;
  /** the clock TTLs are measured on, in ms (default: performance.now); tests pass their own */
  now?: () => number;
  /**
   * When `set` stores an entry: `first` (the default here) every time; `second` only when
   * its key was offered before within the last `max` keys (a Doorkeeper): a stream of keys
   * asked once costs no entries, no evictions, and does not push out the keys asked again.
   */
  admission?: 'first' | 'second';
}

/** Escape the separator and the escape character so parts cannot run into each other. */
export function escapeKeyPart(part: string): string {
  // Most ids and paths hold neither character: skip the two scans of a replace.
  if (part.indexOf('%') < 0 && part.indexOf('-') < 0) return part;
  return part.replace(/%/g, '%25').replace(/-/g, '%2D');
}

/** Objects that are neither plain nor known get a token of their own: never a shared entry. */
let uniqueToken = 0;

/**
 * An injective text for an input value, as conditions see it: JSON where JSON is exact,
 * and bare tokens where JSON loses something — `NaN`, `Infinity`, `-Infinity`, `-0`,
 * `undefined`, `12n` (bigint), `D<ms>` (a Date, as registry-typed datetimes are).
 * Object keys keep their order: comprehensions over a map (`m.map(k, k)[0]`) see it.
 */
export function encodeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (Number.isFinite(value)) return value === 0 && 1 / value < 0 ? '-0' : String(value);
      return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + encodeValue(value[i]);
        return `${out}]`;
      }
      if (isPlainObject(value)) {
        let out = '{';
        let first = true;
        for (const k of Object.keys(value)) {
          out += `${first ? '' : ','}${JSON.stringify(k)}:${encodeValue(value[k])}`;
          first = false;
        }
        return `${out}}`;
      }
      if (value instanceof Date) return `D${value.getTime()}`;
      return `U${++uniqueToken}`;
    }
    default:
      return `U${++uniqueToken}`;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The value at `segments` under `root`, encoded: `~` when a key is missing; `!` and the
 * whole value when a step meets something that is not a plain object (a list, a string,
 * null…), so every value a condition could tell apart has its own text.
 */
function encodeAt(root: unknown, segments: readonly string[]): string {
  let cur = root;
  for (let i = 1; i < segments.length; i++) {
    if (!isPlainObject(cur)) return `!${encodeValue(cur)}`;
    if (!Object.hasOwn(cur, segments[i]!)) return '~';
    cur = cur[segments[i]!];
  }
  return encodeValue(cur);
}

export interface IdentityInputs {
  subject: Subject;
  resource?: unknown;
  context?: unknown;
}

/** The read paths in a fixed order, computed once per reads object (paths are only ever added). */
const sortedPaths = new WeakMap<ConditionReads, { size: number; list: Array<[string, readonly string[]]> }>();

function pathsInOrder(reads: ConditionReads): Array<[string, readonly string[]]> {
  const known = sortedPaths.get(reads);
  if (known && known.size === reads.paths.size) return known.list;
  const list = [...reads.paths].filter(([, segments]) => segments[0] !== 'ns').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  sortedPaths.set(reads, { size: reads.paths.size, list });
  return list;
}

/** A list of strings as JSON, in sort order (most callers send them sorted already: no copy then). */
function sortedJson(list: readonly string[]): string {
  if (list.length === 0) return '[]';
  for (let i = 1; i < list.length; i++) {
    if (list[i - 1]! > list[i]!) return JSON.stringify([...list].sort());
  }
  return JSON.stringify(list);
}

/**
 * A stable, injective digest of everything beyond the subject id that the result can
 * depend on: roles and groups (order does not matter), and, when the path's conditions
 * read them, exactly the attributes, context keys and resource fields they read (by
 * path segments, each value encoded by `encodeValue`, a missing key distinct from null),
 * the time bucket of `now`, and the revision of the relationship check (supplied by the
 * caller) when they call related(). Undefined when there is nothing.
 */
export function identityDigest(inputs: IdentityInputs, reads: ConditionReads | undefined, timeBucket: number, relationsRevision = ''): string | undefined {
  const { subject } = inputs;
  const hasReads = reads !== undefined && (reads.paths.size > 0 || reads.now || reads.relations);
  if (subject.roles.length === 0 && subject.groups.length === 0 && !hasReads) return undefined;
  // Roles and groups are lists of strings: plain JSON is exact.
  let text = `[${sortedJson(subject.roles)},${sortedJson(subject.groups)}`;
  if (hasReads) {
    let subjectRoot: unknown;
    for (const [key, segments] of pathsInOrder(reads)) {
      const root = segments[0];
      let value: unknown;
      // `ns` is fixed by the path, already in the key (left out by pathsInOrder).
      if (root === 'subject') value = subjectRoot ??= { id: subject.id, roles: subject.roles, groups: subject.groups, attributes: subject.attributes };
      else if (root === 'context') value = inputs.context ?? {};
      else if (root === 'resource') value = inputs.resource ?? {};
      else value = undefined; // not an input: nothing to read (encoded all the same)
      text += `,${key},${encodeAt(value, segments)}`;
    }
    if (reads.now) text += `,"now",${timeBucket}`;
    // related() answers from the relationship graph: a new revision is a new entry.
    if (reads.relations) text += `,"relations",${JSON.stringify(relationsRevision)}`;
  }
  text += ']';
  // Short identities join the key as they are (cheaper than hashing, still injective: the
  // subject and target parts before them are escaped, and the text starts with `[`, which
  // base64url never holds).
  return text.length <= MAX_INLINE_IDENTITY ? text : createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

const MAX_INLINE_IDENTITY = 160;

/**
 * The identity with the directory revision of the entities merged into the request
 * (SPEC §12): a write to the subject's or the resource's entity is a new entry. Still
 * injective: an identity is `[…]` or base64url, neither holding `~`, so `~e<revision>`
 * can only be this suffix.
 */
export function entityDigest(digest: string | undefined, entityRevision: string | undefined): string | undefined {
  if (entityRevision === undefined) return digest;
  return `${digest ?? ''}~e${entityRevision}`;
}

/** The (escaped) subject part of a key made by `decisionKey`. */
function subjectPartOf(key: string): string {
  const first = key.indexOf('-');
  const second = key.indexOf('-', first + 1);
  return key.slice(first + 1, second < 0 ? undefined : second);
}

/**
 * Targets (paths, document keys) escaped, as asked before: a deployment asks a few paths
 * over and over, and a path holding a UUID would otherwise be scanned and copied twice a
 * request. Bounded: emptied when full.
 */
const escapedTargets = new Map<string, string>();
const ESCAPED_TARGETS_MAX = 1024;

function escapeTarget(target: string): string {
  let escaped = escapedTargets.get(target);
  if (escaped === undefined) {
    escaped = escapeKeyPart(target);
    if (escapedTargets.size >= ESCAPED_TARGETS_MAX) escapedTargets.clear();
    escapedTargets.set(target, escaped);
  }
  return escaped;
}

/** `perm-<subject>-<namespace path>[-<digest>]`; `pol-…` for a single stored document. */
export function decisionKey(kind: 'perm' | 'pol', subjectId: string, target: string, digest: string | undefined): string {
  const base = `${kind}-${escapeKeyPart(subjectId)}-${escapeTarget(target)}`;
  return digest === undefined ? base : `${base}-${digest}`;
}

/** Per entry beyond its strings: the LRU's slots, the entry, decision and list objects. */
const ENTRY_OVERHEAD = 320;
/** A reference to something the entry shares (a compiled rule, a document key, a namespace). */
const POINTER = 8;

/**
 * What one entry costs, in bytes, by estimate: its key and the strings only it holds
 * (one byte a character: V8 keeps ASCII strings as one-byte strings), the references to
 * what it shares with the compiled documents, and its serialized answer. The answer is
 * built on its first hit, after the entry is stored, so until then an estimate of it
 * (the two lists as JSON) is counted in its place.
 */
export function entryBytes(key: string, value: CachedDecision): number {
  const d = value.decision;
  let lists = 0;
  for (const p of d.permissions) lists += p.length + 3 + POINTER;
  for (const p of d.denied) lists += p.length + 3 + POINTER;
  let bytes = ENTRY_OVERHEAD + key.length + value.revision.length + lists;
  bytes += (d.policies.length + d.applied.length + value.namespaces.length) * POINTER;
  if (d.conditionErrors) for (const e of d.conditionErrors) bytes += 64 + JSON.stringify(e).length;
  if (d.facts) bytes += 64 + JSON.stringify(d.facts).length;
  bytes += 64 + lists; // the serialized answer the service keeps beside the entry, estimated
  return bytes;
}

/** The keys of the entries computed from one namespace list (`id`: the list joined by NUL, which no namespace name holds: core/namespace.ts). */
interface KeyGroup {
  readonly id: string;
  readonly namespaces: readonly string[];
  readonly keys: Set<string>;
}

export class DecisionCache {
  private readonly lru: LRUCache<string, CachedDecision>;
  /**
   * The entries' keys grouped by the namespace list they were computed from (one group
   * per path: most lists are a path's, shared by all its entries), and namespace → the
   * groups holding it, so invalidation costs the entries it drops, not a walk of the
   * whole cache, and an entry costs one set insertion, not one per namespace. Kept by
   * `set` and lru-cache's dispose (eviction, expiry, delete, replacement).
   */
  private readonly groups = new Map<string, KeyGroup>();
  /** a frozen list's group, found without joining the list */
  private readonly groupOfList = new WeakMap<readonly string[], KeyGroup>();
  private readonly byNamespace = new Map<string, Set<KeyGroup>>();
  hits = 0;
  misses = 0;

  /** CACHE_MAX=0 turns caching off: nothing is stored, every lookup misses */
  private readonly enabled: boolean;
  /** admission at a key's second offer (`admission: 'second'`) */
  private readonly doorkeeper: Doorkeeper | undefined;

  constructor(options: DecisionCacheOptions) {
    this.enabled = options.max > 0;
    this.doorkeeper = this.enabled && options.admission === 'second' ? new Doorkeeper(options.max) : undefined;
    this.lru = new LRUCache<string, CachedDecision>({
      max: Math.max(1, options.max),
      // `set` passes each entry's size itself and refuses one larger than the whole budget;
      // the calculation stays for lru-cache's own checks.
      ...(options.maxBytes !== undefined ? { maxSize: Math.max(1, options.maxBytes), sizeCalculation: (value: CachedDecision, key: string) => Math.max(1, entryBytes(key, value)) } : {}),
      ...(options.ttlMs > 0 ? { ttl: options.ttlMs, ttlAutopurge: false } : {}),
      // An injected clock is read on every lookup (lru-cache would otherwise cache the time for 1 ms).
      ...(options.now !== undefined ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
      dispose: (value, key) => this.unindex(key, value.namespaces),
    });
  }

  get(key: string): CachedDecision | undefined {
    const v = this.enabled ? this.lru.get(key) : undefined;
    if (v) this.hits++;
    else this.misses++;
    return v;
  }

  /**
   * `ttlMs` bounds one entry's life (a result that depends on the time of day). Not stored
   * when the cache is off, when the entry is larger than the whole byte budget, or, with
   * `admission: 'second'`, the first time its key is offered.
   */
  set(key: string, value: CachedDecision, ttlMs?: number): void {
    if (!this.enabled) return;
    if (this.doorkeeper !== undefined && !this.doorkeeper.seenBefore(key)) return;
    // The key is kept (the LRU, its namespace group) as long as the entry: flat, not the tree of parts it was built from.
    flat(key);
    const options: { ttl?: number; size?: number } = {};
    if (ttlMs !== undefined) options.ttl = Math.max(1, ttlMs);
    // lru-cache's maxSize: 0 without a byte budget.
    const maxSize = this.lru.maxSize;
    if (maxSize > 0) {
      const size = Math.max(1, entryBytes(key, value));
      // Larger than the whole budget: not stored, and an older entry of the key not kept
      // either (what lru-cache does with an entry it refuses); nothing to index.
      if (size > maxSize) {
        this.lru.delete(key);
        return;
      }
      options.size = size;
    }
    this.lru.set(key, value, options);
    const group = this.groupOf(value.namespaces, true)!;
    if (group.keys.size === 0) {
      // A group is listed while it holds keys.
      this.groups.set(group.id, group);
      for (const ns of group.namespaces) {
        let held = this.byNamespace.get(ns);
        if (held === undefined) this.byNamespace.set(ns, (held = new Set()));
        held.add(group);
      }
    }
    group.keys.add(key);
  }

  /** The group of a namespace list (made when `make`; listed by `set` once it holds a key). */
  private groupOf(namespaces: readonly string[], make: boolean): KeyGroup | undefined {
    const known = this.groupOfList.get(namespaces);
    // Unless it was dropped (emptied) and another group of the same list is listed now.
    if (known !== undefined && (known.keys.size > 0 || !this.groups.has(known.id))) return known;
    const id = known?.id ?? namespaces.join('\u0000');
    let group = this.groups.get(id) ?? known;
    if (group === undefined) {
      if (!make) return undefined;
      group = { id, namespaces: [...namespaces], keys: new Set() };
    }
    // Only a list that never changes may stand for its group.
    if (Object.isFrozen(namespaces)) this.groupOfList.set(namespaces, group);
    return group;
  }

  private unindex(key: string, namespaces: readonly string[]): void {
    const group = this.groupOf(namespaces, false);
    if (group === undefined || !group.keys.delete(key) || group.keys.size > 0) return;
    this.groups.delete(group.id);
    for (const ns of group.namespaces) {
      const held = this.byNamespace.get(ns);
      if (held === undefined) continue;
      held.delete(group);
      if (held.size === 0) this.byNamespace.delete(ns);
    }
  }

  get size(): number {
    return this.lru.size;
  }

  /** bytes held, by `entryBytes` (0 without a byte bound) */
  get bytes(): number {
    return this.lru.calculatedSize ?? 0;
  }

  clear(): void {
    this.lru.clear();
  }

  /**
   * Drop every entry of these subjects (a directory change: their keys carry the entity's
   * revision, so those entries can no longer be hit; this frees them at once).
   */
  invalidateSubjects(subjects: ReadonlySet<string>): void {
    if (subjects.size === 0 || this.lru.size === 0) return;
    const escaped = new Set([...subjects].map(escapeKeyPart));
    const doomed: string[] = [];
    for (const key of this.lru.keys()) if (escaped.has(subjectPartOf(key))) doomed.push(key);
    for (const key of doomed) this.lru.delete(key);
  }

  /** Drop every entry computed from a changed namespace. */
  invalidate(changed: ChangedNamespaces): void {
    if (changed === 'all') {
      this.lru.clear();
      return;
    }
    const doomed: string[] = [];
    for (const ns of changed) {
      const held = this.byNamespace.get(ns);
      if (held !== undefined) for (const group of held) for (const key of group.keys) doomed.push(key);
    }
    // Deleting disposes, which edits the sets: collected first.
    for (const key of doomed) this.lru.delete(key);
  }
}
