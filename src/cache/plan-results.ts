// In-process cache of query-plan answers (POST /v1/plan, SPEC §11). A plan is a pure
// function of the policy state, the relationship state, the directory and the request,
// so the key is exactly those: the three revisions and the whole request, canonically
// encoded (encodeValue: injective, so two requests share an entry only when they are
// the same request). What the key cannot see stays out: plans that read the clock,
// wildcard paths, a stale state (the plan service decides; docs/plans.md). The cache is
// also cleared on every policy change, so a replaced answer never lingers in memory.

import { LRUCache } from 'lru-cache';
import { encodeValue } from './decision-cache.js';

export interface PlanKeyParts {
  policyRevision: string;
  relationsRevision: string;
  directoryRevision: string;
  /** the request as received (subject, namespace, permission, resource, context, fields, allowPartial) */
  request: unknown;
}

/** Revisions are separated by a character none of them holds; the request's encoding comes last. */
export function planKey(p: PlanKeyParts): string {
  return `${encodeValue(p.policyRevision)}|${encodeValue(p.relationsRevision)}|${encodeValue(p.directoryRevision)}|${encodeValue(p.request)}`;
}

/** Most bytes held, by estimate (the key and the answer's filter twice: the AST and its two translations). */
const MAX_BYTES = 64 * 1024 * 1024;
/** An answer above this (a long `id in [...]`) is not kept: it would push out many small ones. */
const MAX_ENTRY_BYTES = 1024 * 1024;

export class PlanResults<V extends object> {
  private readonly lru: LRUCache<string, V> | undefined;
  hits = 0;
  misses = 0;

  /** `max` entries at most; 0 disables the cache. `bytes` estimates an answer's size. */
  constructor(max: number, bytes: (value: V) => number) {
    this.lru = max > 0 ? new LRUCache<string, V>({ max, maxSize: MAX_BYTES, maxEntrySize: MAX_ENTRY_BYTES, sizeCalculation: (v, k) => Math.max(1, k.length + bytes(v)) }) : undefined;
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  get(key: string): V | undefined {
    if (!this.lru) return undefined;
    const v = this.lru.get(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  set(key: string, value: V): void {
    // an entry above MAX_ENTRY_BYTES is not stored (lru-cache's maxEntrySize)
    this.lru?.set(key, value);
  }

  clear(): void {
    this.lru?.clear();
  }
}
