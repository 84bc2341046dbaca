// A stored route table (`kind: routes`, docs/gateways.md) → its compiled routes, as a
// never-run document of the `global` namespace. The routes are checked exactly as the
// FORWARD_AUTH_ROUTES file's are; every problem is collected with its field path.

import { resolveDocumentNamespace } from '../namespace.js';
import { compileRoutes } from '../forward-auth/route-table.js';
import { REGISTRY_NAMESPACE } from '../registry/compile-registry.js';
import type { DocumentError, RoutesDocument } from '../document/types.js';
import type { CompiledPolicy } from './types.js';

/** Route documents belong to `global` (key `global-…`): they route requests into any namespace. */
export const ROUTES_NAMESPACE = REGISTRY_NAMESPACE;

export function routesAsPolicy(doc: RoutesDocument): { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] } {
  const errors: DocumentError[] = [];
  const ns = resolveDocumentNamespace(doc.key, doc.namespace);
  if (!ns.ok || ns.namespace !== ROUTES_NAMESPACE) {
    errors.push({ path: doc.namespace !== undefined ? 'namespace' : 'key', message: `a route table belongs to the ${ROUTES_NAMESPACE} namespace (key '${ROUTES_NAMESPACE}-…'): its routes reach any namespace` });
  }
  const compiled = compileRoutes(doc.routes, doc.key);
  if (!compiled.ok) errors.push(...compiled.errors);
  if (errors.length > 0 || !compiled.ok) return { ok: false, errors };
  return {
    ok: true,
    policy: {
      kind: 'routes', key: doc.key, namespace: ROUTES_NAMESPACE, ordinal: undefined, disabled: false, rules: [],
      predicates: new Map(), reads: undefined, typed: false, routes: compiled.table, document: doc,
    },
  };
}
