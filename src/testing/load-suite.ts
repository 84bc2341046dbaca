// Suites from disk: finding *.test.yaml files, reading one with its includes resolved
// relative to it, running a whole set, and bundling a suite (includes inlined) to send
// to POST /v1/test.

import { readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { compileSuite, type IncludedDocuments, type IncludeResolver } from './compile-suite.js';
import { expandGlob, hasGlob } from './glob.js';
import { parseSuite } from './parse-suite.js';
import { formatOfPath, isPolicyFile, isSuiteFile, listFiles, readPolicyFile } from './policy-files.js';
import { brokenSuite, runSuite, summarize, type RunOptions } from './run-suite.js';
import type { CompiledSuite, RunResult, SuiteProblem, SuiteSpec } from './types.js';

/** Suite files named by the arguments: files as given, directories searched recursively. */
export function findSuiteFiles(paths: readonly string[]): { files: string[]; problems: SuiteProblem[] } {
  const files: string[] = [];
  const problems: SuiteProblem[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      problems.push({ file: p, path: '', message: 'no such file or directory' });
      continue;
    }
    if (!isDir) files.push(p);
    else {
      const found = listFiles(p, isSuiteFile);
      if (found.length === 0) problems.push({ file: p, path: '', message: 'no *.test.yaml, *.test.yml or *.test.json file here' });
      files.push(...found);
    }
  }
  return { files: [...new Set(files)], problems };
}

/** A path relative to the working directory when it lies below it; absolute otherwise. */
function shortPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel === '' || rel.startsWith('..') ? abs : rel;
}

/** Include entries resolved on disk, relative to the suite's directory. */
export function fileIncludeResolver(suiteDir: string, display: (abs: string) => string = shortPath): IncludeResolver {
  // A file named twice (overlapping globs, a directory and a file in it) is loaded once.
  const seen = new Set<string>();
  return (patterns, at) => {
    const out: IncludedDocuments = { documents: [], problems: [] };
    for (const pattern of patterns) {
      const matches = expandGlob(pattern, suiteDir);
      const files: string[] = [];
      const before = out.problems.length;
      for (const m of matches) {
        if (statSync(m).isDirectory()) files.push(...listFiles(m, isPolicyFile));
        else if (isPolicyFile(m)) files.push(m);
        else if (!hasGlob(pattern)) out.problems.push({ path: at, message: `${pattern} is not a policy file (.json, .yaml or .yml, not a suite)` });
      }
      if (files.length === 0 && out.problems.length === before) out.problems.push({ path: at, message: `${pattern} matches no policy file` });
      for (const f of files) {
        if (seen.has(f)) continue;
        seen.add(f);
        const r = readPolicyFile(f);
        const file = display(f);
        out.problems.push(...r.problems.map((p) => ({ ...p, file })));
        r.documents.forEach((loaded, i) => out.documents.push({ loaded, file, keyPosition: r.keyPositions[i] }));
      }
    }
    return out;
  };
}

function nameFromFile(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/\.test\.(ya?ml|json)$/, '');
}

/** Read, check and compile one suite file. */
export function loadSuiteFile(file: string): { ok: true; suite: CompiledSuite } | { ok: false; name: string; problems: SuiteProblem[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, name: nameFromFile(file), problems: [{ file, path: '', message: `cannot read: ${(err as Error).message}` }] };
  }
  const parsed = parseSuite(text, formatOfPath(file));
  if (!parsed.ok) return { ok: false, name: nameFromFile(file), problems: parsed.problems.map((p) => ({ file, ...p })) };
  const compiled = compileSuite(parsed.suite, fileIncludeResolver(dirname(resolve(file))), file);
  if (!compiled.ok) return { ok: false, name: parsed.suite.spec.name, problems: compiled.problems };
  return compiled;
}

/** Find, load and run every suite the paths name. */
export function runSuiteFiles(paths: readonly string[], options: RunOptions = {}): RunResult {
  const started = performance.now();
  const found = findSuiteFiles(paths);
  const results = found.problems.map((p) => brokenSuite(p.file ?? '?', p.file, [p]));
  for (const file of found.files) {
    const loaded = loadSuiteFile(file);
    results.push(loaded.ok ? runSuite(loaded.suite, options) : brokenSuite(loaded.name, file, loaded.problems));
  }
  return summarize(results, performance.now() - started);
}

/**
 * The suite with every include replaced by the documents it names (YAML ones as their
 * text, comments included; JSON ones as objects): self-contained, for POST /v1/test.
 */
export function bundleSuiteFile(file: string): { ok: true; suite: SuiteSpec } | { ok: false; problems: SuiteProblem[] } {
  const parsed = parseSuite(readFileSync(file, 'utf8'), formatOfPath(file));
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map((p) => ({ file, ...p })) };
  const resolveInclude = fileIncludeResolver(dirname(resolve(file)));
  const problems: SuiteProblem[] = [];
  const policies: SuiteSpec['policies'] = [];
  parsed.suite.spec.policies.forEach((entry, i) => {
    if (typeof entry !== 'object' || !('include' in entry)) {
      policies.push(entry);
      return;
    }
    const r = resolveInclude(Array.isArray(entry.include) ? entry.include : [entry.include as string], `policies[${i}].include`);
    problems.push(...r.problems);
    for (const d of r.documents) policies.push(d.loaded.format === 'yaml' ? d.loaded.text : (d.loaded.document as unknown as Record<string, unknown>));
  });
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, suite: { ...parsed.suite.spec, policies } };
}
