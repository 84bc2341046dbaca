// The reference pages list what the code has: every metric /metrics exports is in
// docs/metrics.md, every route of the OpenAPI document is in docs/http-api.md (or, for
// relationships, docs/relationships.md), every CLI command is in docs/cli.md, and every
// setting stays in the README's configuration table (test/docs/readme.test.ts).

import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testApp } from '../helpers/app.js';
import { ROOT, runCli } from '../cli/run-cli.js';

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

/** A metric is documented by its full name, or as `…<suffix>` after a sibling in the same row. */
export function documentsMetric(doc: string, name: string): boolean {
  if (doc.includes(`\`${name}\``)) return true;
  for (let i = name.indexOf('_', 'policy_engine_'.length); i > 0; i = name.indexOf('_', i + 1)) {
    if (doc.includes(`\`…${name.slice(i)}\``)) return true;
  }
  return false;
}

t.test('docs/metrics.md lists every policy_engine_ metric', async (t) => {
  const { app } = await testApp(t);
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const names = [...new Set([...text.matchAll(/^# HELP (policy_engine_\w+)/gm)].map((m) => m[1]!))];
  t.ok(names.length >= 15, `${names.length} metrics`);
  const doc = read('docs/metrics.md');
  for (const name of names) t.ok(documentsMetric(doc, name), `${name} is documented`);
  t.notOk(documentsMetric(doc, 'policy_engine_not_a_metric_total'), 'the check can fail');
});

t.test('docs/http-api.md lists every route', async (t) => {
  const { app } = await testApp(t);
  const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
  const doc = read('docs/http-api.md') + read('docs/relationships.md');
  for (const [path, ops] of Object.entries(spec.paths)) {
    const written = path.replace(/\{(\w+)\}/g, ':$1').replace(/\{\*\}$/, '*');
    for (const method of Object.keys(ops)) {
      const documented = doc.includes(`${method.toUpperCase()} ${written}`) || doc.includes(written.replace('/v1/relations/', '/'));
      t.ok(documented, `${method.toUpperCase()} ${written} is documented`);
    }
  }
});

t.test('docs/cli.md lists every command', async (t) => {
  const help = await runCli(['--help'], { timeoutMs: 90_000 });
  t.equal(help.code, 0);
  const commands = [...help.stdout.slice(help.stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  t.ok(commands.length >= 7, commands.join(', '));
  const doc = read('docs/cli.md');
  for (const c of commands) t.match(doc, new RegExp(`\\| \`${c}\\b`), `${c} is in the command table`);
});
