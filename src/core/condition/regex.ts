// `matches` in conditions: RE2 semantics through re2js (a pure-JavaScript port of RE2:
// linear-time matching, no backtracking), instead of cel-js's built-in JavaScript RegExp,
// which backtracks (`^(a+)+$` on 27 characters stalled the event loop for seconds).
//
// Patterns are bounded before they are compiled: at most MAX_PATTERN_LENGTH characters and
// an estimated program of at most MAX_REGEX_PROGRAM instructions (RE2 expands `x{1000}` into
// a thousand copies, and compiling and matching cost grows with that size). Constant
// patterns are compiled when the condition is; every compiled pattern is kept in a bounded
// LRU keyed by its text, so dynamic patterns are compiled once too.

import { RE2JS } from 're2js';
import { LRUCache } from 'lru-cache';

export const MAX_PATTERN_LENGTH = 1000;
/** most RE2 program instructions a pattern may compile to */
export const MAX_REGEX_PROGRAM = 1000;
const CACHE_MAX = 500;

export interface CompiledRegex {
  readonly source: string;
  /** RE2's program size: what matching costs per character of input */
  readonly size: number;
  test(text: string): boolean;
}

export type RegexResult = { ok: true; regex: CompiledRegex } | { ok: false; error: string };

/**
 * A conservative estimate of the RE2 program size, without compiling: literals, classes
 * and escapes count 1, groups the sum of their insides, a repetition multiplies what it
 * repeats by its upper bound (`*`, `+`, `?` by 2). Alternatives add up. Never less than
 * the real size for the patterns RE2 accepts; malformed patterns are RE2's to reject.
 */
export function estimateProgramSize(pattern: string): number {
  // Each open group: [sum of finished atoms, weight of the last atom]
  const stack: Array<{ sum: number; last: number }> = [{ sum: 0, last: 0 }];
  const top = () => stack[stack.length - 1]!;
  const atom = (w: number) => {
    const t = top();
    t.sum += w;
    t.last = w;
  };
  const repeat = (times: number) => {
    const t = top();
    t.sum += t.last * (times - 1) + 1;
    t.last = t.last * times + 1;
  };
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i]!;
    if (c === '\\') {
      // \Q…\E quotes literally; \p{…}, \x{…} are one atom
      if (pattern[i + 1] === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const stop = end < 0 ? n : end;
        for (let k = i + 2; k < stop; k++) atom(1);
        i = end < 0 ? n : end + 2;
        continue;
      }
      i += 2;
      if (pattern[i] === '{' && /[pPx]/.test(pattern[i - 1] ?? '')) {
        const end = pattern.indexOf('}', i);
        i = end < 0 ? n : end + 1;
      }
      atom(1);
      continue;
    }
    if (c === '[') {
      // a class is one atom (its ranges do not multiply the program)
      let k = i + 1;
      if (pattern[k] === '^') k++;
      if (pattern[k] === ']') k++;
      while (k < n && pattern[k] !== ']') {
        if (pattern[k] === '\\') k++;
        else if (pattern[k] === '[' && pattern[k + 1] === ':') {
          const end = pattern.indexOf(':]', k + 2);
          if (end > 0) k = end + 1;
        }
        k++;
      }
      i = k + 1;
      atom(2);
      continue;
    }
    if (c === '(') {
      stack.push({ sum: 0, last: 0 });
      i++;
      if (pattern[i] === '?') {
        // (?flags) or (?flags: or (?P<name> / (?<name>: skip to the body
        const close = pattern.slice(i).search(/[:)>]/);
        if (close >= 0) {
          const k = i + close;
          if (pattern[k] === ')') {
            // a flag group alone: no atom
            stack.pop();
            i = k + 1;
            continue;
          }
          i = k + 1;
        }
      }
      continue;
    }
    if (c === ')') {
      if (stack.length > 1) {
        const inner = stack.pop()!;
        atom(inner.sum + 2);
      }
      i++;
      continue;
    }
    if (c === '|') {
      top().sum += 1;
      top().last = 0;
      i++;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      repeat(2);
      i++;
      if (pattern[i] === '?') i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 16));
      if (m) {
        const low = Number(m[1]);
        const high = m[2] === undefined ? low : m[3] === '' ? low + 1 : Number(m[3]);
        repeat(Math.max(low, high, 1));
        i += m[0].length;
        if (pattern[i] === '?') i++;
        continue;
      }
    }
    atom(1);
    i++;
  }
  while (stack.length > 1) {
    const inner = stack.pop()!;
    atom(inner.sum + 2);
  }
  return stack[0]!.sum + 2;
}

function compileNow(pattern: string): RegexResult {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, error: `regular expression longer than ${MAX_PATTERN_LENGTH} characters` };
  }
  if (estimateProgramSize(pattern) > MAX_REGEX_PROGRAM * 4) {
    return { ok: false, error: `regular expression too large (repetitions expand beyond ${MAX_REGEX_PROGRAM} RE2 instructions)` };
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    return { ok: false, error: `invalid regular expression (RE2 syntax): ${message.replace(/^error parsing regexp: /, '').slice(0, 200)}` };
  }
  const size = re.programSize();
  if (size > MAX_REGEX_PROGRAM) {
    return { ok: false, error: `regular expression too large (${size} RE2 instructions, at most ${MAX_REGEX_PROGRAM})` };
  }
  return { ok: true, regex: { source: pattern, size, test: (text: string) => re.test(text) } };
}

const cache = new LRUCache<string, RegexResult>({ max: CACHE_MAX });

/** Compile (or find compiled) an RE2 pattern; errors are results, never throws. */
export function compileRegex(pattern: string): RegexResult {
  let r = cache.get(pattern);
  if (!r) {
    r = compileNow(pattern);
    cache.set(pattern, r);
  }
  return r;
}
