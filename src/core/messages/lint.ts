// Checks before production (warnings, never errors): message keys a rule uses that no
// catalogue has in a required language, placeholders no parameter fills, and catalogue
// entries nothing uses. Namespace paths are chosen per request, so a key counts as
// present in a language when a catalogue of that language (or one it falls back to:
// `pt` for `pt-BR`) has it in any namespace.

import type { CompiledPolicy } from '../compile/types.js';
import { canonicalTag, truncations } from './language.js';
import { placeholdersOf } from './template.js';
import type { CompiledCatalogue, CompiledMessageRef, Template } from './types.js';

export interface MessageWarning {
  type: 'message-missing' | 'placeholder-unfilled' | 'message-unused';
  /** the document the warning is about */
  document: string;
  path: string;
  message: string;
}

const MAX_WARNINGS = 200;

interface Use {
  document: string;
  path: string;
  ref: CompiledMessageRef;
}

function usesOf(policies: readonly CompiledPolicy[]): Use[] {
  const uses: Use[] = [];
  for (const p of policies) {
    if (p.kind !== 'policy') continue;
    for (const r of p.rules) {
      if (r.message !== undefined && typeof r.message !== 'string') uses.push({ document: p.key, path: `rules[${r.index}].message`, ref: r.message });
    }
  }
  return uses;
}

function unfilled(template: Template, ref: CompiledMessageRef): string[] {
  return placeholdersOf(template).filter((name) => !ref.params.has(name));
}

/** Every warning about the messages of these documents (policies and catalogues together). */
export function lintMessages(documents: readonly CompiledPolicy[], languages: readonly string[]): MessageWarning[] {
  const catalogues: CompiledCatalogue[] = documents.flatMap((d) => (d.catalogue ? [d.catalogue] : []));
  // `kind` first: a compiled document's `document` may be parsed again from its text when read (store/text-backed.ts).
  const scripts = documents.flatMap((d) => (d.kind === 'lua' && d.document.kind === 'lua' ? [d.document.script] : []));
  const uses = usesOf(documents);
  const warnings: MessageWarning[] = [];
  const required = [...new Set(languages.map(canonicalTag))];

  for (const use of uses) {
    const { key } = use.ref;
    const having = catalogues.filter((c) => c.messages.has(key));
    const missing = required.filter((lang) => !having.some((c) => truncations(lang).includes(c.language)));
    if (missing.length > 0) {
      const then = use.ref.fallback ? '' : ' (and the rule has no fallback: readers may see the key itself)';
      warnings.push({ type: 'message-missing', document: use.document, path: `${use.path}.key`, message: `message ${key} has no text in ${missing.join(', ')}${then}` });
    }
    if (use.ref.fallback) {
      for (const name of unfilled(use.ref.fallback, use.ref)) {
        warnings.push({ type: 'placeholder-unfilled', document: use.document, path: `${use.path}.fallback`, message: `placeholder {${name}} has no param: it shows as written` });
      }
    }
    for (const c of having) {
      for (const name of unfilled(c.messages.get(key)!, use.ref)) {
        warnings.push({ type: 'placeholder-unfilled', document: use.document, path: `${use.path}.params`, message: `placeholder {${name}} of ${key} in ${c.key} (${c.language}) has no param: it shows as written` });
      }
    }
  }

  const used = new Set(uses.map((u) => u.ref.key));
  for (const c of catalogues) {
    for (const key of c.messages.keys()) {
      // A script may build its message table at run time: a key its text names counts as used.
      if (used.has(key) || scripts.some((s) => s.includes(key))) continue;
      warnings.push({ type: 'message-unused', document: c.key, path: `messages.${key}`, message: 'no rule uses this message' });
    }
  }
  return warnings.slice(0, MAX_WARNINGS);
}
