// The "Which resources" tab (issue 18): the query plan (SPEC §11) for a subject, a
// namespace path and a permission, under the stored documents and with the draft in
// place, side by side. The draft is not stored, so the plan comes from POST /v1/preview
// with `plans`; nothing is written.

import { h, type Child } from './dom.js';
import type { PlanAnswer } from './types.js';

const SYMBOL: Record<string, string> = { eq: '=', ne: '≠', lt: '<', le: '≤', gt: '>', ge: '≥', in: 'in', contains: 'contains', exists: 'exists' };

/** A filter as a line a person reads: `attributes.status = "published" OR …`; values as JSON text. */
export function filterText(f: unknown, top = true): string {
  if (f === true) return 'every row';
  if (f === false) return 'no row';
  if (typeof f !== 'object' || f === null) return JSON.stringify(f);
  const node = f as { and?: unknown[]; or?: unknown[]; not?: unknown; op?: string; field?: string; value?: unknown };
  const group = (list: unknown[], word: string) => {
    const text = list.map((x) => filterText(x, false)).join(` ${word} `);
    return top ? text : `(${text})`;
  };
  if (Array.isArray(node.and)) return group(node.and, 'AND');
  if (Array.isArray(node.or)) return group(node.or, 'OR');
  if ('not' in node) return `NOT ${filterText(node.not, false)}`;
  if (node.op === 'exists') return `${node.field} exists`;
  return `${node.field} ${SYMBOL[node.op ?? ''] ?? node.op} ${JSON.stringify(node.value)}`;
}

function kindBadge(p: PlanAnswer): HTMLElement {
  const cls = p.kind === 'always' ? 'badge ok' : p.kind === 'never' ? 'badge bad' : 'badge';
  return h('span', { class: cls, testid: 'plan-kind' }, p.kind ?? '?');
}

/** One state's plan: kind, exactness, the filter and both translations, or its error. */
export function planView(p: PlanAnswer | undefined, testid: string): HTMLElement {
  if (!p) return h('div', { class: 'muted', testid }, '—');
  if (p.error !== undefined) {
    return h('div', { class: 'plan', testid },
      h('div', { class: 'error-text', testid: 'plan-error' }, h('strong', {}, p.error), ' ', p.message ?? ''));
  }
  const rows: Child[] = [
    h('div', {}, kindBadge(p), ' ',
      p.exact ? h('span', { class: 'badge ok', testid: 'plan-exact' }, 'exact') : h('span', { class: 'badge warn', testid: 'plan-exact' }, 'not exact: re-check rows'),
      p.default ? h('span', { class: 'muted small' }, ' the default answer') : null),
    h('div', { class: 'plan-filter', testid: 'plan-filter' }, filterText(p.filter)),
    p.recheck && p.recheck.length
      ? h('div', { testid: 'plan-recheck' }, h('span', { class: 'label' }, 'recheck '),
        h('ul', {}, p.recheck.map((r) => h('li', {}, h('code', {}, `${r.document} › ${r.rule}`), r.reason ? h('span', { class: 'muted small' }, ` ${r.reason}`) : null))))
      : null,
    h('details', { class: 'plan-translations' },
      h('summary', {}, 'MongoDB and PostgreSQL'),
      h('div', { class: 'label' }, 'mongo find()'),
      h('pre', { class: 'plan-code', testid: 'plan-mongo' }, JSON.stringify(p.mongo, null, 2)),
      h('div', { class: 'label' }, 'SQL WHERE'),
      h('pre', { class: 'plan-code', testid: 'plan-sql' }, p.sql?.where ?? ''),
      h('pre', { class: 'plan-code muted', testid: 'plan-params' }, `params ${JSON.stringify(p.sql?.params ?? [])}`),
      h('div', { class: 'label' }, 'filter (AST)'),
      h('pre', { class: 'plan-code', testid: 'plan-ast' }, JSON.stringify(p.filter, null, 2))),
    p.revision ? h('div', { class: 'muted small' }, `revision ${p.revision}${p.stale ? ' (stale)' : ''}`) : null,
  ];
  return h('div', { class: 'plan', testid }, rows);
}
