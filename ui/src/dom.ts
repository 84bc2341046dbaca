// The page's one way of building DOM: elements and text nodes, never HTML strings, so
// whatever a document, a subject or an error message holds is shown as text.

export type Child = Node | string | number | boolean | null | undefined | Child[];

export interface Props {
  class?: string;
  testid?: string;
  /** plain attributes (never `style`: the CSP forbids inline styles, app.css has them) */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.testid) el.dataset.testid = props.testid;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [type, fn] of Object.entries(props.on ?? {})) el.addEventListener(type, fn as EventListener);
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false || c === true) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replace an element's content. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** A list of permission patterns as code chips, or a dash when empty. */
export function patterns(list: readonly string[] | undefined, cls = ''): Child {
  if (!list || list.length === 0) return h('span', { class: 'muted' }, '—');
  return list.map((p) => h('code', { class: `perm ${cls}`.trim() }, p));
}

/** A textarea holding a JSON object: undefined when empty (an error when `required`), an Error naming it when not an object. */
export function jsonField(id: string, label: string, required = false): Record<string, unknown> | undefined {
  const text = byId<HTMLTextAreaElement>(id).value.trim();
  if (!text) {
    if (required) throw new Error(`${label} is needed`);
    return undefined;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`${label} is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${label} must be a JSON object`);
  return v as Record<string, unknown>;
}
