// How one request's answer differs between two policy states: the permissions gained
// and lost, denied patterns added and removed, checks that flip, errors that appear or
// go. Pure.

import type { StateAnswer } from './policy-state.js';

export interface AnswerDiff {
  changed: boolean;
  gained: string[];
  lost: string[];
  deniedAdded: string[];
  deniedRemoved: string[];
  /** the checked permissions whose answer flips */
  checks?: Record<string, { before: boolean; after: boolean }>;
}

function minus(a: readonly string[], b: readonly string[]): string[] {
  if (a.length === 0) return [];
  const other = new Set(b);
  return a.filter((x) => !other.has(x));
}

export function diffAnswers(before: StateAnswer, after: StateAnswer): AnswerDiff {
  const gained = minus(after.permissions, before.permissions);
  const lost = minus(before.permissions, after.permissions);
  const deniedAdded = minus(after.denied, before.denied);
  const deniedRemoved = minus(before.denied, after.denied);
  let checks: AnswerDiff['checks'];
  for (const p of Object.keys(after.checks ?? {})) {
    const b = before.checks?.[p] ?? false;
    const a = after.checks![p]!;
    if (a !== b) (checks ??= {})[p] = { before: b, after: a };
  }
  const changed = gained.length > 0 || lost.length > 0 || deniedAdded.length > 0 || deniedRemoved.length > 0 ||
    checks !== undefined || before.error !== after.error || before.default !== after.default;
  return { changed, gained, lost, deniedAdded, deniedRemoved, ...(checks ? { checks } : {}) };
}
