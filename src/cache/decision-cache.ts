// In-process decision cache (SPEC §4). Keys are injective: `%` and `-` are escaped
// inside each part, so no two (subject, target, identity) triples share an entry.
// Entries remember the namespaces they were computed from, so a policy change drops
// exactly the entries it can affect.

import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Decision, Subject } from '../core/evaluate/types.js';
import type { ChangedNamespaces } from '../engine/policy-manager.js';

export interface CachedDecision {
  decision: Decision;
  /** namespaces (or, for `policy` mode, the namespace of the document) it was computed from */
  namespaces: readonly string[];
  revision: string;
  /** the serialized response for this entry (cached: true, not stale), built on first hit */
  body?: string;
}

export interface DecisionCacheOptions {
  /** most entries held */
  max: number;
  /** optional age bound in ms (0 = none; invalidation keeps entries correct) */
  ttlMs: number;
}

/** Escape the separator and the escape character so parts cannot run into each other. */
export function escapeKeyPart(part: string): string {
  return part.replace(/%/g, '%25').replace(/-/g, '%2D');
}

/**
 * A stable digest of the request identity beyond the subject id that the result can
 * depend on (roles and groups; order does not matter). Undefined when there is none.
 */
export function identityDigest(subject: Subject): string | undefined {
  if (subject.roles.length === 0 && subject.groups.length === 0) return undefined;
  const canonical = JSON.stringify([[...subject.roles].sort(), [...subject.groups].sort()]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

/** `perm-<subject>-<namespace path>[-<digest>]`; `pol-…` for a single stored document. */
export function decisionKey(kind: 'perm' | 'pol', subjectId: string, target: string, digest: string | undefined): string {
  const base = `${kind}-${escapeKeyPart(subjectId)}-${escapeKeyPart(target)}`;
  return digest === undefined ? base : `${base}-${digest}`;
}

export class DecisionCache {
  private readonly lru: LRUCache<string, CachedDecision>;
  hits = 0;
  misses = 0;

  constructor(options: DecisionCacheOptions) {
    this.lru = new LRUCache<string, CachedDecision>({
      max: Math.max(1, options.max),
      ...(options.ttlMs > 0 ? { ttl: options.ttlMs, ttlAutopurge: false } : {}),
    });
  }

  get(key: string): CachedDecision | undefined {
    const v = this.lru.get(key);
    if (v) this.hits++;
    else this.misses++;
    return v;
  }

  set(key: string, value: CachedDecision): void {
    this.lru.set(key, value);
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
