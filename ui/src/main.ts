// The playground page: wires the editor, the document list, validation as you type, the
// panels and the credential together. Entry point of the bundle (scripts/build-ui.mjs).

import { ApiError, adminToken, setAdminToken, whenUnauthorized } from './api.js';
import { byId, fill, h } from './dom.js';
import { Documents } from './documents.js';
import { Editor, errorText } from './editor.js';
import { Panels } from './panels.js';
import { DirectoryPanel } from './directory.js';
import { AuthzenPanel } from './authzen.js';
import { HistoryPanel } from './history.js';
import type { ValidateResult } from './types.js';

let docs: Documents;
let panels: Panels;

const editor = new Editor(byId('editor'), {
  onChange: () => {
    fill(byId('validation-status'), h('span', { class: 'muted' }, 'checking…'));
    updateTitle();
    panels.markStale();
  },
  onSave: () => void docs.save(),
  onValidated: showValidation,
});
docs = new Documents(editor);
panels = new Panels(editor, docs);
new DirectoryPanel();
new AuthzenPanel();
const history = new HistoryPanel(docs);
panels.onSelect = (tab) => {
  if (tab === 'history') history.shown();
};
docs.onSwitch = () => {
  updateTitle();
  panels.refreshButtons();
  if (!byId('panel-history').hidden) history.shown();
};

function updateTitle(): void {
  const d = docs.current;
  fill(byId('doc-title'), d ? (d.key ?? 'New document (not saved)') : 'No document');
  byId('dirty').hidden = !docs.dirty();
  fill(byId('save-target'), d ? saveTarget() : '');
  byId<HTMLButtonElement>('save').disabled = !d;
}

function saveTarget(): string {
  const d = docs.current!;
  return d.key ? `${d.format.toUpperCase()} · stored` : `${d.format.toUpperCase()} · not stored yet`;
}

function showValidation(result: ValidateResult | ApiError, text: string): void {
  if (text !== editor.text()) return;
  const status = byId('validation-status');
  const list = byId('errors');
  if (result instanceof ApiError) {
    fill(status, h('span', { class: 'error-text' }, `Could not validate: ${result.code} ${result.message}`));
    fill(list);
    return;
  }
  if (result.valid) {
    fill(status, h('span', { class: 'ok-text', testid: 'valid' }, `✓ valid (${result.documents} document${result.documents === 1 ? '' : 's'})`));
  } else {
    fill(status, h('span', { class: 'error-text', testid: 'invalid' }, `✗ ${result.errors.length} error${result.errors.length === 1 ? '' : 's'}`));
  }
  fill(list,
    result.errors.map((e) => h('li', { class: 'error-item', testid: 'error-item', attrs: { 'data-line': e.line } },
      h('button', { class: 'link', attrs: { type: 'button' }, on: { click: () => editor.gotoLine(e.line ?? 1, e.column ?? 1) } },
        e.line ? `line ${e.line}${e.column ? `:${e.column}` : ''}` : 'document'),
      ' ', errorText(e))),
    result.warnings.map((w) => h('li', { class: 'warning-item', testid: 'warning-item' }, h('span', { class: 'badge warn' }, 'warning'), ' ', w.path ? `${w.path}: ${w.message}` : w.message)),
  );
}

// The credential (admin token, scoped token or JWT): asked for when the server answers 401, kept for this tab only.
function showTokenBar(message: string): void {
  byId('token-bar').hidden = false;
  byId('token-toggle').hidden = true;
  fill(byId('token-message'), message);
  byId<HTMLInputElement>('token-input').focus();
}
whenUnauthorized(() => showTokenBar('This server needs a credential for that:'));
byId('token-toggle').addEventListener('click', () => showTokenBar(adminToken() ? 'A token is set for this tab.' : ''));
byId('token-save').addEventListener('click', () => {
  const input = byId<HTMLInputElement>('token-input');
  setAdminToken(input.value.trim() || null);
  input.value = '';
  byId('token-bar').hidden = true;
  byId('token-toggle').hidden = false;
  editor.revalidate();
  void docs.refresh();
});
byId('token-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') byId('token-save').click();
});
byId('token-forget').addEventListener('click', () => {
  setAdminToken(null);
  fill(byId('token-message'), 'Token forgotten.');
});

window.addEventListener('beforeunload', (e) => {
  if (docs.dirty()) e.preventDefault();
});

updateTitle();
panels.refreshButtons();
void docs.start();
