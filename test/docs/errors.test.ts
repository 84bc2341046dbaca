// Every error code is unique, maps to a 4xx/5xx status, and is documented exactly once in
// docs/errors.md with that status; the docs name no code the registry lacks. The checks
// are one function run on the real registry and, to prove each can fail, on broken ones.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../src/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const source = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');

type Registry = Record<string, { status: number; description: string }>;

/** The codes as written in the registry's source (an object cannot show a duplicate key once built). */
function sourceCodes(text: string): string[] {
  const body = text.slice(text.indexOf('export const ERROR_CODES = {'), text.indexOf('} as const'));
  return [...body.matchAll(/^\s+([A-Z][A-Z0-9_]*): \{/gm)].map((m) => m[1]!);
}

/** What is wrong with a registry, its source and its documentation; empty when nothing is. */
function registryProblems(registry: Registry, sourceText: string, docText: string): string[] {
  const problems: string[] = [];
  const written = sourceCodes(sourceText);
  const seen = new Set<string>();
  for (const c of written) {
    if (seen.has(c)) problems.push(`${c} is defined twice in src/errors.ts`);
    seen.add(c);
  }
  for (const c of Object.keys(registry)) if (!seen.has(c)) problems.push(`${c} is not found in the source of the registry`);
  const rows = [...docText.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (\d{3}) \|/gm)].map((m) => ({ code: m[1]!, status: Number(m[2]) }));
  const documented = new Map<string, number[]>();
  for (const r of rows) documented.set(r.code, [...(documented.get(r.code) ?? []), r.status]);
  for (const [code, { status, description }] of Object.entries(registry)) {
    if (!/^[A-Z][A-Z_]+$/.test(code)) problems.push(`${code} is not SCREAMING_SNAKE`);
    if (!(status >= 400 && status < 600)) problems.push(`${code} has no error status (${status})`);
    if (description.length <= 10) problems.push(`${code} has no real description`);
    const statuses = documented.get(code) ?? [];
    if (statuses.length === 0) problems.push(`${code} is not documented in docs/errors.md`);
    else if (statuses.length > 1) problems.push(`${code} is documented ${statuses.length} times in docs/errors.md`);
    else if (statuses[0] !== status) problems.push(`${code} is documented with ${statuses[0]}, not ${status}`);
  }
  for (const code of documented.keys()) if (!Object.hasOwn(registry, code)) problems.push(`docs/errors.md documents ${code}, which the registry does not have`);
  return problems;
}

const registry: Registry = ERROR_CODES;

t.test('the registry, its source and docs/errors.md agree', async (t) => {
  t.ok(Object.keys(registry).length >= 30, `${Object.keys(registry).length} codes`);
  t.same(registryProblems(registry, source, doc), []);
});

t.test('each check fails when its rule is broken', async (t) => {
  const twice = source.replace('  NOT_READY: {', '  NOT_READY: { status: 503, description: \'again\' },\n  NOT_READY: {');
  t.same(registryProblems(registry, twice, doc), ['NOT_READY is defined twice in src/errors.ts']);
  const docTwice = doc + '\n| `NOT_READY` | 503 | again |\n';
  t.same(registryProblems(registry, source, docTwice), ['NOT_READY is documented 2 times in docs/errors.md']);
  t.same(registryProblems(registry, source, doc.replace(/^\| `NOT_READY` .*\n/m, '')), ['NOT_READY is not documented in docs/errors.md']);
  t.same(registryProblems(registry, source, doc.replace('| `NOT_READY` | 503 |', '| `NOT_READY` | 500 |')), ['NOT_READY is documented with 500, not 503']);
  t.same(registryProblems(registry, source, doc + '\n| `GONE_CODE` | 410 | no such code |\n'), ['docs/errors.md documents GONE_CODE, which the registry does not have']);
  t.same(registryProblems({ ...registry, NOT_READY: { status: 200, description: 'Policies have not been loaded yet.' } }, source, doc),
    ['NOT_READY has no error status (200)', 'NOT_READY is documented with 503, not 200']);
});
