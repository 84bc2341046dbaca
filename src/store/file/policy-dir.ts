// Reading a policy directory: which files count, what key each holds, which file wins
// when two hold the same key, and which files are broken. A file's key comes from its
// content, never from its name, so `admins.yaml` may hold `global-admins`.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDocument, type LoadedDocument } from '../../core/compile/load-document.js';
import type { DocumentError, DocumentFormat } from '../../core/document/types.js';
import { compareKeys } from '../list-page.js';
import { recordOf, type NewPolicy, type PolicyRecord } from '../store.js';

/** The policy a loaded document describes, as a store writes it. */
export function newPolicyOf(loaded: LoadedDocument): NewPolicy {
  const { policy } = loaded;
  return {
    key: policy.key,
    namespace: policy.namespace,
    ordinal: policy.ordinal ?? null,
    disabled: policy.disabled,
    format: loaded.format,
    text: loaded.text,
    document: loaded.document,
  };
}

/** The format a file name implies, or undefined when the file is not a policy file. */
export function formatOfFileName(name: string): DocumentFormat | undefined {
  // Dotfiles cover editor swap files, our own `.…tmp` files and Kubernetes' `..data`.
  if (name.startsWith('.')) return undefined;
  const lower = name.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return undefined;
}

/** The file an API write of `key` goes to. */
export function fileNameOf(key: string, format: DocumentFormat): string {
  return `${key}.${format}`;
}

export interface FileProblem {
  /** file name inside the directory */
  file: string;
  errors: DocumentError[];
}

export interface PolicyFile {
  /** file name inside the directory */
  file: string;
  record: PolicyRecord;
}

type Loaded = { ok: true; policy: NewPolicy; mtime: Date } | { ok: false; errors: DocumentError[] };

/**
 * What was last read from each file, keyed by a stat signature, so a re-scan after an
 * event re-reads only files that changed. Stat follows symlinks, so a ConfigMap swap
 * (same name, new target inode) is a change.
 */
export type LoadCache = Map<string, { signature: string; loaded: Loaded }>;

export interface DirScan {
  /** key → the file that defines it (the first by file name when several do) */
  byKey: Map<string, PolicyFile>;
  /** key → every file holding it, the winner first */
  filesByKey: Map<string, string[]>;
  /** files that failed to load, and files ignored because an earlier one has their key */
  problems: FileProblem[];
  /** names of the files that failed to load (parse, schema or compile errors) */
  failed: Set<string>;
  /** the cache to pass to the next scan (entries of vanished files dropped) */
  cache: LoadCache;
}

async function loadFile(path: string, format: DocumentFormat, mtime: Date): Promise<Loaded> {
  const text = await readFile(path, 'utf8');
  const result = loadDocument(text, format);
  if (!result.ok) return { ok: false, errors: result.errors };
  return { ok: true, policy: newPolicyOf(result.loaded), mtime };
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  // The file went away (or its symlink broke) between listing and reading: not a problem.
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Read every policy file of `dir`. Throws only when the directory itself cannot be read. */
export async function scanPolicyDir(dir: string, previous: LoadCache): Promise<DirScan> {
  const names = (await readdir(dir)).filter((n) => formatOfFileName(n) !== undefined).sort(compareKeys);
  const cache: LoadCache = new Map();
  const scan: DirScan = { byKey: new Map(), filesByKey: new Map(), problems: [], failed: new Set(), cache };
  for (const file of names) {
    const path = join(dir, file);
    let loaded: Loaded;
    try {
      const s = await stat(path, { bigint: true });
      if (!s.isFile()) continue; // a subdirectory, or a symlink to one
      const signature = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
      const hit = previous.get(file);
      if (hit !== undefined && hit.signature === signature) {
        loaded = hit.loaded;
      } else {
        loaded = await loadFile(path, formatOfFileName(file)!, new Date(Number(s.mtimeMs)));
      }
      cache.set(file, { signature, loaded });
    } catch (err) {
      if (isMissing(err)) continue;
      loaded = { ok: false, errors: [{ path: '', message: `cannot read the file: ${(err as Error).message}` }] };
    }
    if (!loaded.ok) {
      scan.failed.add(file);
      scan.problems.push({ file, errors: loaded.errors });
      continue;
    }
    const { key } = loaded.policy;
    const files = scan.filesByKey.get(key);
    if (files === undefined) {
      scan.filesByKey.set(key, [file]);
      scan.byKey.set(key, { file, record: recordOf(loaded.policy, loaded.mtime) });
    } else {
      files.push(file);
      scan.problems.push({
        file,
        errors: [{ document: key, path: 'key', message: `key ${key} is already defined in ${files[0]}; this file is ignored` }],
      });
    }
  }
  return scan;
}
