// Namespace paths and policy keys (SPEC §1): parsing, limits and the namespace a key
// belongs to. Pure: callers turn the returned reasons into domain errors.

export interface NamespaceLimits {
  /** most namespaces in one path */
  maxDepth: number;
  /** longest single namespace */
  maxLength: number;
}

export const DEFAULT_NAMESPACE_LIMITS: NamespaceLimits = { maxDepth: 32, maxLength: 128 };

// A namespace: letters, digits, `_` and `:`; a `-` only somewhere after a `:` (ids).
const NAMESPACE = /^[A-Za-z0-9_]*(?::[A-Za-z0-9_:-]*)?$/;
const KEY = /^[A-Za-z0-9_.:-]{1,256}$/;

export type NamespaceResult =
  | { ok: true; namespaces: string[] }
  | { ok: false; reason: string };

export function isValidNamespace(ns: string, limits: NamespaceLimits = DEFAULT_NAMESPACE_LIMITS): boolean {
  return typeof ns === 'string' && ns.length > 0 && ns.length <= limits.maxLength && NAMESPACE.test(ns);
}

export function parseNamespacePath(path: string, limits: NamespaceLimits = DEFAULT_NAMESPACE_LIMITS): NamespaceResult {
  if (typeof path !== 'string' || path.length === 0) return { ok: false, reason: 'namespace path is empty' };
  // Cheap bound before splitting a hostile string.
  if (path.length > limits.maxDepth * (limits.maxLength + 1)) {
    return { ok: false, reason: `namespace path is longer than ${limits.maxDepth} namespaces of ${limits.maxLength} characters` };
  }
  const namespaces = path.split('.');
  if (namespaces.length > limits.maxDepth) {
    return { ok: false, reason: `namespace path has ${namespaces.length} namespaces; at most ${limits.maxDepth} are allowed` };
  }
  for (let i = 0; i < namespaces.length; i++) {
    const ns = namespaces[i]!;
    if (ns.length === 0) return { ok: false, reason: `namespace ${i + 1} of the path is empty` };
    if (ns.length > limits.maxLength) {
      return { ok: false, reason: `namespace ${i + 1} is ${ns.length} characters long; at most ${limits.maxLength} are allowed` };
    }
    if (!NAMESPACE.test(ns)) {
      return { ok: false, reason: `namespace ${JSON.stringify(ns)} may hold only letters, digits, '_', ':' and, after a ':', '-'` };
    }
  }
  return { ok: true, namespaces };
}

export function isValidKey(key: string): boolean {
  return typeof key === 'string' && KEY.test(key);
}

/** The namespace a key implies: the part before its first `-` (undefined when it has none). */
export function namespaceOfKey(key: string): string | undefined {
  const i = key.indexOf('-');
  return i > 0 ? key.slice(0, i) : undefined;
}

/**
 * The namespace of a document: the explicit one when given, else derived from the key.
 * Returns a reason when the key does not start with `<namespace>-`.
 */
export function resolveDocumentNamespace(key: string, explicit: string | undefined): { ok: true; namespace: string } | { ok: false; reason: string } {
  if (explicit !== undefined) {
    if (!key.startsWith(explicit + '-') || key.length === explicit.length + 1) {
      return { ok: false, reason: `key ${JSON.stringify(key)} must start with its namespace followed by '-' (${JSON.stringify(explicit + '-')})` };
    }
    return { ok: true, namespace: explicit };
  }
  const derived = namespaceOfKey(key);
  if (derived === undefined || key.length === derived.length + 1) {
    return { ok: false, reason: `key ${JSON.stringify(key)} must be '<namespace>-<name>'` };
  }
  if (!isValidNamespace(derived)) {
    return { ok: false, reason: `key ${JSON.stringify(key)} derives namespace ${JSON.stringify(derived)}, which is not a valid namespace` };
  }
  return { ok: true, namespace: derived };
}
