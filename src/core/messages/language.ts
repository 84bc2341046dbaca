// Choosing the language of reasons (SPEC §10): the request's `language`, else the
// Accept-Language header (by q-value), else a subject attribute, else none; then each
// choice falls back by dropping subtags (`pt-BR` → `pt`, RFC 4647 lookup), and the
// default language comes last. Tags are compared in canonical case (`pt-br` = `pt-BR`).

/** BCP 47 shape: a 2–8 letter language, then subtags of 1–8 letters or digits; at most 35 characters. */
const TAG = /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/;
const MAX_TAG = 35;
/** most Accept-Language entries read, and most languages tried per message */
const MAX_RANGES = 16;
const MAX_CHAIN = 16;

export function isLanguageTag(tag: string): boolean {
  return typeof tag === 'string' && tag.length <= MAX_TAG && TAG.test(tag);
}

/** `PT-br` → `pt-BR`, `zh-hant-tw` → `zh-Hant-TW`; subtags after a singleton stay lower case. */
export function canonicalTag(tag: string): string {
  const parts = tag.split('-');
  let extension = false;
  return parts.map((p, i) => {
    if (i === 0 || extension) return p.toLowerCase();
    if (p.length === 1) {
      extension = true;
      return p.toLowerCase();
    }
    if (p.length === 2 && /^[A-Za-z]{2}$/.test(p)) return p.toUpperCase();
    if (p.length === 4 && /^[A-Za-z]{4}$/.test(p)) return p[0]!.toUpperCase() + p.slice(1).toLowerCase();
    return p.toLowerCase();
  }).join('-');
}

/** The language ranges of an Accept-Language header, best first (q=0 and `*` left out, malformed entries skipped). */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (typeof header !== 'string' || header === '') return [];
  const ranges: Array<{ tag: string; q: number; at: number }> = [];
  const entries = header.slice(0, 4096).split(',');
  for (let at = 0; at < entries.length && ranges.length < MAX_RANGES; at++) {
    const [range, ...params] = entries[at]!.split(';').map((s) => s.trim());
    if (!range || !isLanguageTag(range)) continue;
    let q = 1;
    let ok = true;
    for (const p of params) {
      const m = /^q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i.exec(p);
      if (m) q = Number(m[1]);
      else ok = false;
    }
    if (ok && q > 0) ranges.push({ tag: canonicalTag(range), q, at });
  }
  return ranges.sort((a, b) => b.q - a.q || a.at - b.at).map((r) => r.tag);
}

/** A tag and the tags it falls back to: `zh-Hant-TW` → `zh-Hant-TW`, `zh-Hant`, `zh`. */
export function truncations(tag: string): string[] {
  const out = [tag];
  const parts = tag.split('-');
  while (parts.length > 1) {
    parts.pop();
    // A singleton (`x`, `u`) never ends a range.
    if (parts.length > 1 && parts[parts.length - 1]!.length === 1) parts.pop();
    out.push(parts.join('-'));
  }
  return out;
}

export interface LanguageSources {
  /** the request's `language` field */
  requested?: string;
  /** the Accept-Language header */
  acceptLanguage?: string;
  /** the configured subject attribute's value */
  attribute?: unknown;
}

/** The languages the request asks for, best first: from the first source that names a valid one. */
export function preferredLanguages(sources: LanguageSources): string[] {
  if (typeof sources.requested === 'string' && isLanguageTag(sources.requested)) return [canonicalTag(sources.requested)];
  const accepted = parseAcceptLanguage(sources.acceptLanguage);
  if (accepted.length > 0) return accepted;
  if (typeof sources.attribute === 'string' && isLanguageTag(sources.attribute)) return [canonicalTag(sources.attribute)];
  return [];
}

/** Every language to try, in order: each preference and its truncations, then the default's. */
export function languageChain(preferred: readonly string[], defaultLanguage: string): string[] {
  const chain: string[] = [];
  for (const tag of [...preferred, canonicalTag(defaultLanguage)]) {
    for (const t of truncations(tag)) if (!chain.includes(t) && chain.length < MAX_CHAIN) chain.push(t);
  }
  return chain;
}
