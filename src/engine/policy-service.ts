// The policy REST API's logic (SPEC §5), apart from HTTP: validate before anything is
// written, write through the store, and apply the change to this replica at once.

import { compileDocument, loadDocument, loadDocuments, type FailureStage, type LoadedDocument } from '../core/compile/load-document.js';
import type { CompiledRegistry } from '../core/registry/types.js';
import type { LuaBudgets } from '../core/lua/sandbox.js';
import { initLuaFor } from '../core/lua/sandbox.js';
import { parseText, positionErrors, type ParseLimits } from '../core/document/parse.js';
import { routeDuplicates, type RouteTable } from '../core/forward-auth/route-table.js';
import type { DocumentError, DocumentFormat } from '../core/document/types.js';
import { isValidKey, isValidNamespace } from '../core/namespace.js';
import { PolicyEngineError } from '../errors.js';
import {
  type ListPage, type NewPolicy, type PolicyRecord, type PolicyStore, type PutResult, type WriteOptions,
} from '../store/store.js';
import type { PolicyManager } from './policy-manager.js';
import { storeCall as mapStoreErrors } from './store-errors.js';
import { lintMessages, type MessageWarning } from '../core/messages/lint.js';
import { requireReach, unrestrictedAccess, type Access } from '../core/access.js';
import { UNKNOWN_ACTOR } from '../store/history.js';
import { FILE_ROUTES_SOURCE } from './forward-auth-service.js';

/** In-process callers (tests, tools) are trusted; the HTTP routes always pass the request's access. */
const IN_PROCESS = unrestrictedAccess(UNKNOWN_ACTOR);
/** Pages a scoped list reads at most to fill one page of the namespaces it reaches. */
const MAX_SCOPED_LIST_PAGES = 20;

export interface PolicyServiceOptions {
  store: PolicyStore;
  manager: PolicyManager;
  parseLimits: ParseLimits;
  luaBudgets?: LuaBudgets;
  /** languages every message key should have a catalogue text in (validate warns); default: en */
  messageLanguages?: readonly string[];
  /** the FORWARD_AUTH_ROUTES file's routes: a stored `kind: routes` document may not duplicate one */
  fileRoutes?: RouteTable;
}



function invalid(errors: DocumentError[], stage: FailureStage = 'document'): PolicyEngineError {
  if (stage === 'parse') {
    return new PolicyEngineError('BODY_MALFORMED', `the body is not a well-formed document: ${errors[0]?.message ?? 'parse error'}`, errors);
  }
  return new PolicyEngineError('POLICY_INVALID', `the policy document is invalid (${errors.length} error${errors.length === 1 ? '' : 's'})`, errors);
}

function toNewPolicy(l: LoadedDocument): NewPolicy {
  return {
    key: l.policy.key,
    namespace: l.policy.namespace,
    ordinal: l.policy.ordinal ?? null,
    disabled: l.policy.disabled,
    format: l.format,
    text: l.text,
    document: l.document,
  };
}

/** Run a store call, turning store failures into domain errors. */
function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  return mapStoreErrors('the policy store', fn);
}

export function assertKey(key: string): void {
  if (!isValidKey(key)) throw new PolicyEngineError('KEY_INVALID', `invalid policy key ${JSON.stringify(key.slice(0, 300))}: 1-256 characters of [A-Za-z0-9_.:-]`);
}

export class PolicyService {
  constructor(private readonly options: PolicyServiceOptions) {}

  private get registry(): CompiledRegistry | undefined {
    return this.options.manager.registry;
  }

  private compileOptions(): { registry?: CompiledRegistry; luaBudgets?: LuaBudgets } {
    return { registry: this.registry, luaBudgets: this.options.luaBudgets };
  }

  /**
   * A new registry must keep every stored policy valid (their conditions are re-typed
   * against it), and there is one registry per deployment.
   */
  private checkRegistry(registry: CompiledRegistry, incoming: ReadonlySet<string>): void {
    const current = this.registry;
    if (current && current.key !== registry.key && !incoming.has(current.key)) {
      throw new PolicyEngineError('REGISTRY_CONFLICT', `the attribute registry is ${current.key}; replace or delete it instead of adding ${registry.key}`);
    }
    const errors: DocumentError[] = [];
    for (const { key, record } of this.options.manager.policyDocuments()) {
      if (incoming.has(key)) continue;
      const r = compileDocument(record.document, { registry, luaBudgets: this.options.luaBudgets });
      if (!r.ok) errors.push(...r.errors.map((e) => ({ ...e, document: key })));
    }
    if (errors.length > 0) {
      throw new PolicyEngineError('POLICY_INVALID', `the registry would make ${new Set(errors.map((e) => e.document)).size} stored document(s) invalid`, errors.slice(0, 50));
    }
  }

  /**
   * Stored route documents (and the file) are one table, tried in order: a route that an
   * earlier or later source already has (same method, same path template) would be dead
   * or would silently shadow another, so it is refused (409 ROUTES_CONFLICT), each with its line.
   */
  private checkRoutes(incoming: ReadonlyArray<{ loaded: LoadedDocument; index: number }>, text: string, format: DocumentFormat, multi: boolean): void {
    const routeDocs = incoming.filter((d) => d.loaded.policy.routes);
    if (routeDocs.length === 0) return;
    const keys = new Set(incoming.map((d) => d.loaded.policy.key));
    const others: Array<{ name: string; table: RouteTable }> = [];
    if (this.options.fileRoutes && this.options.fileRoutes.routes.length > 0) others.push({ name: FILE_ROUTES_SOURCE, table: this.options.fileRoutes });
    for (const t of this.options.manager.storedRoutes().tables) if (!keys.has(t.key)) others.push({ name: `stored document ${t.key}`, table: t.table });
    const errors: DocumentError[] = [];
    let positions: ReturnType<typeof parseText> | undefined;
    for (const d of routeDocs) {
      const found = routeDuplicates(d.loaded.policy.routes!, others);
      others.push({ name: `document ${d.loaded.policy.key} of this import`, table: d.loaded.policy.routes! });
      if (found.length === 0) continue;
      positions ??= parseText(text, format, this.options.parseLimits, multi);
      const at = positions.ok ? positions.documents[d.index]?.positions : undefined;
      errors.push(...positionErrors(found, at).map((e) => ({ ...e, document: d.loaded.policy.key, ...(multi ? { path: `[${d.index}].${e.path}` } : {}) })));
    }
    if (errors.length > 0) {
      throw new PolicyEngineError('ROUTES_CONFLICT', `${errors.length} route${errors.length === 1 ? '' : 's'} already routed by another route source (the route file or a stored routes document): ${errors[0]!.message}`, errors.slice(0, 50));
    }
  }

  async put(key: string, text: string, format: DocumentFormat, opts: WriteOptions, access: Access = IN_PROCESS): Promise<PutResult> {
    assertKey(key);
    await initLuaFor(text);
    const r = loadDocument(text, format, this.options.parseLimits, this.compileOptions());
    if (!r.ok) throw invalid(r.errors, r.stage);
    if (r.loaded.policy.key !== key) {
      throw new PolicyEngineError('POLICY_KEY_MISMATCH', `the document's key ${JSON.stringify(r.loaded.policy.key)} differs from the URL's ${JSON.stringify(key)}`);
    }
    if (r.loaded.policy.registry) this.checkRegistry(r.loaded.policy.registry, new Set([key]));
    this.checkRoutes([{ loaded: r.loaded, index: 0 }], text, format, false);
    if (!access.unrestricted) {
      // Both the namespace written and the one replaced: a document cannot be moved in or out of reach.
      const current = await storeCall(() => this.options.store.get(key));
      requireReach(access, 'write', [r.loaded.policy.namespace, ...(current ? [current.namespace] : [])], `policy ${key}`);
    }
    const result = await storeCall(() => this.options.store.put(toNewPolicy(r.loaded), { ...opts, actor: access.actor }));
    this.options.manager.apply([{ type: 'put', record: result.record, revision: result.revision }]);
    return result;
  }

  /** A document out of the credential's reach reads as absent: its existence is not told either. */
  async get(key: string, access: Access = IN_PROCESS): Promise<PolicyRecord> {
    assertKey(key);
    const record = await storeCall(() => this.options.store.get(key));
    if (!record || !access.reaches('read', record.namespace)) throw new PolicyEngineError('POLICY_NOT_FOUND', `no policy with key ${key}`);
    return record;
  }

  async list(namespace: string | undefined, cursor: string | undefined, limit: number, access: Access = IN_PROCESS): Promise<ListPage> {
    if (namespace !== undefined && !isValidNamespace(namespace)) {
      throw new PolicyEngineError('NAMESPACE_INVALID', `invalid namespace ${JSON.stringify(namespace.slice(0, 300))}`);
    }
    if (cursor !== undefined && !isValidKey(cursor)) throw new PolicyEngineError('REQUEST_INVALID', 'invalid cursor');
    if (namespace !== undefined) requireReach(access, 'read', [namespace], 'policies');
    if (access.unrestricted || namespace !== undefined) return storeCall(() => this.options.store.list({ namespace, after: cursor, limit }));
    // A scoped credential lists only what it reaches: filter store pages until one is full.
    const records: PolicyRecord[] = [];
    let after = cursor;
    for (let i = 0; i < MAX_SCOPED_LIST_PAGES; i++) {
      const page = await storeCall(() => this.options.store.list({ after, limit }));
      for (const r of page.records) {
        if (!access.reaches('read', r.namespace)) continue;
        records.push(r);
        if (records.length === limit) return { records, next: r.key };
      }
      if (page.next === undefined) return { records };
      after = page.next;
    }
    return after === undefined ? { records } : { records, next: after };
  }

  async delete(key: string, opts: WriteOptions, access: Access = IN_PROCESS): Promise<void> {
    assertKey(key);
    const current = await storeCall(() => this.options.store.get(key));
    if (current && !access.reaches('read', current.namespace)) throw new PolicyEngineError('POLICY_NOT_FOUND', `no policy with key ${key}`);
    if (current) requireReach(access, 'write', [current.namespace], `policy ${key}`);
    const result = await storeCall(() => this.options.store.delete(key, { ...opts, actor: access.actor }));
    if (result === false) throw new PolicyEngineError('POLICY_NOT_FOUND', `no policy with key ${key}`);
    this.options.manager.apply([{ type: 'delete', key, namespace: current?.namespace ?? '', revision: result.revision }]);
  }

  /** Bulk import: every document validated before any is written. */
  async import(text: string, format: DocumentFormat, access: Access = IN_PROCESS): Promise<{ created: number; replaced: number; keys: string[]; revision: string }> {
    await initLuaFor(text);
    const r = loadDocuments(text, format, this.options.parseLimits, this.compileOptions());
    if (!r.ok) throw invalid(r.errors, r.stage);
    const registries = r.loaded.filter((l) => l.policy.registry);
    if (registries.length > 1) throw new PolicyEngineError('REGISTRY_CONFLICT', 'an import may hold at most one attribute registry');
    if (registries[0]) this.checkRegistry(registries[0].policy.registry!, new Set(r.loaded.map((l) => l.policy.key)));
    this.checkRoutes(r.loaded.map((loaded, index) => ({ loaded, index })), text, format, true);
    const policies = r.loaded.map(toNewPolicy);
    if (!access.unrestricted) {
      // Refused whole when any document, or any document it replaces, is out of reach.
      const replaced = await Promise.all(policies.map((p) => storeCall(() => this.options.store.get(p.key))));
      const namespaces = [...policies.map((p) => p.namespace), ...replaced.flatMap((c) => (c ? [c.namespace] : []))];
      requireReach(access, 'write', namespaces, 'an import');
    }
    const result = await storeCall(() => this.options.store.putMany(policies, { actor: access.actor }));
    // Subscribable stores have sent their events already; pollable ones are asked now,
    // so this replica answers from the import at once.
    await this.options.manager.syncAfterWrite();
    return { ...result, keys: policies.map((p) => p.key) };
  }

  /**
   * Compile without storing: one document, a JSON array or a YAML stream. Valid
   * documents may still get warnings about their messages, checked together with the
   * stored documents (a sent one replaces the stored one of its key).
   */
  validate(text: string, format: DocumentFormat): { valid: boolean; errors: DocumentError[]; documents: number; warnings: MessageWarning[] } {
    const trimmed = text.trimStart();
    const multi = format === 'yaml' ? /^---|\n---/.test(text) : trimmed.startsWith('[');
    let loaded: LoadedDocument[];
    if (multi) {
      const r = loadDocuments(text, format, this.options.parseLimits, this.compileOptions());
      if (!r.ok) return { valid: false, errors: r.errors, documents: 0, warnings: [] };
      loaded = r.loaded;
    } else {
      const r = loadDocument(text, format, this.options.parseLimits, this.compileOptions());
      if (!r.ok) return { valid: false, errors: r.errors, documents: 0, warnings: [] };
      loaded = [r.loaded];
    }
    return { valid: true, errors: [], documents: loaded.length, warnings: this.messageWarnings(loaded) };
  }

  private messageWarnings(loaded: readonly LoadedDocument[]): MessageWarning[] {
    const sent = new Map(loaded.map((l) => [l.policy.key, l.policy]));
    const stored = this.options.manager.compiledDocuments().filter((p) => !sent.has(p.key));
    const warnings = lintMessages([...stored, ...sent.values()], this.options.messageLanguages ?? ['en']);
    return warnings.filter((w) => sent.has(w.document));
  }
}
