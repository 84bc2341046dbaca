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
  readonly idOf: ReadonlyMap<Pattern, number>;
  /** for pattern i, the set of j with j ⊇ i */
  readonly coveredBy: readonly Uint32Array[];
  /** for pattern i, the set of j with i ⊇ j */
  readonly covers: readonly Uint32Array[];
  /** for pattern i, the set of j that share a permission with i */
  readonly overlapping: readonly Uint32Array[];
}

export function buildPatternTable(all: Iterable<Pattern>): PatternTable | undefined {
  const distinct = [...new Set(all)];
  if (distinct.length > MAX_TABLE_PATTERNS) return undefined;
  // Patterns are interned, but a pattern parsed past the intern bound is another object
  // with the same text: one id per text keeps sets exact.
  const byText = new Map<string, Pattern>();
  for (const p of distinct) if (!byText.has(p.text)) byText.set(p.text, p);
  const patterns = [...byText.values()].sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  const idByText = new Map(patterns.map((p, i) => [p.text, i]));
  const idOf = new Map<Pattern, number>();
  for (const p of distinct) idOf.set(p, idByText.get(p.text)!);
  const n = patterns.length;
  const words = Math.max(1, Math.ceil(n / 32));
  const coveredBy = patterns.map(() => new Uint32Array(words));
  const covers = patterns.map(() => new Uint32Array(words));
  const overlapping = patterns.map(() => new Uint32Array(words));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = patterns[i]!;
      const b = patterns[j]!;
      const bit = 1 << (j & 31);
      const w = j >>> 5;
      if (contains(b, a)) coveredBy[i]![w]! |= bit;
      if (contains(a, b)) covers[i]![w]! |= bit;
      if (overlaps(a, b)) overlapping[i]![w]! |= bit;
    }
  }
  return { patterns, words, idOf, coveredBy, covers, overlapping };
}
