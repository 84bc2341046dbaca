// `matches` in conditions: RE2 semantics through re2js (a pure-JavaScript port of RE2:
// linear-time matching, no backtracking), instead of cel-js's built-in JavaScript RegExp,
// which backtracks (`^(a+)+$` on 27 characters stalled the event loop for seconds).
//
// Patterns are bounded before they are compiled: at most MAX_PATTERN_LENGTH characters and
// an estimated program of at most MAX_REGEX_PROGRAM instructions (RE2 expands `x{1000}` into
// a thousand copies, and compiling and matching cost grows with that size). Constant
// patterns are compiled when the condition is; every compiled pattern is kept in a bounded
// LRU keyed by its text, so dynamic patterns are compiled once too.

import type { RE2JS } from 're2js';
import { LRUCache } from 'lru-cache';
import { lazyPackage } from '../lazy-package.js';

const re2js = lazyPackage<typeof import('re2js')>('re2js');

export const MAX_PATTERN_LENGTH = 1000;
/** most RE2 program instructions a pattern may compile to */
export const MAX_REGEX_PROGRAM = 500;
/** refused before compiling when the estimate is past this (compiling is the cost to avoid) */
const MAX_ESTIMATE = MAX_REGEX_PROGRAM * 1.25;
const CACHE_MAX = 500;

export interface CompiledRegex {
  readonly source: string;
  /** RE2's program size: what matching costs per character of input */
  readonly size: number;
  test(text: string): boolean;
}

export type RegexResult = { ok: true; regex: CompiledRegex } | { ok: false; error: string };

/**
 * An estimate of the RE2 program size, without compiling (compiling is what costs: about a
 * millisecond per few hundred instructions). Literals, escapes and classes count 1; a
 * capturing group adds 2; `?` and `+` add 1, `*` 2; `{n,m}` repeats what it follows m
 * times plus an alternative per optional copy; alternatives add 1. Close to RE2's own
 * count for ordinary patterns; malformed ones are RE2's to reject.
 */
export function estimateProgramSize(pattern: string): number {
  // Each open group: the sum of its finished atoms, the weight of the last one
  const stack: Array<{ sum: number; last: number; capture: boolean }> = [{ sum: 0, last: 0, capture: false }];
  const top = () => stack[stack.length - 1]!;
  const atom = (w: number) => {
    const t = top();
    t.sum += w;
    t.last = w;
  };
  /** the last atom now stands `times` times, plus `extra` instructions */
  const repeat = (times: number, extra: number) => {
    const t = top();
    const grown = t.last * times + extra;
    t.sum += grown - t.last;
    t.last = grown;
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
      // a class is one instruction, whatever its ranges
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
      atom(1);
      continue;
    }
    if (c === '(') {
      i++;
      let capture = true;
      if (pattern[i] === '?') {
        // (?flags) alone, (?flags:…) non-capturing, (?P<name>…) / (?<name>…) capturing
        const close = pattern.slice(i).search(/[:)>]/);
        if (close >= 0) {
          const k = i + close;
          if (pattern[k] === ')') {
            i = k + 1;
            continue;
          }
          capture = pattern[k] === '>';
          i = k + 1;
        }
      }
      stack.push({ sum: 0, last: 0, capture });
      continue;
    }
    if (c === ')') {
      if (stack.length > 1) {
        const inner = stack.pop()!;
        atom(inner.sum + (inner.capture ? 2 : 0));
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
      repeat(1, c === '*' ? 2 : 1);
      i++;
      if (pattern[i] === '?') i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 16));
      if (m) {
        const low = Number(m[1]);
        const high = m[2] === undefined ? low : m[3] === '' ? low + 1 : Number(m[3]);
        const times = Math.max(low, high, 1);
        repeat(times, Math.max(0, times - low));
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
    atom(inner.sum + (inner.capture ? 2 : 0));
  }
  return stack[0]!.sum + 3;
}

function compileNow(pattern: string): RegexResult {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, error: `regular expression longer than ${MAX_PATTERN_LENGTH} characters` };
  }
  if (estimateProgramSize(pattern) > MAX_ESTIMATE) {
    return { ok: false, error: `regular expression too large (repetitions expand beyond ${MAX_REGEX_PROGRAM} RE2 instructions)` };
  }
  let re: RE2JS;
  try {
    re = re2js().RE2JS.compile(pattern);
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
