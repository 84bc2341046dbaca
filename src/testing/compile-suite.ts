// A checked suite → a suite ready to run: inline documents compiled, includes resolved
// through a callback (files on disk for the CLI; refused over HTTP), keys unique, case
// names unique, namespace paths and times valid. Every problem is collected.

import { compileDocument, loadDocument, loadParsed, type LoadedDocument } from '../core/compile/load-document.js';
import { positionErrors } from '../core/document/parse.js';
import { caseInputReader } from '../core/compile/case-inputs.js';
import type { ParsedSuite } from './parse-suite.js';
import type { CompiledSuite, ReadyCase, SuiteProblem } from './types.js';

export interface IncludedDocuments {
  documents: Array<{ loaded: LoadedDocument; file: string; keyPosition?: { line: number; column: number } }>;
  problems: SuiteProblem[];
}

/** Resolves one `include:` entry (its patterns as written) to documents. */
export type IncludeResolver = (patterns: readonly string[], at: string) => IncludedDocuments;

export type CompileSuiteResult =
  | { ok: true; suite: CompiledSuite }
  /** `policies`: every problem is inside a policy document; `suite`: some are in the suite itself */
  | { ok: false; stage: 'policies' | 'suite'; problems: SuiteProblem[] };

function prefixed(at: string, path: string): string {
  return path === '' ? at : `${at}.${path}`;
}

export function compileSuite(parsed: ParsedSuite, resolveInclude: IncludeResolver, file?: string): CompileSuiteResult {
  const { spec, positions } = parsed;
  const where = (problems: SuiteProblem[]) => (positionErrors(problems, positions) as SuiteProblem[]).map((p) => (file !== undefined && p.file === undefined ? { file, ...p } : p));
  const policyProblems: SuiteProblem[] = [];
  const suiteProblems: SuiteProblem[] = [];
  const documents: Array<{ loaded: LoadedDocument; at: string; file?: string; keyPosition?: { line: number; column: number } }> = [];

  /** A problem inside one of the documents, wherever it came from. */
  const located = (d: (typeof documents)[number], path: string, message: string): SuiteProblem => {
    const problem = { document: d.loaded.policy.key, path: d.file ? path : prefixed(d.at, path), message };
    return d.file ? { file: d.file, ...problem, ...(path === 'key' ? d.keyPosition : {}) } : where([problem])[0]!;
  };

  spec.policies.forEach((entry, i) => {
    const at = `policies[${i}]`;
    if (typeof entry === 'object' && 'include' in entry) {
      const patterns = Array.isArray(entry.include) ? entry.include : [entry.include as string];
      const r = resolveInclude(patterns, `${at}.include`);
      // Problems inside included files are policy problems; others (nothing matched, no file access) the suite's.
      for (const p of r.problems) (p.file === undefined ? suiteProblems : policyProblems).push(p);
      for (const d of r.documents) documents.push({ loaded: d.loaded, at: `${at}.include`, file: d.file, keyPosition: d.keyPosition });
      return;
    }
    const r = typeof entry === 'string' ? loadDocument(entry, 'yaml') : loadParsed({ value: entry, text: '' }, 'json');
    if (r.ok) {
      documents.push({ loaded: r.loaded, at });
      return;
    }
    // Errors inside YAML text are positioned in that text: name the line there, point at the entry.
    const mapped = r.errors.map((e) => {
      const inner = typeof entry === 'string' && e.line !== undefined ? ` (line ${e.line} of the text)` : '';
      return { document: e.document, path: prefixed(at, e.path), message: e.message + inner };
    });
    policyProblems.push(...where(mapped));
  });

  // An attribute registry types every condition, as the service's stored one does.
  const registries = documents.filter((d) => d.loaded.policy.kind === 'registry');
  const registry = registries[0]?.loaded.policy.registry;
  if (registries.length > 1) {
    policyProblems.push(...registries.slice(1).map((d) => located(d, 'key', 'a suite holds at most one attribute registry')));
  } else if (registry) {
    for (const d of documents) {
      if (d.loaded.policy.kind === 'registry') continue;
      const typed = compileDocument(d.loaded.document, { registry });
      if (typed.ok) d.loaded = { ...d.loaded, policy: typed.policy };
      else policyProblems.push(...typed.errors.map((e) => located(d, e.path, `${e.message} (typed against ${registry.key})`)));
    }
  }

  const keys = new Map<string, string>();
  for (const d of documents) {
    const key = d.loaded.policy.key;
    const first = keys.get(key);
    if (first === undefined) keys.set(key, d.file ?? d.at);
    else policyProblems.push(located(d, 'key', `duplicate key: ${first} holds a document with this key too`));
  }

  // Suite-wide defaults are checked once; a case's own values where it has them.
  const { pathOf, timeOf } = caseInputReader(suiteProblems);
  const suitePath = spec.namespace === undefined ? undefined : pathOf(spec.namespace, 'namespace');
  const suiteNow = spec.now === undefined ? undefined : timeOf(spec.now, 'now');

  const cases: ReadyCase[] = [];
  const names = new Set<string>();
  spec.cases.forEach((c, j) => {
    const at = `cases[${j}]`;
    if (names.has(c.name)) suiteProblems.push({ path: `${at}.name`, message: `two cases are named ${JSON.stringify(c.name)}` });
    names.add(c.name);
    if (c.policy !== undefined) {
      if (!documents.some((d) => d.loaded.policy.key === c.policy && d.loaded.policy.kind === 'lua')) {
        suiteProblems.push({ path: `${at}.policy`, message: `the suite has no script document (kind: lua) with key ${JSON.stringify(c.policy)}` });
      }
    } else if (c.namespace === undefined && spec.namespace === undefined) {
      suiteProblems.push({ path: `${at}.namespace`, message: 'is required (or give the suite a namespace)' });
    }
    const policyNamespace = c.policy !== undefined ? documents.find((d) => d.loaded.policy.key === c.policy)?.loaded.policy.namespace : undefined;
    const namespaces = policyNamespace !== undefined ? [policyNamespace] : (c.namespace !== undefined ? pathOf(c.namespace, `${at}.namespace`) : suitePath) ?? [];
    const now = c.now !== undefined ? timeOf(c.now, `${at}.now`) : suiteNow;
    cases.push({ spec: c, namespaces, now });
  });

  if (policyProblems.length > 0 || suiteProblems.length > 0) {
    const problems = [...where(suiteProblems), ...policyProblems].sort((a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.path.localeCompare(b.path));
    return { ok: false, stage: suiteProblems.length > 0 ? 'suite' : 'policies', problems };
  }
  const defaultLanguage = spec.defaultLanguage !== undefined ? { defaultLanguage: spec.defaultLanguage } : {};
  return { ok: true, suite: { name: spec.name, file, policies: documents.map((d) => d.loaded.policy), cases, ...(registry ? { registry } : {}), ...defaultLanguage } };
}
