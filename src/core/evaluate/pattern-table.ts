// The distinct permission patterns of a plan, numbered in text order, with their
// containment and overlap relations precomputed as bitsets. Evaluating a plan then
// works on small integer sets (BitSummary) instead of comparing patterns segment by
// segment on every request. Built only for plans with few enough patterns.

import { contains, overlaps, type Pattern } from '../pattern.js';

/** Beyond this many distinct patterns a plan uses the generic summary (memory: 3·P²/8 bytes). */
export const MAX_TABLE_PATTERNS = 256;

export interface PatternTable {
  readonly patterns: readonly Pattern[];
  /** words per bitset */
  readonly words: number;
  /** pattern text → id (by text: a table is shared by every plan over the same texts) */
  readonly idOf: ReadonlyMap<string, number>;
  /**
   * Row i (words i·words … (i+1)·words − 1): the set of j with j ⊇ i. Each relation is
   * one flat array: a typed array per row cost ~100 bytes of object overhead each, which
   * dominated the memory of a plan (~130 KB for 200 patterns, ×10,000 cached plans).
   */
  readonly coveredBy: Uint32Array;
  /** row i: the set of j with i ⊇ j */
  readonly covers: Uint32Array;
  /** row i: the set of j that share a permission with i */
  readonly overlapping: Uint32Array;
}

export function buildPatternTable(all: Iterable<Pattern>): PatternTable | undefined {
  const distinct = [...new Set(all)];
  if (distinct.length > MAX_TABLE_PATTERNS) return undefined;
  // Patterns are interned, but a pattern parsed past the intern bound is another object
  // with the same text: one id per text keeps sets exact.
  const byText = new Map<string, Pattern>();
  for (const p of distinct) if (!byText.has(p.text)) byText.set(p.text, p);
  const patterns = [...byText.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  const idOf = new Map(patterns.map((p, i) => [p.text, i]));
  const n = patterns.length;
  const words = Math.max(1, Math.ceil(n / 32));
  const coveredBy = new Uint32Array(n * words);
  const covers = new Uint32Array(n * words);
  const overlapping = new Uint32Array(n * words);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = patterns[i]!;
      const b = patterns[j]!;
      const bit = 1 << (j & 31);
      const w = i * words + (j >>> 5);
      if (contains(b, a)) coveredBy[w]! |= bit;
      if (contains(a, b)) covers[w]! |= bit;
      if (overlaps(a, b)) overlapping[w]! |= bit;
    }
  }
  return { patterns, words, idOf, coveredBy, covers, overlapping };
}
