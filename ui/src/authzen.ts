// The AuthZEN tab (issue 19): compose an AuthZEN 1.0 Access Evaluation (subject,
// resource, action, context as JSON), send it to POST /access/v1/evaluation — or, with
// a list of evaluations, to /access/v1/evaluations with a semantic — and show each
// decision with its reason. It asks the stored policies (the draft is not involved).

import { authzen } from './api.js';
import { byId, fill, h, jsonField } from './dom.js';
import { errorView } from './render.js';

function evaluationsList(): Record<string, unknown>[] | undefined {
  const text = byId<HTMLTextAreaElement>('authzen-evaluations').value.trim();
  if (!text) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`Evaluations is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) throw new Error('Evaluations must be a JSON array of objects');
  return v as Record<string, unknown>[];
}

function decisionView(d: unknown, testid: string): HTMLElement {
  const o = (typeof d === 'object' && d !== null ? d : {}) as { decision?: unknown; context?: unknown };
  const allowed = o.decision === true;
  return h('div', { class: 'authzen-decision', testid },
    h('span', { class: allowed ? 'badge ok' : 'badge bad', testid: 'authzen-verdict' }, allowed ? 'allowed' : 'denied'),
    o.context !== undefined ? h('pre', { class: 'entity-json', testid: 'authzen-context' }, JSON.stringify(o.context, null, 2)) : null);
}

export class AuthzenPanel {
  constructor() {
    byId('authzen-run').addEventListener('click', () => void this.run());
  }

  private async run(): Promise<void> {
    const button = byId<HTMLButtonElement>('authzen-run');
    const out = byId('authzen-result');
    button.disabled = true;
    out.setAttribute('aria-busy', 'true');
    fill(out, h('div', { class: 'muted' }, 'Asking…'));
    try {
      const evaluations = evaluationsList();
      const batch = evaluations !== undefined;
      // In a batch the top-level fields are the defaults each evaluation overrides.
      const body: Record<string, unknown> = {};
      const fields = [['subject', 'authzen-subject', 'Subject'], ['resource', 'authzen-resource', 'Resource'], ['action', 'authzen-action', 'Action'], ['context', 'authzen-context-input', 'Context']] as const;
      for (const [name, id, label] of fields) {
        const v = jsonField(id, label, !batch && name !== 'context');
        if (v) body[name] = v;
      }
      if (batch) {
        body.evaluations = evaluations;
        body.options = { evaluations_semantic: byId<HTMLSelectElement>('authzen-semantic').value };
      }
      const answer = await authzen(batch, body);
      const results = batch ? (Array.isArray(answer.body.evaluations) ? answer.body.evaluations : []) : [answer.body];
      fill(out, h('div', { testid: 'authzen-answer' },
        h('p', { class: 'muted small' }, `POST ${batch ? '/access/v1/evaluations' : '/access/v1/evaluation'}`, answer.decisionId ? ` · decision ${answer.decisionId}` : ''),
        batch
          ? h('ol', { class: 'authzen-batch' }, results.map((r, i) => h('li', { testid: 'authzen-item' }, h('span', { class: 'muted small' }, `#${i + 1} `), decisionView(r, 'authzen-result-item'))))
          : decisionView(answer.body, 'authzen-result-item'),
        batch && results.length < (evaluations?.length ?? 0) ? h('p', { class: 'muted small', testid: 'authzen-short' }, `${results.length} of ${evaluations!.length} evaluated: the semantic stopped the batch.`) : null,
        h('details', { class: 'before-trace' }, h('summary', {}, 'Request and response'),
          h('pre', { class: 'entity-json', testid: 'authzen-request' }, JSON.stringify(body, null, 2)),
          h('pre', { class: 'entity-json', testid: 'authzen-response' }, JSON.stringify(answer.body, null, 2))),
      ));
    } catch (err) {
      fill(out, errorView(err, 'authzen-error'));
    } finally {
      out.removeAttribute('aria-busy');
      button.disabled = false;
    }
  }
}
