// Plain-text reports of suite runs: a line per suite, and for every failing case the
// diff of expected (-) against actual (+) and the trace of the evaluation.

import type { DocumentTrace } from '../core/evaluate/types.js';
import type { CaseResult, RunResult, SuiteProblem, SuiteResult } from './types.js';

/** `file:line:column: document: path: message` — the parts that are known. */
export function formatProblem(p: SuiteProblem): string {
  const where = p.file === undefined ? '' : `${p.file}${p.line !== undefined ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : ''}: `;
  const doc = p.document !== undefined ? `${p.document}: ` : '';
  return `${where}${doc}${p.path === '' ? '' : `${p.path}: `}${p.message}`;
}

function effects(e: NonNullable<DocumentTrace['rules'][number]['effects']>): string {
  const parts: string[] = [];
  if (e.grant) parts.push(`grant ${e.grant.join(', ')}`);
  if (e.revoke) parts.push(`revoke ${e.revoke.join(', ')}`);
  if (e.deny) parts.push(`deny ${e.deny.join(', ')}`);
  return parts.join('; ');
}

function outcome(o: { value: boolean } | { error: string }): string {
  return 'error' in o ? `error: ${o.error}` : String(o.value);
}

/** The evaluation walk, one line per document and rule. */
export function formatTrace(trace: readonly DocumentTrace[]): string[] {
  if (trace.length === 0) return ['(no document in the path: the default answered)'];
  const lines: string[] = [];
  for (const d of trace) {
    lines.push(`${d.document} [${d.namespace}]${d.disabled ? ' (disabled, not run)' : ''}`);
    if (d.predicates) {
      lines.push(`  predicates: ${Object.entries(d.predicates).map(([k, v]) => `${k} = ${outcome(v)}`).join(', ')}`);
    }
    for (const r of d.rules) {
      if (!r.subjectMatched) lines.push(`  · ${r.rule}: subjects do not match`);
      else if (r.applied) lines.push(`  ✓ ${r.rule}: ${r.condition ? `when ${outcome(r.condition)}; ` : ''}applied ${r.effects ? effects(r.effects) : ''}`.trimEnd());
      else lines.push(`  ✗ ${r.rule}: when ${r.condition ? outcome(r.condition) : '?'}; not applied`);
    }
  }
  return lines;
}

function indent(lines: readonly string[], by: string): string[] {
  return lines.map((l) => by + l);
}

export function formatCaseFailure(c: CaseResult): string[] {
  const lines = [`✗ ${c.name}`, '    expected (-) / actual (+):', ...indent(c.diff ?? [], '      ')];
  if (c.conditionErrors?.length) {
    lines.push('    condition errors (those rules did not apply):');
    for (const e of c.conditionErrors) lines.push(`      ${e.document} / ${e.rule}: ${e.error}`);
  }
  if (c.trace) lines.push('    trace:', ...indent(formatTrace(c.trace), '      '));
  return lines;
}

export function formatSuite(s: SuiteResult, options: { verbose?: boolean } = {}): string[] {
  const where = s.file !== undefined ? ` (${s.file})` : '';
  if (s.problems) return [`BROKEN ${s.name}${where}: could not be loaded`, ...s.problems.map((p) => `  ${formatProblem(p)}`)];
  const total = s.cases.length;
  const head = s.passed
    ? `PASS  ${s.name}${where}: ${total} case${total === 1 ? '' : 's'}`
    : `FAIL  ${s.name}${where}: ${s.counts.failed} of ${total} case${total === 1 ? '' : 's'} failed`;
  const lines = [head];
  for (const c of s.cases) {
    if (!c.passed) lines.push(...indent(formatCaseFailure(c), '  '));
    else if (options.verbose) lines.push(`  ✓ ${c.name}`);
  }
  return lines;
}

export function formatRun(run: RunResult, options: { verbose?: boolean } = {}): string {
  const lines = run.suites.flatMap((s) => formatSuite(s, options));
  const c = run.counts;
  lines.push('', `${c.suites} suite${c.suites === 1 ? '' : 's'}, ${c.cases} cases: ${c.passed} passed, ${c.failed} failed` +
    (c.broken > 0 ? `, ${c.broken} suite${c.broken === 1 ? '' : 's'} broken` : '') + ` (${Math.round(run.durationMs)} ms)`);
  return lines.join('\n') + '\n';
}
