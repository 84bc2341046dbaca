// JUnit XML for CI systems: a <testsuite> per suite, a <testcase> per case; a failing
// case carries its diff and trace, a suite that could not be loaded one <error>.

import { formatCaseFailure, formatProblem } from './report.js';
import type { RunResult } from './types.js';

function xml(s: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the rest escaped.
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function toJUnit(run: RunResult): string {
  const c = run.counts;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="policy-engine" tests="${c.cases + c.broken}" failures="${c.failed}" errors="${c.broken}" time="${seconds(run.durationMs)}">`,
  ];
  for (const s of run.suites) {
    const file = s.file !== undefined ? ` file="${xml(s.file)}"` : '';
    if (s.problems) {
      out.push(`  <testsuite name="${xml(s.name)}" tests="1" failures="0" errors="1" time="0.000"${file}>`);
      out.push(`    <testcase name="(load suite)" classname="${xml(s.name)}" time="0.000">`);
      out.push(`      <error message="the suite could not be loaded">${xml(s.problems.map(formatProblem).join('\n'))}</error>`);
      out.push('    </testcase>', '  </testsuite>');
      continue;
    }
    out.push(`  <testsuite name="${xml(s.name)}" tests="${s.cases.length}" failures="${s.counts.failed}" errors="0" time="${seconds(s.durationMs)}"${file}>`);
    for (const k of s.cases) {
      const open = `    <testcase name="${xml(k.name)}" classname="${xml(s.name)}" time="${seconds(k.durationMs)}"`;
      if (k.passed) {
        out.push(`${open}/>`);
        continue;
      }
      const first = (k.diff ?? [])[0] ?? 'expectation not met';
      out.push(`${open}>`, `      <failure message="${xml(`unmet: ${first.replace(/:$/, '')}`)}">${xml(formatCaseFailure(k).join('\n'))}</failure>`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
