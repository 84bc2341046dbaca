// Registry document → compiled registry: name maps per scope. The registry lives in
// the `global` namespace; there is one per deployment.

import type { DocumentError } from '../document/types.js';
import type { AttributeScope, CompiledRegistry, RegistryDocument } from './types.js';
import { namespaceOfKey } from '../namespace.js';

export const REGISTRY_NAMESPACE = 'global';

export function compileRegistry(doc: RegistryDocument): { ok: true; registry: CompiledRegistry } | { ok: false; errors: DocumentError[] } {
  const errors: DocumentError[] = [];
  const ns = doc.namespace ?? namespaceOfKey(doc.key);
  if (ns !== REGISTRY_NAMESPACE || !doc.key.startsWith(`${REGISTRY_NAMESPACE}-`)) {
    errors.push({ path: 'key', message: `an attribute registry belongs to the ${REGISTRY_NAMESPACE} namespace (key '${REGISTRY_NAMESPACE}-…')` });
  }
  for (const scope of ['subject', 'context', 'resource', 'facts'] as const) {
    for (const [name, decl] of Object.entries(doc[scope] ?? {})) {
      if ((decl.maxItems !== undefined) && decl.type !== 'string_list') errors.push({ path: `${scope}.${name}.maxItems`, message: 'only a string_list has items' });
      if ((decl.maxLength !== undefined) && decl.type !== 'string' && decl.type !== 'string_list') errors.push({ path: `${scope}.${name}.maxLength`, message: 'only strings have a length' });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const scopes = {} as Record<AttributeScope, Map<string, RegistryDocument['subject'] extends Record<string, infer D> | undefined ? D : never>>;
  for (const scope of ['subject', 'context', 'resource', 'facts'] as const) scopes[scope] = new Map(Object.entries(doc[scope] ?? {}));
  return { ok: true, registry: { key: doc.key, document: doc, scopes } };
}
