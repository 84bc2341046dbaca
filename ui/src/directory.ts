// The Directory tab: the stored entities (GET /v1/entities), by type, a page at a time;
// one selected shows its roles, groups and attributes. Read only: the page writes nothing.

import { ApiError, listEntities, type EntityItem } from './api.js';
import { byId, fill, h } from './dom.js';

export class DirectoryPanel {
  private cursor: string | null = null;
  private selected: string | undefined;

  constructor() {
    byId('directory-load').addEventListener('click', () => void this.load(false));
    byId('directory-more').addEventListener('click', () => void this.load(true));
    byId('directory-type').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void this.load(false);
    });
    byId('tab-directory').addEventListener('click', () => {
      if (byId('directory-list').childElementCount === 0) void this.load(false);
    });
  }

  private async load(more: boolean): Promise<void> {
    const list = byId('directory-list');
    const more$ = byId<HTMLButtonElement>('directory-more');
    if (!more) {
      fill(list);
      fill(byId('directory-entity'));
      this.cursor = null;
    }
    let page: { items: EntityItem[]; cursor: string | null };
    try {
      page = await listEntities(byId<HTMLInputElement>('directory-type').value.trim(), more ? this.cursor ?? undefined : undefined);
    } catch (err) {
      const e = err instanceof ApiError ? `${err.code}: ${err.message}` : (err as Error).message;
      fill(byId('directory-entity'), h('div', { class: 'banner error', testid: 'directory-error' }, e));
      return;
    }
    for (const item of page.items) {
      list.append(h('li', { testid: 'entity-entry', attrs: { 'data-ref': item.ref } },
        h('button', { class: 'link', attrs: { type: 'button' }, on: { click: () => this.show(item) } }, item.ref),
        item.roles.length > 0 ? h('span', { class: 'muted small' }, ` ${item.roles.join(', ')}`) : null));
    }
    if (!more && page.items.length === 0) list.append(h('li', { class: 'muted small', testid: 'directory-empty' }, 'No entities stored.'));
    this.cursor = page.cursor;
    more$.hidden = page.cursor === null;
  }

  private show(item: EntityItem): void {
    this.selected = item.ref;
    for (const b of byId('directory-list').querySelectorAll('button')) b.setAttribute('aria-current', String(b.textContent === this.selected));
    fill(byId('directory-entity'),
      h('h3', { testid: 'entity-ref' }, item.ref),
      h('div', { class: 'muted small' }, `${item.etag} · ${item.updatedAt}`),
      h('pre', { class: 'entity-json', testid: 'entity-json' }, JSON.stringify({ roles: item.roles, groups: item.groups, attributes: item.attributes }, null, 2)));
  }
}
