// Message texts with `{name}` placeholders: parsed once when a document compiles,
// rendered per request. Values go in as inert text: only the first MAX_VALUE characters,
// control and bidi characters replaced, markup characters escaped as HTML entities (as
// i18next's escapeValue does), never parsed again — a value `{x}` stays `{x}`. A whole
// message is at most MAX_MESSAGE characters. A placeholder with no value stays as written.

import type { Template, TemplatePart } from './types.js';

export const MAX_VALUE = 200;
export const MAX_MESSAGE = 2048;
const ELLIPSIS = '…';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]{0,63})\}/g;

/** `Purging {doc} needs an admin` → ['Purging ', { name: 'doc' }, ' needs an admin']. Other braces are text. */
export function parseTemplate(text: string): Template {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push({ name: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** The placeholder names a template uses, in order of first use. */
export function placeholdersOf(template: Template): string[] {
  const names: string[] = [];
  for (const p of template) if (typeof p !== 'string' && !names.includes(p.name)) names.push(p.name);
  return names;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Anything a value may not hold as is: markup, C0/C1 controls, line/paragraph separators, bidi controls, surrogates. */
const SPECIAL = /[&<>"'\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/;
/** The units of escaped text that must not be cut: an entity, or one character. */
const ESCAPED_UNIT = /&(?:amp|lt|gt|quot|#39);|[\s\S]/gu;

/** C0/C1 controls, DEL, line/paragraph separators, bidi controls (Trojan Source) and lone surrogates. */
function isUnsafe(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || cp === 0x061c ||
    cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
    (cp >= 0xd800 && cp <= 0xdfff);
}

/**
 * A request value as inert text; undefined when there is no usable value (absent, null,
 * an object or a list). Reads at most MAX_VALUE characters of a string, however long.
 */
export function valueText(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    text = String(value);
  } else if (typeof value === 'bigint' || typeof value === 'boolean') text = String(value);
  else if (value instanceof Date && !Number.isNaN(value.getTime())) text = value.toISOString();
  else return undefined;
  if (text.length <= MAX_VALUE && !SPECIAL.test(text)) return text;
  let out = '';
  let i = 0;
  let n = 0;
  while (i < text.length && n < MAX_VALUE) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    n++;
    if (i < text.length && n === MAX_VALUE) out += ELLIPSIS;
    else out += isUnsafe(cp) ? '\uFFFD' : (ENTITIES[ch] ?? ch);
  }
  return out;
}

/**
 * Render a template; `value(name)` gives a placeholder's inert text (valueText), undefined
 * when it has none (the placeholder then stays as written). At most MAX_MESSAGE characters:
 * a longer text is cut (never inside a character or an entity) and ends with an ellipsis.
 */
export function renderTemplate(template: Template, value: (name: string) => string | undefined): string {
  const pieces: string[] = [];
  const escaped: boolean[] = [];
  let length = 0;
  for (const part of template) {
    const v = typeof part === 'string' ? undefined : value(part.name);
    const piece = typeof part === 'string' ? part : (v ?? `{${part.name}}`);
    pieces.push(piece);
    escaped.push(v !== undefined);
    length += piece.length;
  }
  if (length <= MAX_MESSAGE) return pieces.join('');
  let out = '';
  for (let i = 0; i < pieces.length; i++) {
    const units = escaped[i] ? pieces[i]!.match(ESCAPED_UNIT) ?? [] : Array.from(pieces[i]!);
    for (const u of units) {
      if (out.length + u.length > MAX_MESSAGE - ELLIPSIS.length) return out + ELLIPSIS;
      out += u;
    }
  }
  return out;
}
