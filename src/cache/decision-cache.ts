// In-process decision cache (SPEC §4). Keys are injective: `%` and `-` are escaped
// inside each part, so no two (subject, target, identity) triples share an entry.
// Entries remember the namespaces they were computed from, so a policy change drops
// exactly the entries it can affect.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
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
  /** optional age bound in ms (0 = none; invalidation keeps entries correct) */
  ttlMs: number;
}

/** Escape the separator and the escape character so parts cannot run into each other. */
export function escapeKeyPart(part: string): string {
  // Most ids and paths hold neither character: skip the two scans of a replace.
  if (part.indexOf('%') < 0 && part.indexOf('-') < 0) return part;
  return part.replace(/%/g, '%25').replace(/-/g, '%2D');
}

/** JSON with sorted object keys, so equal values give equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = (v as Record<string, unknown>)[k];
    return out;
  });
}

function lookup(root: unknown, parts: readonly string[]): unknown {
  let cur = root;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export interface IdentityInputs {
  subject: Subject;
  resource?: unknown;
  context?: unknown;
}

/**
 * A stable digest of everything beyond the subject id that the result can depend on:
 * roles and groups (order does not matter), and, when the path's conditions read them,
 * exactly the attributes, context keys and resource fields they read, and the time
 * bucket of `now`, and the revision of the relationship check (supplied by the caller)
 * when they call related(). Undefined when there is nothing.
 */
export function identityDigest(inputs: IdentityInputs, reads: ConditionReads | undefined, timeBucket: number, relationsRevision = ''): string | undefined {
  const { subject } = inputs;
  const hasReads = reads !== undefined && (reads.paths.size > 0 || reads.now || reads.relations);
  if (subject.roles.length === 0 && subject.groups.length === 0 && !hasReads) return undefined;
  const parts: unknown[] = [[...subject.roles].sort(), [...subject.groups].sort()];
  if (hasReads) {
    const roots = { subject: { id: subject.id, roles: subject.roles, groups: subject.groups, attributes: subject.attributes }, context: inputs.context ?? {}, resource: inputs.resource ?? {} };
    for (const path of [...reads.paths].sort()) {
      const [root, ...rest] = path.split('.');
      if (root === 'ns') continue; // fixed by the path, already in the key
      parts.push(path, lookup((roots as Record<string, unknown>)[root!], rest) ?? null);
    }
    if (reads.now) parts.push('now', timeBucket);
    // related() answers from the relationship graph: a new revision is a new entry.
    if (reads.relations) parts.push('relations', relationsRevision);
  }
  // Roles and groups alone are lists of strings: plain JSON is already canonical.
  const text = hasReads ? canonical(parts) : JSON.stringify(parts);
  // Short identities join the key as they are (cheaper than hashing, still injective: the
  // subject and target parts before them are escaped, and JSON never looks like base64url).
  return text.length <= MAX_INLINE_IDENTITY ? text : createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

const MAX_INLINE_IDENTITY = 160;

/** `perm-<subject>-<namespace path>[-<digest>]`; `pol-…` for a single stored document. */
export function decisionKey(kind: 'perm' | 'pol', subjectId: string, target: string, digest: string | undefined): string {
  const base = `${kind}-${escapeKeyPart(subjectId)}-${escapeKeyPart(target)}`;
  return digest === undefined ? base : `${base}-${digest}`;
}

export class DecisionCache {
  private readonly lru: LRUCache<string, CachedDecision>;
  hits = 0;
  misses = 0;

  /** CACHE_MAX=0 turns caching off: nothing is stored, every lookup misses */
  private readonly enabled: boolean;

  constructor(options: DecisionCacheOptions) {
    this.enabled = options.max > 0;
    this.lru = new LRUCache<string, CachedDecision>({
      max: Math.max(1, options.max),
      ...(options.ttlMs > 0 ? { ttl: options.ttlMs, ttlAutopurge: false } : {}),
    });
  }

  get(key: string): CachedDecision | undefined {
    const v = this.enabled ? this.lru.get(key) : undefined;
    if (v) this.hits++;
    else this.misses++;
    return v;
  }

  /** `ttlMs` bounds one entry's life (a result that depends on the time of day). */
  set(key: string, value: CachedDecision, ttlMs?: number): void {
    if (!this.enabled) return;
    if (ttlMs !== undefined) this.lru.set(key, value, { ttl: Math.max(1, ttlMs) });
    else this.lru.set(key, value);
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }

  /** Drop every entry computed from a changed namespace. */
  invalidate(changed: ChangedNamespaces): void {
    if (changed === 'all') {
      this.lru.clear();
      return;
    }
    const doomed: string[] = [];
    for (const [key, value] of this.lru.entries()) {
      if (value.namespaces.some((ns) => changed.has(ns))) doomed.push(key);
    }
    for (const key of doomed) this.lru.delete(key);
  }
}
