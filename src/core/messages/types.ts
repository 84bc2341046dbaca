// Localized messages (SPEC §10): a rule's message as written (plain text or a reference
// to a catalogue key), its compiled form, and message catalogues (`kind: messages`).

/** A reference to a catalogue message, as written in a rule (or returned by a script). */
export interface MessageRefDocument {
  /** the catalogue key, e.g. `policy.documents.purge_needs_admin` */
  key: string;
  /** the text when no catalogue along the path has the key in a usable language */
  fallback?: string;
  /** placeholder name → request value path (`resource.id`, `subject.attributes.name`…) */
  params?: Record<string, string>;
}

export type RuleMessageDocument = string | MessageRefDocument;

/** A catalogue: the texts of one language in one namespace. */
export interface MessagesDocument {
  $schema?: string;
  key: string;
  namespace?: string;
  kind: 'messages';
  /** a BCP 47 language tag: `de`, `pt-BR` */
  language: string;
  description?: string;
  messages: Record<string, string>;
}

/** A text split at its placeholders: literal strings and `{ name }` slots, in order. */
export type Template = readonly TemplatePart[];
export type TemplatePart = string | { readonly name: string };

/** Where a placeholder's value comes from in the request: a path, never an expression. */
export interface ParamPath {
  /** as written: `resource.attributes.owner` */
  readonly text: string;
  readonly root: 'subject' | 'resource' | 'context' | 'facts';
  /** the property names below the root */
  readonly path: readonly string[];
}

export interface CompiledMessageRef {
  readonly key: string;
  readonly fallback: Template | undefined;
  readonly params: ReadonlyMap<string, ParamPath>;
}

/** What a compiled rule carries: plain text (returned as is) or a reference. */
export type RuleMessage = string | CompiledMessageRef;

export interface CompiledCatalogue {
  readonly key: string;
  readonly namespace: string;
  /** canonical case (`pt-BR`) */
  readonly language: string;
  readonly messages: ReadonlyMap<string, Template>;
}

/** A message rendered for one request: `key` and `language` only when a reference was used. */
export interface RenderedMessage {
  key?: string;
  text: string;
  /** the catalogue's language; absent when the rule's own fallback (or the key) answered */
  language?: string;
}
