// Policy documents from files: one document per file, or a stream (a JSON array or a
// multi-document YAML file). Used by suite includes and by the CLI's validate, eval and
// push. Every problem is collected with its file, line and column.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { loadParsed, type LoadedDocument } from '../core/compile/load-document.js';
import { DEFAULT_PARSE_LIMITS, parseText, type ParseLimits } from '../core/document/parse.js';
import type { DocumentFormat } from '../core/document/types.js';
import type { SuiteProblem } from './types.js';

export const FILE_PARSE_LIMITS: ParseLimits = { ...DEFAULT_PARSE_LIMITS, maxBytes: 8 * 1024 * 1024 };

const SUITE_FILE = /\.test\.(ya?ml|json)$/;

export function isSuiteFile(path: string): boolean {
  return SUITE_FILE.test(path);
}

export function isPolicyFile(path: string): boolean {
  return ['.json', '.yaml', '.yml'].includes(extname(path)) && !isSuiteFile(path);
}

export function formatOfPath(path: string): DocumentFormat {
  return extname(path) === '.json' ? 'json' : 'yaml';
}

/** Files under `dir` (recursively, sorted, hidden entries skipped) that `accept` keeps. */
export function listFiles(dir: string, accept: (path: string) => boolean): string[] {
  const out: string[] = [];
  const names = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of names) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(path, accept));
    else if (accept(path)) out.push(path);
  }
  return out;
}

export interface PolicyFile {
  file: string;
  documents: LoadedDocument[];
  /** where each document's key is written (YAML only), parallel to `documents` */
  keyPositions: Array<{ line: number; column: number } | undefined>;
  problems: SuiteProblem[];
}

/** Parse, validate and compile every document of one file's text. Pure. */
export function loadPolicyText(text: string, format: DocumentFormat, file: string, limits: ParseLimits = FILE_PARSE_LIMITS): PolicyFile {
  // A JSON file is a stream only when it is an array; a YAML file may always be one.
  const multi = format === 'yaml' || text.trimStart().startsWith('[');
  const parsed = parseText(text, format, limits, multi);
  if (!parsed.ok) return { file, documents: [], keyPositions: [], problems: parsed.errors.map((e) => ({ file, ...e })) };
  if (parsed.documents.length === 0) return { file, documents: [], keyPositions: [], problems: [{ file, path: '', message: 'the file holds no document' }] };
  const several = parsed.documents.length > 1 || format === 'json';
  const documents: LoadedDocument[] = [];
  const keyPositions: PolicyFile['keyPositions'] = [];
  const problems: SuiteProblem[] = [];
  parsed.documents.forEach((p, i) => {
    const r = loadParsed(p, format);
    if (r.ok) {
      documents.push(r.loaded);
      keyPositions.push(p.positions?.get('key'));
    } else {
      const prefix = several && multi ? `[${i}]` : '';
      problems.push(...r.errors.map((e) => ({ file, ...e, path: prefix + (prefix && e.path ? '.' : '') + e.path })));
    }
  });
  return { file, documents, keyPositions, problems };
}

export function readPolicyFile(file: string, limits: ParseLimits = FILE_PARSE_LIMITS): PolicyFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { file, documents: [], keyPositions: [], problems: [{ file, path: '', message: `cannot read: ${(err as Error).message}` }] };
  }
  return loadPolicyText(text, formatOfPath(file), file, limits);
}

/** Two documents with one key would overwrite each other in a store. */
export function duplicateKeyProblems(files: readonly PolicyFile[]): SuiteProblem[] {
  const seen = new Map<string, string>();
  const problems: SuiteProblem[] = [];
  for (const f of files) {
    f.documents.forEach((d, i) => {
      const first = seen.get(d.policy.key);
      if (first !== undefined) {
        problems.push({ file: f.file, document: d.policy.key, path: 'key', message: `duplicate key: ${first} holds a document with this key too`, ...f.keyPositions[i] });
      } else seen.set(d.policy.key, f.file);
    });
  }
  return problems;
}

/**
 * Every policy file the paths name (files as given, directories searched recursively),
 * loaded, with every problem: unreadable or invalid files and duplicate keys.
 */
export function readPolicyPaths(paths: readonly string[], limits: ParseLimits = FILE_PARSE_LIMITS): { files: PolicyFile[]; problems: SuiteProblem[] } {
  const files: PolicyFile[] = [];
  const problems: SuiteProblem[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    let names: string[];
    try {
      names = statSync(p).isDirectory() ? listFiles(p, isPolicyFile) : [p];
    } catch {
      problems.push({ file: p, path: '', message: 'no such file or directory' });
      continue;
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      const f = readPolicyFile(name, limits);
      files.push(f);
      problems.push(...f.problems);
    }
  }
  problems.push(...duplicateKeyProblems(files));
  return { files, problems };
}
