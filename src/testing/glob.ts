// File-name globs for suite includes (`../policies/**/*.yaml`): `*` and `?` inside one
// path segment, `**` for any number of directories. Node 20 has no fs.glob; this is
// the small subset suites need. Hidden entries match only a pattern that names the dot.

import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

export function hasGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

function segmentRegex(segment: string): RegExp {
  let out = '';
  for (const ch of segment) {
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function entries(dir: string): Array<{ name: string; dir: boolean }> {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .map((e) => ({ name: e.name, dir: e.isDirectory() || (e.isSymbolicLink() && isDirectory(join(dir, e.name))) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function walk(dir: string, segments: readonly string[], out: Set<string>): void {
  const [head, ...rest] = segments;
  if (head === undefined) {
    out.add(dir);
    return;
  }
  if (head === '**') {
    walk(dir, rest, out); // zero directories
    for (const e of entries(dir)) if (e.dir && !e.name.startsWith('.')) walk(join(dir, e.name), segments, out);
    return;
  }
  if (!hasGlob(head)) {
    const next = join(dir, head);
    if (rest.length === 0 ? exists(next) : isDirectory(next)) walk(next, rest, out);
    return;
  }
  const re = segmentRegex(head);
  for (const e of entries(dir)) {
    if (e.name.startsWith('.') && !head.startsWith('.')) continue;
    if (!re.test(e.name)) continue;
    if (rest.length === 0 || e.dir) walk(join(dir, e.name), rest, out);
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Absolute paths of the files and directories `pattern` (relative to `base`) names, sorted. */
export function expandGlob(pattern: string, base: string): string[] {
  const absolute = isAbsolute(pattern) ? pattern : resolve(base, pattern);
  if (!hasGlob(pattern)) return exists(absolute) ? [absolute] : [];
  const parts = absolute.split(sep);
  const firstGlob = parts.findIndex(hasGlob);
  const root = parts.slice(0, firstGlob).join(sep) || sep;
  const out = new Set<string>();
  walk(root, parts.slice(firstGlob), out);
  return [...out].sort();
}
