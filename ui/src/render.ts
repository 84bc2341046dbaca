// Renderers shared by the panels: subjects, answers, explain traces, test results and
// API errors. Everything is built with h(), so values are always text.

import { ApiError } from './api.js';
import { errorText } from './editor.js';
import { h, patterns, type Child } from './dom.js';
import type { Answer, DocumentError, DocumentTrace, RuleTrace, SampleDiff, Subject, SuiteResult } from './types.js';

export function subjectLabel(s: Subject): string {
  if (typeof s === 'string') return s;
  const extra = [...(s.roles ?? []).map((r) => `role:${r}`), ...(s.groups ?? []).map((g) => `group:${g}`)];
  return extra.length ? `${s.id} (${extra.join(', ')})` : s.id;
}

export function answerView(a: Answer | undefined, testid: string): HTMLElement {
  if (!a) return h('div', { class: 'muted', testid }, '—');
  if (a.error) return h('div', { class: 'answer error-text', testid }, `error: ${a.error}`);
  return h('div', { class: 'answer', testid },
    h('div', {}, h('span', { class: 'label' }, 'permissions '), patterns(a.permissions)),
    a.denied && a.denied.length ? h('div', {}, h('span', { class: 'label' }, 'denied '), patterns(a.denied, 'denied')) : null,
    a.default ? h('div', { class: 'muted' }, 'the default answer: no document on this path') : null,
    a.checks ? Object.entries(a.checks).map(([perm, ok]) => h('div', { testid: 'answer-check' }, h('code', {}, perm), ' ', allowed(ok))) : null,
  );
}

function outcome(o: { value?: boolean; error?: string } | undefined): Child {
  if (!o) return null;
  if (o.error !== undefined) return h('span', { class: 'error-text' }, `error: ${o.error}`);
  return h('code', {}, String(o.value));
}

function ruleView(r: RuleTrace): HTMLElement {
  const why = r.applied ? 'applied' : !r.subjectMatched ? 'subject not matched' : r.condition?.error !== undefined ? 'condition failed' : 'condition false';
  const effects = r.effects ?? {};
  return h('li', { class: r.applied ? 'rule applied' : 'rule', testid: 'trace-rule', attrs: { 'data-applied': String(r.applied) } },
    h('details', { attrs: { open: r.applied } },
      h('summary', {}, h('span', { class: 'rule-name' }, r.rule), ' ', h('span', { class: r.applied ? 'badge ok' : 'badge' }, why)),
      h('dl', { class: 'effects' },
        (['grant', 'revoke', 'deny'] as const).map((k) => effects[k] && effects[k]!.length ? [h('dt', {}, k), h('dd', {}, patterns(effects[k], k))] : null),
        r.condition ? [h('dt', {}, 'when'), h('dd', {}, outcome(r.condition))] : null,
        r.messageKey ? [h('dt', {}, 'message'), h('dd', {}, h('code', {}, r.messageKey))] : null,
      ),
    ),
  );
}

/** The explain trace as a tree of <details>: documents, then their predicates and rules. */
export function traceTree(trace: DocumentTrace[] | undefined, testid: string): HTMLElement {
  if (!trace || trace.length === 0) return h('div', { class: 'muted', testid }, 'no document ran on this path');
  return h('ul', { class: 'trace', testid },
    trace.map((d) => {
      const applied = d.rules.filter((r) => r.applied).length;
      return h('li', { testid: 'trace-document' },
        h('details', { attrs: { open: true } },
          h('summary', {},
            h('span', { class: 'doc-name' }, d.document), ' ', h('span', { class: 'muted' }, d.namespace),
            d.disabled ? h('span', { class: 'badge warn' }, 'disabled') : null,
            ' ', h('span', { class: 'muted' }, `${applied}/${d.rules.length} rules applied`)),
          d.predicates && Object.keys(d.predicates).length
            ? h('ul', { class: 'predicates' }, Object.entries(d.predicates).map(([name, o]) => h('li', {}, h('code', {}, name), ' = ', outcome(o))))
            : null,
          h('ul', { class: 'rules' }, d.rules.map(ruleView)),
        ),
      );
    }),
  );
}

/** What changes between two answers: permissions gained and lost, denials added and lifted. */
export function gainedLost(s: SampleDiff): Child {
  const row = (list: string[] | undefined, label: string, cls: string) =>
    list && list.length ? h('div', {}, h('span', { class: `label ${cls}` }, `${label} `), patterns(list, cls)) : null;
  return [
    row(s.gained, '+', 'gained'),
    row(s.lost, '−', 'lost'),
    row(s.deniedAdded, 'now denied', 'lost'),
    row(s.deniedRemoved, 'no longer denied', 'gained'),
    s.before?.error !== s.after?.error ? h('div', { class: 'muted small' }, `error: ${s.before?.error ?? 'none'} → ${s.after?.error ?? 'none'}`) : null,
  ];
}

export function checksView(checks: SampleDiff['checks']): Child {
  if (!checks) return null;
  return h('ul', { class: 'checks' }, Object.entries(checks).map(([perm, c]) =>
    h('li', { testid: 'check-result' }, h('code', {}, perm), ' ', allowed(c.before), ' → ', allowed(c.after))));
}

function allowed(v: boolean): HTMLElement {
  return h('span', { class: v ? 'badge ok' : 'badge bad' }, v ? 'allowed' : 'denied');
}

export function suiteView(s: SuiteResult): HTMLElement {
  const counts = s.counts ?? { passed: s.cases.filter((c) => c.passed).length, failed: s.cases.filter((c) => !c.passed).length };
  return h('details', { class: 'suite', testid: 'suite', attrs: { open: !s.passed } },
    h('summary', {}, h('span', { class: s.passed ? 'badge ok' : 'badge bad' }, s.passed ? 'pass' : 'fail'), ' ', h('span', { class: 'doc-name' }, s.name), ' ',
      h('span', { class: 'muted' }, `${counts.passed} passed, ${counts.failed} failed`)),
    h('ul', { class: 'cases' }, s.cases.map((c) => h('li', { class: c.passed ? 'case' : 'case failed', testid: 'case' },
      h('span', { class: c.passed ? 'badge ok' : 'badge bad' }, c.passed ? '✓' : '✗'), ' ', c.name,
      c.diff && c.diff.length ? h('pre', { class: 'diff' }, c.diff.join('\n')) : null))),
  );
}

/** An API failure, with the documents' errors when the server listed them. */
export function errorView(err: unknown, testid = 'api-error'): HTMLElement {
  if (!(err instanceof ApiError)) return h('div', { class: 'banner bad', testid }, String(err));
  const details = Array.isArray(err.details) ? (err.details as DocumentError[]).filter((d) => d && typeof d.message === 'string') : [];
  return h('div', { class: 'banner bad', testid },
    h('strong', {}, err.code), ' ', err.message,
    details.length ? h('ul', {}, details.map((d) => h('li', {}, d.document ? `${d.document}: ` : '', d.line ? `line ${d.line}: ` : '', errorText(d)))) : null,
  );
}
