// The History tab (issue 21): the recorded versions of the open document
// (GET /v1/policies/:key/history: who, when, the revision, a diff from the version
// before), a page at a time, and rolling back to one (POST /v1/policies/:key/rollback
// with If-Match of the version this page holds: a 412 is reported like a concurrent
// save, never forced).

import { ApiError, policyHistory, rollback, type HistoryEntry } from './api.js';
import { byId, fill, h } from './dom.js';
import type { Documents } from './documents.js';
import { errorView } from './render.js';

/** A unified diff as lines, each a text node in a span classed by its first character. */
function diffView(diff: string): HTMLElement {
  return h('pre', { class: 'diff history-diff', testid: 'history-diff' },
    diff.split('\n').map((line) => {
      const cls = line.startsWith('+++') || line.startsWith('---') ? 'diff-file' : line.startsWith('+') ? 'diff-add' : line.startsWith('-') ? 'diff-del' : line.startsWith('@@') ? 'diff-hunk' : '';
      return h('span', { class: `diff-line ${cls}`.trim() }, line);
    }));
}

export class HistoryPanel {
  private cursor: string | null = null;
  /** the latest load: an answer to an older one is dropped */
  private seq = 0;

  constructor(private readonly docs: Documents) {
    byId('history-load').addEventListener('click', () => void this.load(false));
    byId('history-more').addEventListener('click', () => void this.load(true));
  }

  /** Shown, or the open document (or its stored version) changed while shown: list its history again. */
  shown(): void {
    void this.load(false);
  }

  private async load(more: boolean): Promise<void> {
    const list = byId('history-list');
    const status = byId('history-status');
    const moreButton = byId<HTMLButtonElement>('history-more');
    const key = this.docs.current?.key ?? null;
    const mine = ++this.seq;
    if (!more) {
      fill(list);
      this.cursor = null;
      moreButton.hidden = true;
    }
    if (!key) {
      fill(status, h('span', { class: 'muted', testid: 'history-none' }, 'This document is not stored yet: it has no history.'));
      return;
    }
    fill(status, h('span', { class: 'muted' }, `Loading the history of ${key}…`));
    try {
      const page = await policyHistory(key, more ? this.cursor ?? undefined : undefined);
      if (mine !== this.seq) return;
      for (const e of page.entries) list.append(this.entryView(key, e));
      this.cursor = page.cursor;
      moreButton.hidden = page.cursor === null;
      fill(status, list.childElementCount === 0
        ? h('span', { class: 'muted', testid: 'history-empty' }, `No recorded change of ${key}.`)
        : h('span', { class: 'muted small' }, `${key}: ${list.childElementCount} version${list.childElementCount === 1 ? '' : 's'}, newest first`));
    } catch (err) {
      if (mine === this.seq) fill(status, errorView(err, 'history-error'));
    }
  }

  private entryView(key: string, e: HistoryEntry): HTMLElement {
    const current = this.docs.current;
    const isCurrent = e.after !== null && current?.key === key && e.after.etag === current.etag;
    return h('li', { class: 'history-entry', testid: 'history-entry', attrs: { 'data-revision': e.revision } },
      h('div', { class: 'history-head' },
        h('span', { class: e.op === 'delete' ? 'badge bad' : 'badge' }, e.op === 'delete' ? 'deleted' : e.before === null ? 'created' : 'changed'),
        ' ', h('strong', { testid: 'history-actor' }, e.actor),
        ' ', h('span', { class: 'muted small' }, `${e.at} · revision ${e.revision}`),
        isCurrent ? h('span', { class: 'badge ok', testid: 'history-current' }, 'open in the editor') : null,
        h('span', { class: 'spacer' }),
        isCurrent ? null : h('button', {
          testid: 'history-rollback', attrs: { type: 'button', title: e.op === 'delete' ? 'Delete the document again' : 'Write this version again' },
          on: { click: (ev) => void this.rollback(key, e, ev.currentTarget as HTMLButtonElement) },
        }, e.op === 'delete' ? 'Roll back to this (deletes it)' : 'Roll back to this version')),
      e.diff !== null ? diffView(e.diff) : h('div', { class: 'muted small' }, e.diffTruncated ? 'The diff is too large to show.' : 'No diff.'),
    );
  }

  private async rollback(key: string, e: HistoryEntry, button: HTMLButtonElement): Promise<void> {
    const d = this.docs.current;
    if (!d || d.key !== key || !d.etag) return;
    button.disabled = true;
    try {
      const r = await rollback(key, e.revision, d.etag);
      if (r.deleted) {
        this.docs.banner(h('div', { class: 'banner ok', testid: 'rolled-back' }, `Rolled ${key} back to revision ${r.restored}: it is deleted. Your text stays in the editor; Save creates it again.`));
        Object.assign(d, { key: null, etag: null });
        this.docs.onSwitch();
      } else {
        await this.docs.loadTheirs(key, h('div', { class: 'banner ok', testid: 'rolled-back' },
          `Rolled ${key} back to revision ${r.restored} (now revision ${r.revision}). The editor holds it; Ctrl-Z brings your text back.`));
      }
      await this.docs.refresh();
      await this.load(false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) this.docs.banner(this.conflict(key));
      else this.docs.banner(errorView(err, 'rollback-error'));
    } finally {
      button.disabled = false;
    }
  }

  private conflict(key: string): HTMLElement {
    return h('div', { class: 'banner bad', testid: 'rollback-conflict', attrs: { role: 'alert' } },
      h('strong', {}, 'Not rolled back: '), `“${key}” was changed by someone else since you opened it. Nothing was written. `,
      h('button', { testid: 'rollback-conflict-reload', attrs: { type: 'button' }, on: { click: () => void this.docs.loadTheirs(key).then(() => this.load(false)) } }, 'Load their version'),
      h('div', { class: 'muted small' }, 'Load their version, look at the history again, then roll back.'),
    );
  }
}
