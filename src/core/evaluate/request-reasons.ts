// The reasons of one answer, rendered for its request: the language negotiated from
// the request's `language`, Accept-Language and a subject attribute, texts from the
// catalogues along the evaluated path, values from the request. Rendering happens at
// response time from the (possibly cached) decision, so cached decisions never mix
// languages or request values; nothing is built until a reason needs it.

import { deniedBy, reasonOf, type DescribeRule } from './check.js';
import type { Decision, Reason } from './types.js';
import type { CatalogueLookup } from '../messages/catalogue.js';
import { languageChain, preferredLanguages } from '../messages/language.js';
import { Localizer } from '../messages/localize.js';
import type { MessageInputs } from '../messages/params.js';

export interface LanguageSettings {
  /** the last language tried before a message's own fallback */
  defaultLanguage: string;
  /** the subject attribute that may name a language ('' = none) */
  languageAttribute: string;
}

/** Most negotiated chains remembered; the same few headers and tags come back all day. */
const MAX_REMEMBERED = 1000;
const MAX_REMEMBERED_HEADER = 256;

/** Turns a request's language sources into the languages to try; remembers recent answers. */
export class LanguageNegotiator {
  private readonly remembered = new Map<string, readonly string[]>();

  constructor(readonly settings: LanguageSettings) {}

  chain(requested: string | undefined, acceptLanguage: string | undefined, attribute: unknown): readonly string[] {
    const attr = typeof attribute === 'string' ? attribute : undefined;
    const memo = (acceptLanguage?.length ?? 0) <= MAX_REMEMBERED_HEADER && (attr?.length ?? 0) <= 64;
    const id = memo ? `${requested ?? ''}\u0000${acceptLanguage ?? ''}\u0000${attr ?? ''}` : '';
    const known = memo ? this.remembered.get(id) : undefined;
    if (known) return known;
    const chain = languageChain(preferredLanguages({ requested, acceptLanguage, attribute: attr }), this.settings.defaultLanguage);
    if (memo) {
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
      this.remembered.set(id, chain);
    }
    return chain;
  }

  /** The subject attribute's value, when the setting names one and the subject has it. */
  attributeOf(attributes: Readonly<Record<string, unknown>> | undefined): unknown {
    const name = this.settings.languageAttribute;
    return name !== '' && attributes && Object.hasOwn(attributes, name) ? attributes[name] : undefined;
  }
}

export interface ReasonSources {
  /** the request's `language` field */
  language?: string;
  /** the Accept-Language header */
  acceptLanguage?: string;
  /** the subject's attributes as sent */
  subjectAttributes?: Readonly<Record<string, unknown>>;
  /** the request's values (as conditions saw them) */
  inputs: MessageInputs;
  catalogues: CatalogueLookup | undefined;
  /** whose catalogues count, most general first */
  namespaces: readonly string[];
}

export class RequestReasons {
  private localizer: Localizer | undefined;

  constructor(private readonly negotiator: LanguageNegotiator, private readonly sources: ReasonSources) {}

  /** The languages tried, best first (negotiated when a reference first needs them). */
  languages(): readonly string[] {
    const s = this.sources;
    return this.negotiator.chain(s.language, s.acceptLanguage, this.negotiator.attributeOf(s.subjectAttributes));
  }

  private decisionLocalizer(decision: Decision): Localizer {
    const s = this.sources;
    this.localizer ??= new Localizer({
      catalogues: s.catalogues,
      namespaces: s.namespaces,
      languages: this.languages(),
      inputs: decision.facts ? { ...s.inputs, facts: decision.facts } : s.inputs,
    });
    return this.localizer;
  }

  /** For checkPermission: the reason of the rule that decided a denial. */
  describer(decision: Decision): DescribeRule {
    return (rule, message) => {
      if (typeof message === 'string') return { text: message, rule: rule.id, document: rule.policy };
      try {
        return reasonOf(this.decisionLocalizer(decision).render(message), rule.id, rule.policy);
      } catch {
        // Rendering is built not to fail; should it ever, the denial stands with its key as text.
        return { key: message.key, text: message.key, rule: rule.id, document: rule.policy };
      }
    };
  }

  /**
   * Evaluate's `messages`: each denied pattern whose deciding rule has a message.
   * `localized` says whether any text depends on the request (a reference).
   */
  deniedMessages(decision: Decision): { messages: Record<string, Reason>; localized: boolean } | undefined {
    const explained = deniedBy(decision);
    if (explained.length === 0) return undefined;
    const describe = this.describer(decision);
    const localized = explained.some(([, rule]) => typeof rule.message !== 'string');
    // fromEntries defines own properties: a pattern such as `__proto__` stays a plain key.
    const messages = Object.fromEntries(explained.map(([pattern, rule]) => [pattern, describe(rule, rule.message!)]));
    return { messages, localized };
  }
}
