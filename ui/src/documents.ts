// The documents: the stored list, the open drafts (one editor state each, kept while the
// page is open, so switching documents never loses an edit), and saving with If-Match so
// a concurrent edit is reported, never overwritten silently.

import type { EditorState } from '@codemirror/state';
import { ApiError, getPolicy, listPolicies, putPolicy, type Precondition } from './api.js';
import { byId, fill, h } from './dom.js';
import type { Editor } from './editor.js';
import { errorView } from './render.js';
import type { Format, PolicyItem } from './types.js';

export interface Draft {
  id: string;
  /** the stored document this draft edits; null for a new one */
  key: string | null;
  format: Format;
  /** the version it was opened at (If-Match), null when new */
  etag: string | null;
  /** the text as stored (or as created): the draft is modified when it differs */
  base: string;
  state: EditorState;
}

const TEMPLATE = `# A new policy document. Its namespace is the part of the key before the first "-".
key: org-example
ordinal: 50
description: What this document is for
rules:
  - id: viewers-read
    subjects: ["role:viewer"]
    grant: ["document:read"]
`;

/** The key a draft would be saved under: its top-level `key`. */
export function keyOf(text: string, format: Format): string | undefined {
  if (format === 'json') {
    try {
      const doc = JSON.parse(text) as { key?: unknown };
      return typeof doc.key === 'string' ? doc.key : undefined;
    } catch {
      return undefined;
    }
  }
  const m = /^key:[ \t]*(["']?)([A-Za-z0-9_.:-]+)\1[ \t]*(#.*)?$/m.exec(text);
  return m?.[2];
}

export class Documents {
  private items: PolicyItem[] = [];
  private readonly drafts = new Map<string, Draft>();
  private newCount = 0;
  current: Draft | undefined;
  /** called whenever the open draft or its stored version changes */
  onSwitch: () => void = () => {};

  constructor(private readonly editor: Editor) {
    byId('new-doc').addEventListener('click', () => this.create());
    byId('reload-list').addEventListener('click', () => void this.refresh());
    byId('filter').addEventListener('input', () => this.renderList());
    byId('save').addEventListener('click', () => void this.save());
  }

  dirty(): boolean {
    return !!this.current && this.editor.text() !== this.current.base;
  }

  /** Open the first stored document, or a new one when none is stored. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.current) return;
    const first = this.items[0];
    if (first) await this.open(first);
    else this.create();
  }

  async refresh(): Promise<void> {
    const status = byId('list-status');
    try {
      const items: PolicyItem[] = [];
      let cursor: string | undefined;
      // A playground lists what a person can scroll through: stop at 2,000 documents.
      for (let page = 0; page < 10; page++) {
        const r = await listPolicies(cursor);
        items.push(...r.items);
        if (!r.cursor) break;
        cursor = r.cursor;
      }
      this.items = items;
      fill(status, `${items.length} document${items.length === 1 ? '' : 's'} stored`);
    } catch (err) {
      fill(status, errorView(err, 'list-error'));
    }
    this.renderList();
  }

  renderList(): void {
    const filter = (byId<HTMLInputElement>('filter').value ?? '').trim().toLowerCase();
    const shown = this.items.filter((i) => !filter || i.key.toLowerCase().includes(filter) || i.namespace.toLowerCase().includes(filter));
    const unsaved = [...this.drafts.values()].filter((d) => d.key === null);
    fill(byId('doc-list'),
      unsaved.map((d) => this.listEntry(d.id, keyOf(this.textOf(d), d.format) ?? 'new document', 'new', () => this.show(d))),
      // The namespace, unless the key already starts with it.
      shown.map((i) => this.listEntry(i.key, i.key, i.key.startsWith(`${i.namespace}-`) ? '' : i.namespace, () => void this.open(i), i.disabled)),
    );
  }

  private listEntry(id: string, label: string, note: string, open: () => void, disabled = false): HTMLElement {
    const draft = this.drafts.get(id);
    const modified = draft && this.textOf(draft) !== draft.base;
    return h('li', {},
      h('button', {
        class: this.current?.id === id ? 'doc-entry current' : 'doc-entry', testid: 'document-entry',
        attrs: { type: 'button', 'data-key': id, 'aria-current': this.current?.id === id ? 'true' : undefined }, on: { click: open },
      },
      h('span', { class: 'doc-key' }, label), h('span', { class: 'muted small' }, note),
      disabled ? h('span', { class: 'badge warn' }, 'disabled') : null,
      modified ? h('span', { class: 'badge warn', attrs: { title: 'modified, not saved' } }, '●') : null),
    );
  }

  private textOf(d: Draft): string {
    return d === this.current ? this.editor.text() : d.state.doc.toString();
  }

  async open(item: PolicyItem): Promise<void> {
    const existing = this.drafts.get(item.key);
    if (existing) return this.show(existing);
    try {
      const { text, etag } = await getPolicy(item.key, item.format);
      const draft: Draft = { id: item.key, key: item.key, format: item.format, etag, base: text, state: this.editor.newState(text, item.format) };
      this.drafts.set(draft.id, draft);
      this.show(draft);
    } catch (err) {
      this.banner(errorView(err));
    }
  }

  create(): void {
    const id = `new-${++this.newCount}`;
    const draft: Draft = { id, key: null, format: 'yaml', etag: null, base: '', state: this.editor.newState(TEMPLATE, 'yaml') };
    this.drafts.set(id, draft);
    this.show(draft);
  }

  show(draft: Draft): void {
    if (this.current) this.current.state = this.editor.state;
    this.current = draft;
    this.editor.show(draft.state);
    this.banner(null);
    this.onSwitch();
    this.renderList();
  }

  banner(content: HTMLElement | null): void {
    fill(byId('banner'), content);
  }

  /** Save the draft: If-Match its version, or If-None-Match: * for a new key. */
  async save(overwrite?: Precondition): Promise<void> {
    const d = this.current;
    if (!d) return;
    const text = this.editor.text();
    const key = keyOf(text, d.format);
    if (!key) {
      this.banner(h('div', { class: 'banner bad', testid: 'save-error' }, 'The document needs a top-level `key` before it can be saved.'));
      return;
    }
    const pre: Precondition = overwrite ?? (d.key === key && d.etag ? { ifMatch: d.etag } : { ifNoneMatch: '*' });
    const button = byId<HTMLButtonElement>('save');
    button.disabled = true;
    try {
      const r = await putPolicy(key, text, d.format, pre);
      if (d.id !== key) {
        this.drafts.delete(d.id);
        d.id = key;
        this.drafts.set(key, d);
      }
      Object.assign(d, { key, etag: r.etag, base: text });
      this.banner(h('div', { class: 'banner ok', testid: 'saved' }, `Saved ${key} (${r.created ? 'created' : 'replaced'}, revision ${r.revision}).`));
      this.onSwitch();
      await this.refresh();
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) this.banner('ifMatch' in pre ? this.conflict(key, err) : this.exists(key));
      else this.banner(errorView(err, 'save-error'));
    } finally {
      button.disabled = false;
    }
  }

  private conflict(key: string, err: ApiError): HTMLElement {
    const theirs = (err.details as { etag?: string } | undefined)?.etag;
    return h('div', { class: 'banner bad', testid: 'conflict', attrs: { role: 'alert' } },
      h('strong', {}, 'Not saved: '), `“${key}” was changed by someone else since you opened it${theirs ? '' : ' (or deleted)'}. `,
      'Your draft is kept. ',
      h('button', { testid: 'conflict-reload', attrs: { type: 'button' }, on: { click: () => void this.loadTheirs(key) } }, 'Load their version'),
      ' ',
      h('button', { testid: 'conflict-overwrite', attrs: { type: 'button' }, on: { click: () => void this.save(theirs ? { ifMatch: theirs } : { ifNoneMatch: '*' }) } }, 'Overwrite with my draft'),
      h('div', { class: 'muted small' }, 'Loading their version replaces the text as one edit: Ctrl-Z brings your draft back.'),
    );
  }

  private exists(key: string): HTMLElement {
    const item = this.items.find((i) => i.key === key);
    return h('div', { class: 'banner bad', testid: 'conflict' },
      h('strong', {}, 'Not saved: '), `a document with the key “${key}” exists already. Change the key, or open that document. `,
      item ? h('button', { attrs: { type: 'button' }, on: { click: () => void this.open(item) } }, `Open ${key}`) : null,
    );
  }

  /** Replace the text with the stored version, as one undoable change (a banner of `done` says so). */
  async loadTheirs(key: string, done?: HTMLElement): Promise<void> {
    const d = this.current;
    if (!d) return;
    try {
      const { text, etag } = await getPolicy(key, d.format);
      this.editor.replaceText(text);
      Object.assign(d, { key, etag, base: text });
      this.banner(done ?? h('div', { class: 'banner ok', testid: 'reloaded' }, `Loaded the stored version of ${key}. Ctrl-Z brings your draft back.`));
      this.onSwitch();
      this.renderList();
    } catch (err) {
      this.banner(errorView(err));
    }
  }
}
