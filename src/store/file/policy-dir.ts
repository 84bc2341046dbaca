// Reading a policy directory: which files count, what key each holds, which file wins
// when two hold the same key, and which files are broken. A file's key comes from its
// content, never from its name, so `admins.yaml` may hold `global-admins`.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadParsed, type LoadedDocument } from '../../core/compile/load-document.js';
import { initLuaFor } from '../../core/lua/sandbox.js';
import { parseText } from '../../core/document/parse.js';
import { textBacked } from '../text-backed.js';
import type { DocumentError, DocumentFormat } from '../../core/document/types.js';
import { isValidKey, isValidNamespace, resolveDocumentNamespace } from '../../core/namespace.js';
import { compareKeys } from '../list-page.js';
import { UNPLACED_NAMESPACE, etagOf, recordOf, type NewPolicy, type PolicyRecord } from '../store.js';

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
  /** the file does not load: the record stands for it (brokenRecordOf), and never compiles */
  broken?: true;
}

/**
 * A file that does not load is still a document of its namespace (SPEC: a broken document
 * fails its namespace closed, so the deny it may hold is never silently dropped). Its
 * place comes from what can be read of it: its key and namespace when it parses and they
 * are valid, else none — and then it could belong anywhere (UNPLACED_NAMESPACE).
 */
export interface BrokenFile {
  errors: DocumentError[];
  /** the document's own key and namespace, when they can be read */
  place?: { key: string; namespace: string };
  format: DocumentFormat;
  /** the file's text ('' when it could not be read) */
  text: string;
  /** the parsed value, when the text parses */
  value?: unknown;
  /** the file's modification time, ms since the epoch (a number: a `Date` per file costs 88 bytes) */
  mtimeMs: number;
}


type Loaded = { ok: true; record: PolicyRecord } | ({ ok: false } & BrokenFile);

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
  /** the files that failed to load (parse, schema or compile errors, or unreadable), by name */
  failed: Map<string, BrokenFile>;
  /** the cache to pass to the next scan (entries of vanished files dropped) */
  cache: LoadCache;
}

function placeOf(value: unknown): { key: string; namespace: string } | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { key, namespace } = value as { key?: unknown; namespace?: unknown };
  if (typeof key !== 'string' || !isValidKey(key)) return undefined;
  const explicit = typeof namespace === 'string' && isValidNamespace(namespace) ? namespace : undefined;
  const resolved = resolveDocumentNamespace(key, explicit);
  return resolved.ok ? { key, namespace: resolved.namespace } : undefined;
}

async function loadFile(path: string, format: DocumentFormat, mtimeMs: number): Promise<Loaded> {
  const text = await readFile(path, 'utf8');
  const parsed = parseText(text, format);
  if (!parsed.ok) return { ok: false, errors: parsed.errors, format, text, mtimeMs };
  const document = parsed.documents[0]!;
  await initLuaFor(document.value);
  const result = loadParsed(document, format);
  if (!result.ok) {
    const place = placeOf(document.value);
    return { ok: false, errors: result.errors, format, text, value: document.value, mtimeMs, ...(place ? { place } : {}) };
  }
  // The file's text is the document: the parsed tree is not kept (text-backed.ts). The
  // record is made once per version of the file (its etag hashes the text), and a re-scan
  // that finds the file unchanged reuses it.
  return { ok: true, record: recordOf(textBacked(newPolicyOf(result.loaded)), new Date(mtimeMs)) };
}

/**
 * The record a broken file stands for: its own key and namespace when readable, else
 * `~<file name>` (not a valid key, so it clashes with none) in UNPLACED_NAMESPACE. Its
 * document is kept as parsed when it does not compile, so the manager reports the same
 * errors; else a stub that fails validation the same way.
 */
export function brokenRecordOf(file: string, broken: BrokenFile): PolicyRecord {
  const key = broken.place?.key ?? `~${file}`;
  const document = broken.place !== undefined && broken.value !== undefined ? broken.value : { key, unreadable: file };
  return {
    key,
    namespace: broken.place?.namespace ?? UNPLACED_NAMESPACE,
    ordinal: null,
    disabled: false,
    format: broken.format,
    text: broken.text,
    document: document as PolicyRecord['document'],
    etag: etagOf(broken.format, `${file}\0${broken.text}`),
    updatedAt: new Date(broken.mtimeMs).toISOString(),
  };
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
  const scan: DirScan = { byKey: new Map(), filesByKey: new Map(), problems: [], failed: new Map(), cache };
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
        loaded = await loadFile(path, formatOfFileName(file)!, Number(s.mtimeMs));
      }
      cache.set(file, { signature, loaded });
    } catch (err) {
      if (isMissing(err)) continue;
      const errors = [{ path: '', message: `cannot read the file: ${(err as Error).message}` }];
      loaded = { ok: false, errors, format: formatOfFileName(file)!, text: '', mtimeMs: 0 };
    }
    if (!loaded.ok) {
      scan.failed.set(file, loaded);
      scan.problems.push({ file, errors: loaded.errors });
      continue;
    }
    const { key } = loaded.record;
    const files = scan.filesByKey.get(key);
    if (files === undefined) {
      scan.filesByKey.set(key, [file]);
      scan.byKey.set(key, { file, record: loaded.record });
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
