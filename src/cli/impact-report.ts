// An impact preview (POST /v1/preview) as text, for `push --dry-run`: the counts, then
// each changed sample (who, where, what is gained and lost, checks that flip), then the
// test cases that would start failing or pass again.

import type { PreviewResult, SampleImpact } from '../engine/preview/impact-preview.js';

function who(s: SampleImpact): string {
  if (typeof s.subject === 'string') return s.subject;
  const parts = [s.subject.id, ...(s.subject.roles ?? []).map((r) => `role:${r}`), ...(s.subject.groups ?? []).map((g) => `group:${g}`)];
  return parts.join(' ');
}

function answerText(a: SampleImpact['before']): string {
  if (a.error !== undefined) return `refused (${a.error})`;
  return a.default ? `default [${a.permissions.join(', ')}]` : `[${a.permissions.join(', ')}]`;
}

export function formatImpact(p: PreviewResult): string[] {
  const s = p.summary;
  const lines: string[] = [];
  lines.push(`impact on ${s.samples} recorded request${s.samples === 1 ? '' : 's'}: ${s.changed} would change (${s.gained} gain, ${s.lost} lose permissions, ${s.restricted} newly denied, ${s.checksChanged} check${s.checksChanged === 1 ? '' : 's'} flip)` +
    (p.complete ? '' : ` — incomplete: stopped after ${s.evaluated} at the time bound`));
  for (const x of p.samples) {
    lines.push(`  ${x.endpoint.padEnd(8)} ${who(x)} @ ${x.namespace}${x.resource?.type !== undefined ? ` on ${x.resource.type}${x.resource.id !== undefined ? `:${x.resource.id}` : ''}` : ''}`);
    if (x.before.error !== x.after.error || x.before.default !== x.after.default) lines.push(`      ${answerText(x.before)} → ${answerText(x.after)}`);
    if (x.gained.length > 0) lines.push(`      + ${x.gained.join(', ')}`);
    if (x.lost.length > 0) lines.push(`      - ${x.lost.join(', ')}`);
    if (x.deniedAdded.length > 0) lines.push(`      + denied ${x.deniedAdded.join(', ')}`);
    if (x.deniedRemoved.length > 0) lines.push(`      - denied ${x.deniedRemoved.join(', ')}`);
    for (const [perm, c] of Object.entries(x.checks ?? {})) lines.push(`      check ${perm}: ${c.before ? 'allowed' : 'refused'} → ${c.after ? 'allowed' : 'refused'}`);
  }
  if (s.listed < s.changed) lines.push(`  … ${s.changed - s.listed} more not listed`);
  const t = p.tests;
  lines.push(`stored tests: ${s.testsBefore.passed}/${s.testsBefore.passed + s.testsBefore.failed} pass now, ${s.testsAfter.passed}/${s.testsAfter.passed + s.testsAfter.failed} would pass (${s.testsBroken} broken, ${s.testsFixed} fixed)`);
  for (const c of t.broken) {
    lines.push(`  FAIL ${c.suite} › ${c.case}`);
    for (const d of c.diff ?? []) lines.push(`      ${d}`);
  }
  for (const c of t.fixed) lines.push(`  fixed ${c.suite} › ${c.case}`);
  return lines;
}
