// The right-hand panels: try one request, run the test suites, preview the impact on
// recorded requests. Each sends the draft to POST /v1/preview; nothing is stored.

import { preview } from './api.js';
import { byId, fill, h, jsonField, patterns } from './dom.js';
import type { Documents } from './documents.js';
import type { Editor } from './editor.js';
import { answerView, checksView, errorView, gainedLost, subjectLabel, suiteView, traceTree } from './render.js';
import { planView } from './plans.js';
import type { PlanRequest, PreviewBody, PreviewRequest, PreviewResult } from './types.js';

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function value(id: string): string {
  return byId<HTMLInputElement>(id).value.trim();
}

function tryRequest(): { request: PreviewRequest; now?: string } {
  const id = value('try-subject');
  if (!id) throw new Error('the subject needs an id');
  const roles = list(value('try-roles'));
  const groups = list(value('try-groups'));
  const attributes = jsonField('try-attributes', 'Subject attributes');
  const subject = roles.length || groups.length || attributes ? { id, roles, groups, ...(attributes ? { attributes } : {}) } : id;
  const request: PreviewRequest = { subject, namespace: value('try-namespace') };
  const resource = jsonField('try-resource', 'Resource');
  const context = jsonField('try-context', 'Context');
  if (resource) request.resource = resource;
  if (context) request.context = context;
  if (value('try-permission')) request.permission = value('try-permission');
  const now = value('try-now');
  return now ? { request, now } : { request };
}

function planRequest(): PlanRequest {
  const id = value('plan-subject');
  if (!id) throw new Error('the subject needs an id');
  const roles = list(value('plan-roles'));
  const attributes = jsonField('plan-attributes', 'Subject attributes');
  const subject = roles.length || attributes ? { id, roles, ...(attributes ? { attributes } : {}) } : id;
  const permission = value('plan-permission');
  const type = value('plan-type');
  if (!permission) throw new Error('name the permission: document:read');
  if (!type) throw new Error('name the resource type: document');
  const request: PlanRequest = { subject, namespace: value('plan-namespace'), permission, resource: { type } };
  const context = jsonField('plan-context', 'Context');
  const fields = jsonField('plan-fields', 'Field mapping');
  if (context) request.context = context;
  if (fields) request.fields = fields as PlanRequest['fields'];
  if (byId<HTMLInputElement>('plan-partial').checked) request.allowPartial = true;
  return request;
}

function changesView(r: PreviewResult): HTMLElement {
  return h('div', { class: 'changes muted small', testid: 'changes' },
    r.changes.map((c) => h('span', { class: `change ${c.action}` }, `${c.action} ${c.key}`)),
    r.complete ? null : h('div', { class: 'banner warn', testid: 'incomplete' }, 'The preview ran out of time: these results cover only part of the recorded requests.'),
  );
}

const TABS = ['try', 'tests', 'impact', 'plans', 'authzen', 'history', 'directory'];

export class Panels {
  constructor(private readonly editor: Editor, private readonly docs: Documents) {
    for (const tab of TABS) byId(`tab-${tab}`).addEventListener('click', () => this.select(tab));
    byId('try-run').addEventListener('click', () => void this.run('try-run', 'try-result', () => this.tryIt()));
    byId('tests-run').addEventListener('click', () => void this.run('tests-run', 'tests-result', () => this.tests()));
    byId('impact-run').addEventListener('click', () => void this.run('impact-run', 'impact-result', () => this.impact(false)));
    byId('impact-delete').addEventListener('click', () => void this.run('impact-delete', 'impact-result', () => this.impact(true)));
    byId('plan-run').addEventListener('click', () => void this.run('plan-run', 'plan-result', () => this.plan()));
  }

  /** called with the tab's name whenever one is selected */
  onSelect: (tab: string) => void = () => {};

  select(tab: string): void {
    for (const t of TABS) {
      byId(`tab-${t}`).setAttribute('aria-selected', String(t === tab));
      byId(`panel-${t}`).hidden = t !== tab;
    }
    this.onSelect(tab);
  }

  /** Results describe the draft they ran with: mark them once it changes. */
  markStale(): void {
    for (const id of ['try-result', 'tests-result', 'impact-result', 'plan-result']) {
      const el = byId(id);
      if (el.childElementCount && !el.classList.contains('stale')) el.classList.add('stale');
    }
  }

  refreshButtons(): void {
    byId<HTMLButtonElement>('impact-delete').disabled = !this.docs.current?.key;
  }

  private async run(buttonId: string, outId: string, produce: () => Promise<HTMLElement>): Promise<void> {
    const button = byId<HTMLButtonElement>(buttonId);
    const out = byId(outId);
    button.disabled = true;
    out.classList.remove('stale');
    out.setAttribute('aria-busy', 'true');
    fill(out, h('div', { class: 'muted' }, 'Running…'));
    try {
      fill(out, await produce());
    } catch (err) {
      fill(out, errorView(err));
    } finally {
      out.removeAttribute('aria-busy');
      button.disabled = false;
      this.refreshButtons();
    }
  }

  private draftBody(): PreviewBody {
    if (!this.docs.current) throw new Error('open or create a document first');
    return { put: [this.editor.text()] };
  }

  private async tryIt(): Promise<HTMLElement> {
    const { request, now } = tryRequest();
    const r = await preview({ ...this.draftBody(), requests: [request], explain: true, samples: false, tests: false, ...(now ? { now } : {}) });
    const a = r.requests?.[0];
    if (!a) return h('div', { class: 'muted' }, 'The server returned no answer for the request.');
    return h('div', { testid: 'try-answer' },
      changesView(r),
      h('table', { class: 'before-after' },
        h('thead', {}, h('tr', {}, h('th', {}, 'stored'), h('th', {}, 'with the draft'))),
        h('tbody', {}, h('tr', {}, h('td', {}, answerView(a.before, 'answer-before')), h('td', {}, answerView(a.after, 'answer-after'))))),
      h('div', { class: 'delta', testid: 'try-delta' }, a.changed === false ? h('span', { class: 'muted' }, 'The draft does not change this answer.') : [gainedLost(a), checksView(a.checks)]),
      h('h3', {}, 'Trace with the draft'),
      traceTree(a.after.trace, 'trace-after'),
      h('details', { class: 'before-trace' }, h('summary', {}, 'Trace with the stored documents'), traceTree(a.before.trace, 'trace-before')),
    );
  }

  private async plan(): Promise<HTMLElement> {
    const request = planRequest();
    const r = await preview({ ...this.draftBody(), samples: false, tests: false, plans: [request] });
    const p = r.plans?.[0];
    if (!p) return h('div', { class: 'muted' }, 'The server returned no plan.');
    return h('div', { testid: 'plan-answer' },
      changesView(r),
      h('div', { class: 'delta', testid: 'plan-changed', attrs: { 'data-changed': String(p.changed) } },
        p.changed ? h('span', { class: 'badge warn' }, 'The draft changes which resources this plan selects.')
          : h('span', { class: 'muted' }, 'The draft does not change this plan.')),
      h('table', { class: 'before-after' },
        h('thead', {}, h('tr', {}, h('th', {}, 'stored'), h('th', {}, 'with the draft'))),
        h('tbody', {}, h('tr', {}, h('td', {}, planView(p.before, 'plan-before')), h('td', {}, planView(p.after, 'plan-after'))))),
    );
  }

  private async tests(): Promise<HTMLElement> {
    const r = await preview({ ...this.draftBody(), samples: false, tests: true });
    const suites = r.tests?.suites ?? [];
    const s = r.summary;
    return h('div', { testid: 'tests-answer' },
      changesView(r),
      h('p', { testid: 'tests-summary' },
        s.testsAfter ? `${s.testsAfter.passed} passed, ${s.testsAfter.failed} failed with the draft` : '',
        s.testsBefore ? ` (stored: ${s.testsBefore.passed} passed, ${s.testsBefore.failed} failed)` : ''),
      this.brokenFixed(r),
      suites.length ? suites.map(suiteView) : h('p', { class: 'muted' }, 'No test suite is stored. A suite is a document of kind `tests`: see docs/playground.md.'),
    );
  }

  private brokenFixed(r: PreviewResult): HTMLElement | null {
    const broken = r.tests?.broken ?? [];
    const fixed = r.tests?.fixed ?? [];
    if (!broken.length && !fixed.length) return null;
    return h('div', {},
      broken.length ? h('div', { class: 'banner bad', testid: 'tests-broken' }, h('strong', {}, `${broken.length} test case${broken.length === 1 ? '' : 's'} would break`),
        h('ul', {}, broken.map((b) => h('li', {}, `${b.suite} › ${b.case}`, b.diff?.length ? h('pre', { class: 'diff' }, b.diff.join('\n')) : null)))) : null,
      fixed.length ? h('div', { class: 'banner ok', testid: 'tests-fixed' }, h('strong', {}, `${fixed.length} failing case${fixed.length === 1 ? '' : 's'} would pass`),
        h('ul', {}, fixed.map((f) => h('li', {}, `${f.suite} › ${f.case}`)))) : null,
    );
  }

  private async impact(remove: boolean): Promise<HTMLElement> {
    const key = this.docs.current?.key;
    if (remove && !key) throw new Error('this document is not stored yet');
    const body: PreviewBody = remove && key ? { delete: [key] } : this.draftBody();
    const r = await preview({ ...body, samples: true, tests: true });
    const s = r.summary;
    const samples = r.samples ?? [];
    const count = (label: string, n: number | undefined, testid: string, cls = '') =>
      h('div', { class: `count ${cls}`.trim(), testid }, h('span', { class: 'n' }, String(n ?? 0)), h('span', { class: 'muted small' }, label));
    return h('div', { testid: 'impact-answer' },
      changesView(r),
      r.stale ? h('div', { class: 'banner warn' }, 'This server has not synced with its store lately: the stored state may be behind.') : null,
      h('div', { class: 'counts', testid: 'impact-summary' },
        count('requests replayed', s.evaluated, 'impact-evaluated'),
        count('answers change', s.changed, 'impact-changed', s.changed ? 'warn' : ''),
        count('gain permissions', s.gained, 'impact-gained', s.gained ? 'gained' : ''),
        count('lose permissions', s.lost, 'impact-lost', s.lost ? 'lost' : ''),
        count('newly denied', s.restricted, 'impact-restricted', s.restricted ? 'lost' : ''),
        count('tests break', s.testsBroken, 'impact-tests-broken', s.testsBroken ? 'lost' : ''),
      ),
      s.samples === 0 ? h('p', { class: 'muted', testid: 'no-samples' }, 'No requests are recorded yet: the server keeps a sample of the evaluate and check requests it answers.') : null,
      samples.length ? h('table', { class: 'samples', testid: 'impact-samples' },
        h('thead', {}, h('tr', {}, h('th', {}, 'subject'), h('th', {}, 'namespace path'), h('th', {}, 'change'))),
        h('tbody', {}, samples.map((x) => h('tr', { testid: 'impact-sample' },
          h('td', {}, subjectLabel(x.subject), x.endpoint === 'check' ? h('div', { class: 'muted small' }, 'check ', patterns(x.permissions)) : null),
          h('td', {}, h('code', {}, x.namespace)),
          h('td', {}, gainedLost(x), checksView(x.checks)))))) : null,
      samples.length && s.changed && samples.length < s.changed ? h('p', { class: 'muted small' }, `Showing ${samples.length} of ${s.changed} changed answers.`) : null,
      this.brokenFixed(r),
      h('p', { class: 'muted small' }, `Evaluated at ${r.now ?? 'now'}${r.durationMs !== undefined ? ` in ${r.durationMs.toFixed(1)} ms` : ''}.`),
    );
  }
}
