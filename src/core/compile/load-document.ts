// The whole write-time pipeline for one document: parse text, check the schema,
// compile. Used by the REST API, the file store, bulk import and `validate`.

import { parseText, positionErrors, type ParseLimits, DEFAULT_PARSE_LIMITS, type ParsedText } from '../document/parse.js';
import { validatePolicyDocument } from '../document/schema.js';
import { MAX_REPORTED_ERRORS, sortErrors, type DocumentError, type DocumentFormat, type PolicyDocument } from '../document/types.js';
import { compilePolicy } from './compile-policy.js';
import type { CompiledPolicy } from './types.js';

export interface LoadedDocument {
  document: PolicyDocument;
  policy: CompiledPolicy;
  /** the text as written (YAML comments included) */
  text: string;
  format: DocumentFormat;
}

/** `parse`: the text is not well-formed JSON/YAML or breaks a parser limit; `document`: schema or compile errors. */
export type FailureStage = 'parse' | 'document';

export type LoadResult = { ok: true; loaded: LoadedDocument } | { ok: false; errors: DocumentError[]; stage: FailureStage };

function keyOf(value: unknown): string | undefined {
  const key = (value as { key?: unknown } | null)?.key;
  return typeof key === 'string' ? key.slice(0, 256) : undefined;
}

function finish(errors: DocumentError[], key: string | undefined): DocumentError[] {
  const withKey = key === undefined ? errors : errors.map((e) => ({ document: key, ...e }));
  return sortErrors(withKey).slice(0, MAX_REPORTED_ERRORS);
}

/** Validate and compile an already-parsed value. */
export function loadParsed(parsed: ParsedText, format: DocumentFormat): LoadResult {
  const key = keyOf(parsed.value);
  const valid = validatePolicyDocument(parsed.value);
  if (!valid.ok) return { ok: false, stage: 'document', errors: finish(positionErrors(valid.errors, parsed.positions), key) };
  const compiled = compilePolicy(valid.document);
  if (!compiled.ok) return { ok: false, stage: 'document', errors: finish(positionErrors(compiled.errors, parsed.positions), key) };
  return { ok: true, loaded: { document: valid.document, policy: compiled.policy, text: parsed.text, format } };
}

/** Parse, validate and compile one document from text. */
export function loadDocument(text: string, format: DocumentFormat, limits: ParseLimits = DEFAULT_PARSE_LIMITS): LoadResult {
  const parsed = parseText(text, format, limits, false);
  if (!parsed.ok) return { ok: false, stage: 'parse', errors: finish(parsed.errors, undefined) };
  return loadParsed(parsed.documents[0]!, format);
}

/** Parse a stream (JSON array or multi-document YAML); every document is checked. */
export function loadDocuments(text: string, format: DocumentFormat, limits: ParseLimits = DEFAULT_PARSE_LIMITS):
  { ok: true; loaded: LoadedDocument[] } | { ok: false; errors: DocumentError[]; stage: FailureStage } {
  const parsed = parseText(text, format, limits, true);
  if (!parsed.ok) return { ok: false, stage: 'parse', errors: finish(parsed.errors, undefined) };
  const loaded: LoadedDocument[] = [];
  const errors: DocumentError[] = [];
  const seen = new Set<string>();
  parsed.documents.forEach((p, i) => {
    const r = loadParsed(p, format);
    if (!r.ok) {
      errors.push(...r.errors.map((e) => ({ ...e, path: `[${i}]${e.path === '' ? '' : '.' + e.path}` })));
      return;
    }
    if (seen.has(r.loaded.policy.key)) {
      errors.push({ document: r.loaded.policy.key, path: `[${i}].key`, message: 'duplicate key in this import' });
    }
    seen.add(r.loaded.policy.key);
    loaded.push(r.loaded);
  });
  if (parsed.documents.length === 0) errors.push({ path: '', message: 'no documents to import' });
  if (errors.length > 0) return { ok: false, stage: 'document', errors: sortErrors(errors).slice(0, MAX_REPORTED_ERRORS) };
  return { ok: true, loaded };
}
