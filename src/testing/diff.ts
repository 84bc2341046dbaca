// Readable differences: expected vs actual lists for failing cases, and line diffs of
// policy texts for `policy-engine push`. Lines start with `-` (expected / before),
// `+` (actual / after) or a space (the same in both).

/** A set difference of two lists of strings, as diff lines under a heading. */
export function listDiff(field: string, expected: readonly string[], actual: readonly string[]): string[] {
  const want = new Set(expected);
  const got = new Set(actual);
  const lines = [`${field}:`];
  for (const item of [...new Set([...expected, ...actual])].sort()) {
    if (want.has(item) && got.has(item)) lines.push(`    ${item}`);
    else if (want.has(item)) lines.push(`  - ${item}`);
    else lines.push(`  + ${item}`);
  }
  if (expected.length === 0) lines.push('  - (nothing)');
  if (actual.length === 0) lines.push('  + (nothing)');
  return lines;
}

export function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x)) && new Set(b).size === set.size;
}

const MAX_DIFF_CELLS = 4_000_000;

/**
 * A line diff of two texts (longest common subsequence), unchanged runs cut down to
 * `context` lines around each change. Texts too large for the table come out as
 * "everything removed, everything added".
 */
export function lineDiff(before: string, after: string, context = 2): string[] {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  const ops: Array<[' ' | '-' | '+', string]> = [];
  if (a.length * b.length > MAX_DIFF_CELLS) {
    for (const l of a) ops.push(['-', l]);
    for (const l of b) ops.push(['+', l]);
  } else {
    // lcs[i][j]: length of the LCS of a[i..] and b[j..]
    const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i] === b[j]) {
        ops.push([' ', a[i]!]);
        i++;
        j++;
      } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
        ops.push(['-', a[i++]!]); // removals before additions, as diff(1) prints them
      } else {
        ops.push(['+', b[j++]!]);
      }
    }
  }
  // Keep changes and `context` unchanged lines either side; mark cuts with `@@`.
  const keep = ops.map(() => false);
  ops.forEach(([op], k) => {
    if (op === ' ') return;
    for (let x = Math.max(0, k - context); x <= Math.min(ops.length - 1, k + context); x++) keep[x] = true;
  });
  const out: string[] = [];
  let cut = false;
  ops.forEach(([op, line], k) => {
    if (!keep[k]) {
      cut = true;
      return;
    }
    if (cut || (out.length === 0 && k > 0)) out.push('@@');
    cut = false;
    out.push(`${op} ${line}`);
  });
  return out;
}
