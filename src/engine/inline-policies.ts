// The `policies` mode: documents sent in the request, validated like stored ones and
// run by ordinal, then in the order sent. Message catalogues may come along (they
// never run). Never touches a store.

import { loadDocument, loadParsed } from '../core/compile/load-document.js';
import type { ParseLimits } from '../core/document/parse.js';
import type { DocumentError } from '../core/document/types.js';
import type { CompiledPolicy } from '../core/compile/types.js';
import { PolicyEngineError } from '../errors.js';
import type { CompileOptions } from '../core/compile/compile-policy.js';
import type { CompiledCatalogue } from '../core/messages/types.js';

export function compileInlinePolicies(items: ReadonlyArray<Record<string, unknown> | string>, limits: ParseLimits, options: CompileOptions = {}): CompiledPolicy[] {
  return compileInlineDocuments(items, limits, options).policies;
}

/**
 * The policies to run, in run order; the catalogues sent beside them; and the namespaces
 * of every document in the order sent (the path their messages are looked up along).
 */
export function compileInlineDocuments(items: ReadonlyArray<Record<string, unknown> | string>, limits: ParseLimits, options: CompileOptions = {}):
  { policies: CompiledPolicy[]; catalogues: CompiledCatalogue[]; namespaces: string[] } {
  const errors: DocumentError[] = [];
  const policies: CompiledPolicy[] = [];
  const catalogues: CompiledCatalogue[] = [];
  const namespaces = new Set<string>();
  items.forEach((item, i) => {
    const r = typeof item === 'string'
      ? loadDocument(item, 'yaml', limits, options)
      : loadParsed({ value: item, text: '' }, 'json', options);
    // Only policies run; a registry sent inline is not taken (the stored one types conditions).
    if (r.ok) namespaces.add(r.loaded.policy.namespace);
    if (r.ok && r.loaded.policy.catalogue) catalogues.push(r.loaded.policy.catalogue);
    else if (r.ok && (r.loaded.policy.kind === 'policy' || r.loaded.policy.kind === 'lua')) policies.push(r.loaded.policy);
    else if (r.ok) errors.push({ path: `policies[${i}]`, message: 'only policy documents run in the policies mode' });
    else errors.push(...r.errors.map((e) => ({ ...e, path: `policies[${i}]${e.path === '' ? '' : '.' + e.path}` })));
  });
  if (errors.length > 0) throw new PolicyEngineError('POLICY_INVALID', `${errors.length} error(s) in the policies sent`, errors);
  // Stable sort: by ordinal (absent last), then the order sent.
  const ordered = policies
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const x = a.p.ordinal;
      const y = b.p.ordinal;
      if (x !== y) {
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        return x - y;
      }
      return a.i - b.i;
    })
    .map(({ p }) => p);
  return { policies: ordered, catalogues, namespaces: [...namespaces] };
}
