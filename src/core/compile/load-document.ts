// The whole write-time pipeline for one document: parse text, check the schema,
// compile. Used by the REST API, the file store, bulk import and `validate`.

import { parseText, positionErrors, type ParseLimits, DEFAULT_PARSE_LIMITS, type ParsedText } from '../document/parse.js';
import { kindOf, validateLuaDocument, validateMessagesDocument, validatePolicyDocument, validateRegistryDocument, validateRoutesDocument, validateTestsDocument } from '../document/schema.js';
import { routesAsPolicy } from './compile-routes.js';
import { testsAsPolicy } from './compile-tests.js';
import { compileLuaDocument } from './compile-lua.js';
import { compileRegistry, REGISTRY_NAMESPACE } from '../registry/compile-registry.js';
import type { CompiledRegistry, RegistryDocument } from '../registry/types.js';
import { MAX_REPORTED_ERRORS, sortErrors, type DocumentError, type DocumentFormat, type LuaDocument, type PolicyDocument, type RoutesDocument, type TestsDocument } from '../document/types.js';
import { compilePolicy, type CompileOptions } from './compile-policy.js';
import type { CompiledPolicy } from './types.js';
import { compileCatalogue } from '../messages/catalogue.js';
import type { MessagesDocument } from '../messages/types.js';

export interface LoadedDocument {
  document: PolicyDocument | RegistryDocument | LuaDocument | MessagesDocument | TestsDocument | RoutesDocument;
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

/** A registry as a (never-run) compiled document of the global namespace. */
function registryAsPolicy(doc: RegistryDocument): { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] } {
  const compiled = compileRegistry(doc);
  if (!compiled.ok) return compiled;
  return {
    ok: true,
    policy: {
      kind: 'registry', key: doc.key, namespace: REGISTRY_NAMESPACE, ordinal: undefined, disabled: false, rules: [],
      predicates: new Map(), reads: undefined, typed: false, registry: compiled.registry, document: doc,
    },
  };
}

/** A message catalogue as a (never-run) compiled document of its namespace. */
function catalogueAsPolicy(doc: MessagesDocument): { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] } {
  const compiled = compileCatalogue(doc);
  if (!compiled.ok) return compiled;
  return {
    ok: true,
    policy: {
      kind: 'messages', key: doc.key, namespace: compiled.catalogue.namespace, ordinal: undefined, disabled: false, rules: [],
      predicates: new Map(), reads: undefined, typed: false, catalogue: compiled.catalogue, document: doc,
    },
  };
}

/** Compile an already-validated stored document of any kind. */
export function compileDocument(doc: PolicyDocument | RegistryDocument | LuaDocument | MessagesDocument | TestsDocument | RoutesDocument, options: CompileOptions = {}): { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] } {
  if (doc.kind === 'registry') return registryAsPolicy(doc);
  if (doc.kind === 'messages') return catalogueAsPolicy(doc);
  if (doc.kind === 'tests') return testsAsPolicy(doc);
  if (doc.kind === 'routes') return routesAsPolicy(doc);
  if (doc.kind === 'lua') return compileLuaDocument(doc, options.luaBudgets);
  return compilePolicy(doc, options);
}

type Checked<D> = { ok: true; document: D } | { ok: false; errors: DocumentError[] };
type Compiled = { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] };

/** Schema, then compiler, for one kind of document; errors positioned and keyed. */
function loadKind<D extends LoadedDocument['document']>(parsed: ParsedText, format: DocumentFormat, key: string | undefined,
  validate: (value: unknown) => Checked<D>, compile: (doc: D) => Compiled): LoadResult {
  const valid = validate(parsed.value);
  if (!valid.ok) return { ok: false, stage: 'document', errors: finish(positionErrors(valid.errors, parsed.positions), key) };
  const compiled = compile(valid.document);
  if (!compiled.ok) return { ok: false, stage: 'document', errors: finish(positionErrors(compiled.errors, parsed.positions), key) };
  return { ok: true, loaded: { document: valid.document, text: parsed.text, format, policy: compiled.policy } };
}

/** Validate and compile an already-parsed value. */
export function loadParsed(parsed: ParsedText, format: DocumentFormat, options: CompileOptions = {}): LoadResult {
  const key = keyOf(parsed.value);
  const kind = kindOf(parsed.value);
  if (kind === 'registry') return loadKind(parsed, format, key, validateRegistryDocument, registryAsPolicy);
  if (kind === 'lua') return loadKind(parsed, format, key, validateLuaDocument, (doc) => compileLuaDocument(doc, options.luaBudgets));
  if (kind === 'messages') return loadKind(parsed, format, key, validateMessagesDocument, catalogueAsPolicy);
  if (kind === 'tests') return loadKind(parsed, format, key, validateTestsDocument, testsAsPolicy);
  if (kind === 'routes') return loadKind(parsed, format, key, validateRoutesDocument, routesAsPolicy);
  return loadKind(parsed, format, key, validatePolicyDocument, (doc) => compilePolicy(doc, options));
}

/** Parse, validate and compile one document from text. */
export function loadDocument(text: string, format: DocumentFormat, limits: ParseLimits = DEFAULT_PARSE_LIMITS, options: CompileOptions = {}): LoadResult {
  const parsed = parseText(text, format, limits, false);
  if (!parsed.ok) return { ok: false, stage: 'parse', errors: finish(parsed.errors, undefined) };
  return loadParsed(parsed.documents[0]!, format, options);
}

/** Parse a stream (JSON array or multi-document YAML); every document is checked. */
/**
 * Parse a stream (JSON array or multi-document YAML); every document is checked. A
 * registry in the stream types the stream's policies; otherwise `options.registry` does.
 */
export function loadDocuments(text: string, format: DocumentFormat, limits: ParseLimits = DEFAULT_PARSE_LIMITS, options: CompileOptions = {}):
  { ok: true; loaded: LoadedDocument[] } | { ok: false; errors: DocumentError[]; stage: FailureStage } {
  const parsed = parseText(text, format, limits, true);
  if (!parsed.ok) return { ok: false, stage: 'parse', errors: finish(parsed.errors, undefined) };
  const loaded: LoadedDocument[] = [];
  const errors: DocumentError[] = [];
  const seen = new Set<string>();
  let registry: CompiledRegistry | undefined = options.registry;
  for (const p of parsed.documents) {
    if (kindOf(p.value) !== 'registry') continue;
    const r = loadParsed(p, format);
    if (r.ok) registry = r.loaded.policy.registry;
  }
  parsed.documents.forEach((p, i) => {
    const r = loadParsed(p, format, { ...options, registry });
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
