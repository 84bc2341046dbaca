// A stored policy document as the stores hand it out: its text as written, its parsed
// form (or, text-backed, a getter that parses the text: text-backed.ts), and its version.

import type { DocumentFormat, LuaDocument, PolicyDocument, RoutesDocument, TestsDocument } from '../core/document/types.js';
import type { RegistryDocument } from '../core/registry/types.js';
import type { MessagesDocument } from '../core/messages/types.js';

/** Any document a store holds: a policy, a Lua policy, the attribute registry, a message catalogue, a test suite, or forward-auth routes. */
export type StoredDocument = PolicyDocument | RegistryDocument | LuaDocument | MessagesDocument | TestsDocument | RoutesDocument;

/** A policy as stored: the parsed form beside the original text. */
export interface PolicyRecord {
  key: string;
  namespace: string;
  /** null when the document has none (runs after those with one) */
  ordinal: number | null;
  disabled: boolean;
  format: DocumentFormat;
  /** the text exactly as written */
  text: string;
  document: StoredDocument;
  /** strong entity tag, quoted (`"…"`), changes with every stored version */
  etag: string;
  /** ISO-8601 time of the last write */
  updatedAt: string;
}

/** What a writer hands to a store; the store adds etag and updatedAt. */
export type NewPolicy = Omit<PolicyRecord, 'etag' | 'updatedAt'>;

