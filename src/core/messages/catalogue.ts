// Message catalogues: compiling one (`kind: messages`), and finding a key's text for a
// request — languages in the order asked for, and for each language the most specific
// namespace of the path first, so an org's text overrides the global one. Two
// catalogues of one language in one namespace are read in key order.

import { resolveDocumentNamespace } from '../namespace.js';
import type { DocumentError } from '../document/types.js';
import { canonicalTag } from './language.js';
import { parseTemplate } from './template.js';
import type { CompiledCatalogue, MessagesDocument, Template } from './types.js';

export function compileCatalogue(doc: MessagesDocument): { ok: true; catalogue: CompiledCatalogue } | { ok: false; errors: DocumentError[] } {
  const ns = resolveDocumentNamespace(doc.key, doc.namespace);
  if (!ns.ok) return { ok: false, errors: [{ path: doc.namespace !== undefined ? 'namespace' : 'key', message: ns.reason }] };
  const messages = new Map<string, Template>();
  for (const [key, text] of Object.entries(doc.messages)) messages.set(key, parseTemplate(text));
  return { ok: true, catalogue: { key: doc.key, namespace: ns.namespace, language: canonicalTag(doc.language), messages } };
}

export interface FoundText {
  template: Template;
  language: string;
  /** the catalogue that had it */
  catalogue: string;
}

/** Where texts are looked up; the policy manager and local suites each hold one. */
export interface CatalogueLookup {
  find(namespaces: readonly string[], languages: readonly string[], key: string): FoundText | undefined;
}

/** Catalogues by namespace, then language. */
export class CatalogueIndex implements CatalogueLookup {
  private readonly byNamespace = new Map<string, Map<string, CompiledCatalogue[]>>();

  constructor(catalogues: readonly CompiledCatalogue[] = []) {
    const byNs = new Map<string, CompiledCatalogue[]>();
    for (const c of catalogues) byNs.set(c.namespace, [...(byNs.get(c.namespace) ?? []), c]);
    for (const [ns, list] of byNs) this.setNamespace(ns, list);
  }

  /** Replace the catalogues of one namespace. */
  setNamespace(ns: string, catalogues: readonly CompiledCatalogue[]): void {
    if (catalogues.length === 0) {
      this.byNamespace.delete(ns);
      return;
    }
    const byLanguage = new Map<string, CompiledCatalogue[]>();
    for (const c of [...catalogues].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
      const list = byLanguage.get(c.language);
      if (list) list.push(c);
      else byLanguage.set(c.language, [c]);
    }
    this.byNamespace.set(ns, byLanguage);
  }

  clear(): void {
    this.byNamespace.clear();
  }

  get size(): number {
    return this.byNamespace.size;
  }

  find(namespaces: readonly string[], languages: readonly string[], key: string): FoundText | undefined {
    if (this.byNamespace.size === 0) return undefined;
    for (const language of languages) {
      for (let i = namespaces.length - 1; i >= 0; i--) {
        const list = this.byNamespace.get(namespaces[i]!)?.get(language);
        if (!list) continue;
        for (const c of list) {
          const template = c.messages.get(key);
          if (template) return { template, language: c.language, catalogue: c.key };
        }
      }
    }
    return undefined;
  }

  /** Every catalogue held (for checks that span them all). */
  all(): CompiledCatalogue[] {
    return [...this.byNamespace.values()].flatMap((m) => [...m.values()].flat());
  }
}
