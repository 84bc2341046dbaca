// Permission patterns (SPEC §2): parse, match a concrete permission, and decide
// containment / overlap between two patterns. Pure and allocation-light: evaluation
// calls these in its inner loop.

export const MAX_SEGMENTS = 16;
export const MAX_SEGMENT_LENGTH = 64;
const SEGMENT = /^[A-Za-z0-9_./-]{1,64}$/;

/**
 * A parsed pattern. `segs[i]` is a literal segment or `null` for a single-segment
 * wildcard. `rest` is true when the pattern ended in `*`, which then matches one or
 * more further segments (so `segs` holds the segments before that `*`).
 */
export interface Pattern {
  readonly text: string;
  readonly segs: readonly (string | null)[];
  readonly rest: boolean;
  /** the first segment when it is a literal, '' when it is a wildcard (bucketing key) */
  readonly head: string;
}

export type PatternError = 'empty' | 'too_many_segments' | 'bad_segment';

/** Parse a pattern; returns a reason string instead of throwing (callers collect errors). */
export function parsePattern(text: string): Pattern | PatternError {
  if (typeof text !== 'string' || text.length === 0) return 'empty';
  const parts = text.split(':');
  if (parts.length > MAX_SEGMENTS) return 'too_many_segments';
  const segs: (string | null)[] = [];
  for (const part of parts) {
    if (part === '*') segs.push(null);
    else if (SEGMENT.test(part)) segs.push(part);
    else return 'bad_segment';
  }
  const rest = segs[segs.length - 1] === null;
  if (rest) segs.pop();
  return { text, segs, rest, head: segs[0] ?? '' };
}

/**
 * Interned patterns: equal texts give the same object across every compiled document,
 * so evaluation can tell duplicates by identity. Bounded; past the bound patterns are
 * simply not shared.
 */
const interned = new Map<string, Pattern>();
const MAX_INTERNED = 100_000;

/** Parse a pattern that is known to be valid (schema-checked); throws otherwise. */
export function mustParsePattern(text: string): Pattern {
  const known = interned.get(text);
  if (known) return known;
  const p = parsePattern(text);
  if (typeof p === 'string') throw new Error(`invalid permission pattern ${JSON.stringify(text)}: ${p}`);
  if (interned.size < MAX_INTERNED) interned.set(text, p);
  return p;
}

/** A concrete permission: segments only, no `*`. */
export function isConcretePermission(text: string): boolean {
  const p = parsePattern(text);
  return typeof p !== 'string' && !p.rest && p.segs.every((s) => s !== null);
}

/** Does pattern `p` match the concrete permission given by its segments? */
export function matchSegments(p: Pattern, perm: readonly string[]): boolean {
  const n = p.segs.length;
  if (p.rest ? perm.length <= n : perm.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const s = p.segs[i];
    if (s !== null && s !== perm[i]) return false;
  }
  return true;
}

export function matches(p: Pattern, permission: string): boolean {
  return matchSegments(p, permission.split(':'));
}

/** Does `a` match every permission that `b` matches (a ⊇ b)? */
export function contains(a: Pattern, b: Pattern): boolean {
  if (a === b) return true;
  const na = a.segs.length;
  const nb = b.segs.length;
  if (b.rest) {
    // b matches every length from nb+1 upwards: only a tail wildcard at or before that covers it.
    if (!a.rest || na > nb) return false;
  } else if (a.rest ? na >= nb : na !== nb) {
    return false;
  }
  for (let i = 0; i < na; i++) {
    const sa = a.segs[i];
    if (sa !== null && sa !== b.segs[i]) return false;
  }
  return true;
}

/** Is there a permission that both patterns match? */
export function overlaps(a: Pattern, b: Pattern): boolean {
  const na = a.segs.length;
  const nb = b.segs.length;
  // Lengths: a matches {na} or [na+1, MAX]; b likewise. The sets must intersect.
  if (!a.rest && !b.rest) {
    if (na !== nb) return false;
  } else if (a.rest && !b.rest) {
    if (nb <= na) return false;
  } else if (!a.rest && b.rest) {
    if (na <= nb) return false;
  }
  const n = Math.min(na, nb);
  for (let i = 0; i < n; i++) {
    const sa = a.segs[i];
    const sb = b.segs[i];
    if (sa !== null && sb !== null && sa !== sb) return false;
  }
  return true;
}

/** Sort, deduplicate and drop every pattern covered by another one of the list. */
export function minimize(patterns: readonly Pattern[]): Pattern[] {
  const out: Pattern[] = [];
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i]!;
    let covered = false;
    for (let j = 0; j < patterns.length && !covered; j++) {
      if (i === j) continue;
      const q = patterns[j]!;
      // Equal patterns cover each other: keep the first occurrence only.
      if (contains(q, p) && (!contains(p, q) || j < i)) covered = true;
    }
    if (!covered) out.push(p);
  }
  out.sort((x, y) => (x.text < y.text ? -1 : x.text > y.text ? 1 : 0));
  return out;
}
