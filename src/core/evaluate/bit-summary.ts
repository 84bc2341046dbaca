// The permission lists of a decision over a plan's pattern table: the same algebra as
// Summary (summary.ts), on bitsets of pattern ids. Grants stay minimal; a grant lifts
// the revokes it covers and marks the lists inexact when it only partly re-grants one.

import type { Pattern } from '../pattern.js';
import type { PatternTable } from './pattern-table.js';
import type { PermissionSummary } from './summary.js';

/** Does `a` share a bit with row `row` of the table relation `b` (rows of a.length words)? */
function intersects(a: Uint32Array, b: Uint32Array, row: number): boolean {
  const o = row * a.length;
  for (let w = 0; w < a.length; w++) if ((a[w]! & b[o + w]!) !== 0) return true;
  return false;
}

export class BitSummary implements PermissionSummary {
  private readonly granted: Uint32Array;
  private readonly revoked: Uint32Array;
  private readonly blocked: Uint32Array;
  exact = true;

  constructor(private readonly table: PatternTable) {
    this.granted = new Uint32Array(table.words);
    this.revoked = new Uint32Array(table.words);
    this.blocked = new Uint32Array(table.words);
  }

  grant(p: Pattern): void {
    this.grantId(this.table.idOf.get(p.text)!);
  }

  revoke(p: Pattern): void {
    this.revokeId(this.table.idOf.get(p.text)!);
  }

  deny(p: Pattern): void {
    this.denyId(this.table.idOf.get(p.text)!);
  }

  grantId(i: number): void {
    const t = this.table;
    if (intersects(this.blocked, t.coveredBy, i)) return;
    const { covers, overlapping, coveredBy } = t;
    const { granted, revoked } = this;
    const o = i * granted.length;
    let covered = false;
    for (let w = 0; w < granted.length; w++) {
      const r = revoked[w]!;
      if (r !== 0) {
        // Revokes inside p are lifted whole; one p only overlaps cannot be expressed.
        if ((r & overlapping[o + w]! & ~covers[o + w]!) !== 0) this.exact = false;
        revoked[w] = r & ~covers[o + w]!;
      }
      if ((granted[w]! & coveredBy[o + w]!) !== 0) covered = true;
    }
    if (covered) return;
    for (let w = 0; w < granted.length; w++) granted[w] = granted[w]! & ~covers[o + w]!;
    granted[i >>> 5] = granted[i >>> 5]! | (1 << (i & 31));
  }

  /** Drop grants `p` covers; true when a remaining grant overlaps `p`. */
  private cut(i: number): boolean {
    const { covers, overlapping } = this.table;
    const granted = this.granted;
    const o = i * granted.length;
    let overlaps = false;
    for (let w = 0; w < granted.length; w++) {
      const g = granted[w]! & ~covers[o + w]!;
      granted[w] = g;
      if ((g & overlapping[o + w]!) !== 0) overlaps = true;
    }
    return overlaps;
  }

  revokeId(i: number): void {
    if (this.cut(i)) this.revoked[i >>> 5] = this.revoked[i >>> 5]! | (1 << (i & 31));
  }

  denyId(i: number): void {
    this.cut(i);
    this.blocked[i >>> 5] = this.blocked[i >>> 5]! | (1 << (i & 31));
  }

  lists(): { permissions: string[]; denied: string[] } {
    const t = this.table;
    const { granted, revoked, blocked } = this;
    const permissions: string[] = [];
    const candidates = new Uint32Array(t.words);
    let any = false;
    for (let w = 0; w < granted.length; w++) {
      const g = granted[w]!;
      for (let bits = g; bits !== 0; bits &= bits - 1) permissions.push(t.patterns[(w << 5) + (31 - Math.clz32(bits & -bits))]!.text);
      const e = revoked[w]! | blocked[w]!;
      if (e !== 0) {
        candidates[w] = e;
        any = true;
      }
    }
    if (!any) return { permissions, denied: [] };
    // Keep exclusions that overlap a grant and that no other kept exclusion covers.
    const kept = new Uint32Array(t.words);
    for (let w = 0; w < candidates.length; w++) {
      for (let bits = candidates[w]!; bits !== 0; bits &= bits - 1) {
        const i = (w << 5) + (31 - Math.clz32(bits & -bits));
        if (intersects(granted, t.overlapping, i)) kept[w] = kept[w]! | (1 << (i & 31));
      }
    }
    const denied: string[] = [];
    for (let w = 0; w < kept.length; w++) {
      for (let bits = kept[w]!; bits !== 0; bits &= bits - 1) {
        const i = (w << 5) + (31 - Math.clz32(bits & -bits));
        const o = i * kept.length;
        let dominated = false;
        for (let v = 0; v < kept.length && !dominated; v++) {
          let others = kept[v]! & t.coveredBy[o + v]!;
          if (v === w) others &= ~(1 << (i & 31));
          if (others !== 0) dominated = true;
        }
        if (!dominated) denied.push(t.patterns[i]!.text);
      }
    }
    return { permissions, denied };
  }
}
