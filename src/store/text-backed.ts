// Records that keep a document's text and not its parsed tree (issue 20: memory). A
// replica holds every stored document for as long as it runs, and the tree parsed from a
// document's text (objects, arrays and strings for every rule) cost as much again as the
// text itself: 13.5 MiB of the heap with 10,000 documents. What reads the tree after a
// document is compiled is rare (a GET in the other format, a listing, a recompile after
// a registry change, previews), so a text-backed record parses its text again when its
// `document` is read, and keeps only the document's `kind`, which is read often.
//
// Only for records whose document is the parse of their text, which holds for every
// record a writer stores (the text is what was sent or what the file holds; the tree is
// its parse, validated unchanged) — not for a broken file's stand-in (brokenRecordOf).

import { parseText, type ParseLimits } from '../core/document/parse.js';
import type { DocumentFormat } from '../core/document/types.js';
import type { NewPolicy, PolicyRecord, StoredDocument } from './record.js';

const KIND = Symbol('documentKind');

/**
 * The text was accepted under the limits configured when it was written, which may be
 * wider than the defaults: parsing it again is not where limits are enforced.
 */
const STORED_TEXT: ParseLimits = { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: Number.MAX_SAFE_INTEGER, maxDocuments: 1 };

/** The document a stored text holds, parsed again. Throws when it no longer parses (it did when stored). */
export function documentOfText(text: string, format: DocumentFormat): StoredDocument {
  const parsed = parseText(text, format, STORED_TEXT);
  if (!parsed.ok || parsed.documents.length !== 1) throw new Error(`a stored ${format} text no longer parses as one document`);
  return parsed.documents[0]!.value as StoredDocument;
}

type Kinded = { [KIND]?: StoredDocument['kind'] };

/** The kind a record's document declares (undefined: a policy), without parsing a text-backed record's text. */
export function documentKind(record: Pick<NewPolicy, 'document'>): StoredDocument['kind'] {
  const r = record as Kinded & Pick<NewPolicy, 'document'>;
  return KIND in r ? r[KIND] : r.document.kind;
}

/** Does `document` parse the text when read (rather than hold a tree)? */
export function isTextBacked(record: object): boolean {
  return typeof Object.getOwnPropertyDescriptor(record, 'document')?.get === 'function';
}

/** The one getter every text-backed record shares (no closure per record). */
function parsedAgain(this: Pick<NewPolicy, 'text' | 'format'>): StoredDocument {
  return documentOfText(this.text, this.format);
}

// The data fields first, then the getter and the kind appended: V8 keeps such objects in
// fast mode, all of one shape (a getter inside an object literal, or one redefined over
// an existing field, turns the object into a dictionary, which costs more than the tree).
function backed<T extends NewPolicy>(fields: Omit<T, 'document'>, kind: StoredDocument['kind']): T {
  Object.defineProperty(fields, 'document', { get: parsedAgain, enumerable: true, configurable: true });
  Object.defineProperty(fields, KIND, { value: kind });
  return fields as T;
}

// Two literals, not one spread into the other: a literal's fields live inside the object;
// fields added by a spread go to a separate backing array, ~3 MiB more for 10,000 records.
function policyOf(r: NewPolicy, kind: StoredDocument['kind']): NewPolicy {
  return backed<NewPolicy>({ key: r.key, namespace: r.namespace, ordinal: r.ordinal, disabled: r.disabled, format: r.format, text: r.text }, kind);
}

function recordWith(r: NewPolicy, kind: StoredDocument['kind'], etag: string, updatedAt: string): PolicyRecord {
  return backed<PolicyRecord>({ key: r.key, namespace: r.namespace, ordinal: r.ordinal, disabled: r.disabled, format: r.format, text: r.text, etag, updatedAt }, kind);
}

/**
 * The same record without its tree: `document` (enumerable, as before) parses `text` when
 * read, a fresh tree each time (nobody can change what others read). A record that is
 * text-backed already is returned as it is.
 */
export function textBacked<T extends NewPolicy>(record: T): T {
  if (isTextBacked(record)) return record;
  const kind = record.document.kind;
  const { etag, updatedAt } = record as Partial<PolicyRecord>;
  return (etag !== undefined && updatedAt !== undefined ? recordWith(record, kind, etag, updatedAt) : policyOf(record, kind)) as T;
}

/** A text-backed policy as the record of a stored version. */
export function textBackedRecord(policy: NewPolicy, etag: string, updatedAt: string): PolicyRecord {
  return recordWith(policy, documentKind(policy), etag, updatedAt);
}

/** Where a copy made by `readingDocumentOf` reads its `document` from. */
const SOURCE = Symbol('documentSource');

function sourceDocument(this: { [SOURCE]: Pick<NewPolicy, 'document'> }): StoredDocument {
  return this[SOURCE].document;
}

/**
 * A copy of `target` (a compiled document, say) whose `document` is read from a
 * text-backed `source` instead of holding the tree itself; the getter appended, as above.
 */
export function readingDocumentOf<T extends { document: unknown }>(target: T, source: Pick<NewPolicy, 'document'>): T {
  // Field by field, not a rest and a spread: once their call sites see many shapes, V8
  // builds a spread's copy on a map of its own, one map (~350 bytes) per object.
  const copy: Record<PropertyKey, unknown> = {};
  for (const field of Object.keys(target)) if (field !== 'document') copy[field] = target[field as keyof T];
  copy[SOURCE] = source;
  return Object.defineProperty(copy, 'document', { get: sourceDocument, enumerable: true, configurable: true }) as unknown as T;
}
