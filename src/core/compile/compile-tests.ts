// A stored test suite (`kind: tests`) → its cases ready to run against the stored
// policies: namespace paths parsed, times read, names unique. Every problem collected.

import { resolveDocumentNamespace } from '../namespace.js';
import { caseInputReader } from './case-inputs.js';
import type { DocumentError, TestsDocument } from '../document/types.js';
import type { CompiledPolicy, CompiledTests } from './types.js';

export function compileTests(doc: TestsDocument): { ok: true; tests: CompiledTests; namespace: string } | { ok: false; errors: DocumentError[] } {
  const errors: DocumentError[] = [];
  const ns = resolveDocumentNamespace(doc.key, doc.namespace);
  if (!ns.ok) errors.push({ path: doc.namespace !== undefined ? 'namespace' : 'key', message: ns.reason });
  const { pathOf, timeOf } = caseInputReader(errors);
  const defaultPath = doc.path === undefined ? undefined : pathOf(doc.path, 'path');
  const defaultNow = doc.now === undefined ? undefined : timeOf(doc.now, 'now');
  const names = new Set<string>();
  const cases = doc.cases.map((c, i) => {
    const at = `cases[${i}]`;
    if (names.has(c.name)) errors.push({ path: `${at}.name`, message: `two cases are named ${JSON.stringify(c.name)}` });
    names.add(c.name);
    // A `policy` case names a stored script document: its namespace is found at run time.
    let namespaces: string[] = [];
    if (c.policy === undefined) {
      if (c.namespace === undefined && doc.path === undefined) errors.push({ path: `${at}.namespace`, message: 'is required (or give the document a `path`)' });
      namespaces = (c.namespace !== undefined ? pathOf(c.namespace, `${at}.namespace`) : defaultPath) ?? [];
    }
    const now = c.now !== undefined ? timeOf(c.now, `${at}.now`) : defaultNow;
    return { spec: c, namespaces, now };
  });
  if (errors.length > 0 || !ns.ok) return { ok: false, errors };
  return { ok: true, namespace: ns.namespace, tests: { name: doc.name ?? doc.key, cases, ...(doc.defaultLanguage !== undefined ? { defaultLanguage: doc.defaultLanguage } : {}) } };
}

/** A stored suite as a (never-run) compiled document of its namespace. */
export function testsAsPolicy(doc: TestsDocument): { ok: true; policy: CompiledPolicy } | { ok: false; errors: DocumentError[] } {
  const compiled = compileTests(doc);
  if (!compiled.ok) return compiled;
  return {
    ok: true,
    policy: {
      kind: 'tests', key: doc.key, namespace: compiled.namespace, ordinal: undefined, disabled: false, rules: [],
      predicates: new Map(), reads: undefined, typed: false, tests: compiled.tests, document: doc,
    },
  };
}
