// The permission lists of a decision, maintained incrementally as effects apply.
// Grants are bucketed by their first segment: a pattern with a literal head can only
// cover or overlap patterns with the same head or a wildcard head, so most
// comparisons are skipped. `granted` stays minimal (the union it stands for is what
// matters), so no quadratic minimisation is needed at the end.

import { contains, minimize, overlaps, type Pattern } from '../pattern.js';

const WILD = '';

function byText(a: Pattern, b: Pattern): number {
  return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
}

/** What evaluation needs from a summary: Summary (any patterns) or BitSummary (a plan's table). */
export interface PermissionSummary {
  exact: boolean;
  grant(p: Pattern): void;
  revoke(p: Pattern): void;
  deny(p: Pattern): void;
  lists(): { permissions: string[]; denied: string[] };
}

export class Summary implements PermissionSummary {
  /** head → minimal granted patterns with that head ('' = wildcard head) */
  private readonly granted = new Map<string, Pattern[]>();
  /** the patterns currently in `granted`, by identity (patterns are interned) */
  private readonly present = new Set<Pattern>();
  /** revoked patterns that overlapped a grant when applied; a later covering grant lifts them */
  private revoked: Pattern[] = [];
  /** denied patterns: they block for the rest of the evaluation */
  private blocked: Pattern[] = [];
  exact = true;

  private bucket(head: string): Pattern[] {
    let b = this.granted.get(head);
    if (!b) {
      b = [];
      this.granted.set(head, b);
    }
    return b;
  }

  private covered(p: Pattern): boolean {
    const wild = this.granted.get(WILD);
    if (wild) for (let i = 0; i < wild.length; i++) if (contains(wild[i]!, p)) return true;
    if (p.head !== WILD) {
      const own = this.granted.get(p.head);
      if (own) for (let i = 0; i < own.length; i++) if (contains(own[i]!, p)) return true;
    }
    return false;
  }

  /** Remove from a bucket every pattern `p` covers; true when a remaining one overlaps `p`. */
  private static cutBucket(bucket: Pattern[], p: Pattern, wantOverlap: boolean, present: Set<Pattern>): boolean {
    let overlapping = false;
    let w = 0;
    for (let i = 0; i < bucket.length; i++) {
      const g = bucket[i]!;
      if (contains(p, g)) {
        present.delete(g);
        continue;
      }
      if (wantOverlap && !overlapping && overlaps(p, g)) overlapping = true;
      bucket[w++] = g;
    }
    bucket.length = w;
    return overlapping;
  }

  /** Remove grants `p` covers; true when some remaining grant overlaps `p`. */
  private cut(p: Pattern, wantOverlap: boolean): boolean {
    let overlapping = false;
    if (p.head === WILD) {
      for (const bucket of this.granted.values()) if (Summary.cutBucket(bucket, p, wantOverlap, this.present)) overlapping = true;
      return overlapping;
    }
    const own = this.granted.get(p.head);
    if (own && Summary.cutBucket(own, p, wantOverlap, this.present)) overlapping = true;
    // A literal head never covers a wildcard-headed grant, but may overlap one.
    const wild = this.granted.get(WILD);
    if (wantOverlap && !overlapping && wild) {
      for (let i = 0; i < wild.length; i++) if (overlaps(p, wild[i]!)) return true;
    }
    return overlapping;
  }

  grant(p: Pattern): void {
    const blocked = this.blocked;
    for (let i = 0; i < blocked.length; i++) if (contains(blocked[i]!, p)) return;
    if (this.revoked.length > 0) this.liftRevokes(p);
    if (this.present.has(p) || this.covered(p)) return;
    this.cut(p, false);
    this.bucket(p.head).push(p);
    this.present.add(p);
  }

  private liftRevokes(p: Pattern): void {
    const keep: Pattern[] = [];
    for (const r of this.revoked) {
      if (contains(p, r)) continue; // re-granted whole: the revoke no longer excludes anything
      if (overlaps(p, r)) this.exact = false; // partly re-granted: not expressible, err towards deny
      keep.push(r);
    }
    this.revoked = keep;
  }

  revoke(p: Pattern): void {
    if (this.cut(p, true)) this.revoked = Summary.addMinimal(this.revoked, p);
  }

  deny(p: Pattern): void {
    this.cut(p, false);
    this.blocked = Summary.addMinimal(this.blocked, p);
  }

  /**
   * Add to a union of patterns, keeping it minimal: nothing inside a member is added,
   * members inside the new one go. Without this, repeated denies grow the list and
   * every later grant scans it (quadratic in long paths).
   */
  private static addMinimal(list: Pattern[], p: Pattern): Pattern[] {
    for (let i = 0; i < list.length; i++) if (contains(list[i]!, p)) return list;
    const out = list.filter((q) => !contains(p, q));
    out.push(p);
    return out;
  }

  lists(): { permissions: string[]; denied: string[] } {
    const permissions: Pattern[] = [];
    for (const bucket of this.granted.values()) for (const g of bucket) permissions.push(g);
    permissions.sort(byText);
    const excluded: Pattern[] = [];
    if (this.revoked.length > 0 || this.blocked.length > 0) {
      for (const e of this.revoked) if (permissions.some((g) => overlaps(g, e))) excluded.push(e);
      for (const e of this.blocked) if (permissions.some((g) => overlaps(g, e))) excluded.push(e);
    }
    return {
      permissions: permissions.map((p) => p.text),
      denied: excluded.length === 0 ? [] : minimize(excluded).map((p) => p.text),
    };
  }
}
