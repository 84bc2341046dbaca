// The inputs of a test case that are checked beyond the schema: namespace paths and
// times. Shared by suites (*.test.yaml) and stored suites (kind: tests); every problem
// is collected into the list given.

import { parseNamespacePath } from '../namespace.js';

/** An ISO 8601 time (the schema checked its shape); Invalid Date for a day that does not exist (Date would roll Feb 30 over). */
export function parseCaseTime(text: string): Date {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return new Date(NaN);
  return new Date(text);
}

export function caseInputReader(problems: Array<{ path: string; message: string }>): {
  pathOf(text: string, at: string): string[] | undefined;
  timeOf(text: string, at: string): Date | undefined;
} {
  return {
    pathOf(text, at) {
      const parsed = parseNamespacePath(text);
      if (parsed.ok) return parsed.namespaces;
      problems.push({ path: at, message: parsed.reason });
      return undefined;
    },
    timeOf(text, at) {
      const t = parseCaseTime(text);
      if (!Number.isNaN(t.getTime())) return t;
      problems.push({ path: at, message: 'is not a valid time' });
      return undefined;
    },
  };
}
