// Rendering a rule's message for one request: plain text as written; a reference in
// the first language of the chain that some catalogue along the path has, else its
// own fallback, else its key. Nothing here can fail: a missing catalogue, key or value
// only changes the text.

import type { CatalogueLookup } from './catalogue.js';
import { resolveParam, type MessageInputs } from './params.js';
import { renderTemplate, valueText } from './template.js';
import type { CompiledMessageRef, RenderedMessage, RuleMessage, Template } from './types.js';

export interface LocalizerOptions {
  catalogues?: CatalogueLookup;
  /** the namespaces whose catalogues count, most general first */
  namespaces: readonly string[];
  /** languages to try, best first (see languageChain) */
  languages: readonly string[];
  /** the request's values; absent: every placeholder stays as written */
  inputs?: MessageInputs;
}

export class Localizer {
  constructor(private readonly options: LocalizerOptions) {}

  render(message: RuleMessage): RenderedMessage {
    if (typeof message === 'string') return { text: message };
    const { catalogues, namespaces, languages } = this.options;
    const found = catalogues?.find(namespaces, languages, message.key);
    if (found) return { key: message.key, text: this.fill(found.template, message), language: found.language };
    return { key: message.key, text: message.fallback ? this.fill(message.fallback, message) : message.key };
  }

  private fill(template: Template, ref: CompiledMessageRef): string {
    return renderTemplate(template, (name) => {
      const path = ref.params.get(name);
      const inputs = this.options.inputs;
      return path && inputs ? valueText(resolveParam(path, inputs)) : undefined;
    });
  }
}

/** A message with no request behind it (tools): fallbacks with their placeholders as written. */
export function renderWithoutRequest(message: RuleMessage): RenderedMessage {
  return new Localizer({ namespaces: [], languages: [] }).render(message);
}
