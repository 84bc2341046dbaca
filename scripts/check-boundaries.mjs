#!/usr/bin/env node
// Layer boundaries of src/, checked over the import statements of the TypeScript sources
// (the TypeScript compiler's own import scanner: static, `import type`, `export … from`
// and dynamic `import()` all count — a type-only import still ties two modules).
//
//   node scripts/check-boundaries.mjs        prints each violation; exit 1 when there is any
//
// Rules (generic by directory, so files may move between layers freely):
//  1. Layers, lowest first: every file of src/ belongs to the layer of its first
//     directory (src/errors.ts is a leaf every layer may use). A file imports only its own
//     layer or lower ones:
//        core                      0  pure logic: no I/O, no clock owned, no process state
//        store, cache, config      1  adapters and their interfaces
//        testing                   2  the policy test runner (over core)
//        engine, observability     3  services over the store and core
//        relations                 3  TEMPORARY: the relationship slice is being moved into
//                                     core/store/engine/server (issue 17 item 4); until then
//                                     it is exempt from this rule in both directions (see
//                                     UNLAYERED), though not from rules 2 and 3
//        server, client            4  HTTP
//        cli                       5
//        compose.ts, main.ts       6  the composition root
//     Within one layer, different directories may import each other (file cycles are rule 3).
//  2. core/ imports only core/, src/errors.ts and packages; of Node's built-in modules only
//     pure functions (PURE_BUILTINS below): no node:fs, node:net sockets, node:child_process…;
//     and it never reads process state (`process.env`, `process.argv`, … anywhere in its code).
//  3. No import cycle between files.
//
// Tests import `checkBoundaries` and feed it synthetic trees (test/boundaries.test.ts).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const LAYERS = {
  core: 0,
  'errors.ts': 0,
  store: 1, cache: 1, config: 1,
  testing: 2,
  engine: 3, observability: 3, relations: 3,
  server: 4, client: 4, 'index.ts': 4,
  cli: 5,
  'compose.ts': 6, 'compose-relations.ts': 6, 'compose-entities.ts': 6, 'main.ts': 6,
};

/** Directories exempt from rule 1 while they are being moved into the layers (remove when gone). */
export const UNLAYERED = new Set([]);

/** Built-in modules core may use, and only these named imports from them (pure functions). */
export const PURE_BUILTINS = {
  'node:net': ['isIP', 'isIPv4', 'isIPv6', 'BlockList'],
  'node:crypto': ['createHash'],
  // core/lazy-package.ts only: a package core already depends on, loaded on first use
  // instead of at import (the same code, later), so an idle server does not hold it.
  'node:module': ['createRequire'],
};

/** The layer name of a path relative to src/ (its first segment), or undefined. */
function layerOf(rel) {
  const first = rel.split('/')[0];
  return Object.hasOwn(LAYERS, first) ? first : undefined;
}

/** Resolve a relative specifier from `from` (relative to src/) against the known files. */
function resolve(from, spec, files) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, `${base}/index.ts`];
  return candidates.find((c) => files.has(c));
}

/** Named bindings of the import statements of `text` that load `spec` (undefined: a namespace or default import). */
function namedBindings(text, spec) {
  const names = [];
  const re = new RegExp(`import\\s+(type\\s+)?([^;]*?)\\s+from\\s+['"]${spec.replace(/[/.]/g, '\\$&')}['"]`, 'g');
  for (const m of text.matchAll(re)) {
    const braces = /^\{([^}]*)\}$/.exec(m[2].trim());
    if (!braces) return undefined;
    for (const part of braces[1].split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0];
      if (name) names.push(name);
    }
  }
  return names;
}

/**
 * Check a tree given as Map<path relative to src/ (posix), source text>.
 * Returns the violations as readable lines (empty: the tree keeps every rule).
 */
export function checkBoundaries(files) {
  const problems = [];
  const edges = new Map();
  for (const [file, text] of files) {
    const from = layerOf(file);
    if (from === undefined) problems.push(`${file}: not in a known layer (add its directory to LAYERS in scripts/check-boundaries.mjs)`);
    const targets = [];
    for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
      if (spec.startsWith('.')) {
        const target = resolve(file, spec, files);
        if (target === undefined) {
          if (!spec.endsWith('.json')) problems.push(`${file}: imports ${spec}, which is not a source file`);
          else if (from === 'core' && !path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).startsWith('core/')) {
            problems.push(`${file}: core imports ${spec} from outside core`);
          }
          continue;
        }
        targets.push(target);
        const to = layerOf(target);
        if (from === undefined || to === undefined || UNLAYERED.has(from) || UNLAYERED.has(to)) continue;
        if (from === 'core' && to !== 'core' && to !== 'errors.ts') problems.push(`${file}: core imports ${target} (core imports only core/ and errors.ts)`);
        else if (LAYERS[to] > LAYERS[from]) problems.push(`${file}: ${from} (layer ${LAYERS[from]}) imports ${target} (${to}, layer ${LAYERS[to]})`);
      } else if (from === 'core') {
        const builtin = spec.startsWith('node:') ? spec : ts.isExternalModuleNameRelative(spec) ? undefined : isBuiltin(spec) ? `node:${spec}` : undefined;
        if (builtin === undefined) continue; // a package
        const allowed = PURE_BUILTINS[builtin];
        const names = namedBindings(text, spec);
        if (!allowed) problems.push(`${file}: core imports ${spec} (I/O or process state; only ${Object.keys(PURE_BUILTINS).join(', ')} pure functions)`);
        else if (names === undefined || names.some((n) => !allowed.includes(n))) {
          problems.push(`${file}: core imports ${names === undefined ? 'all of' : names.filter((n) => !allowed.includes(n)).join(', ') + ' from'} ${spec} (allowed: ${allowed.join(', ')})`);
        }
      }
    }
    if (from === 'core' && /(^|[^.\w])process\.\w/m.test(stripComments(text))) problems.push(`${file}: core reads process state (process.…)`);
    edges.set(file, targets);
  }
  for (const cycle of findCycles(edges)) problems.push(`import cycle: ${cycle.join(' → ')}`);
  return problems;
}

/** The text without comments (a comment may mention process.env). */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const BUILTINS = new Set(['fs', 'fs/promises', 'net', 'http', 'https', 'child_process', 'os', 'path', 'crypto', 'dgram', 'dns', 'tls', 'worker_threads', 'cluster', 'process', 'url', 'util', 'stream', 'events', 'module', 'vm']);
function isBuiltin(spec) {
  return BUILTINS.has(spec);
}

/** One cycle per strongly connected component of more than one file (or a file importing itself). */
function findCycles(edges) {
  // Tarjan's algorithm, iterative.
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const cycles = [];
  for (const root of edges.keys()) {
    if (idx.has(root)) continue;
    const work = [[root, 0]];
    idx.set(root, index);
    low.set(root, index++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const next = edges.get(v) ?? [];
      if (i < next.length) {
        frame[1]++;
        const w = next[i];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === idx.get(v)) {
        const scc = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          scc.push(w);
        } while (w !== v);
        if (scc.length > 1 || (edges.get(v) ?? []).includes(v)) cycles.push(cyclePath(scc, edges));
      }
    }
  }
  return cycles;
}

/** A readable cycle through a component: from its first file (sorted), a shortest way back. */
function cyclePath(scc, edges) {
  const members = new Set(scc);
  const start = [...scc].sort()[0];
  const prev = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of edges.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const way = [start];
        for (let x = v; x !== start; x = prev.get(x)) way.splice(1, 0, x);
        return [...way, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Every .ts file under `srcDir`, as Map<relative posix path, text>. */
export function readTree(srcDir) {
  const files = new Map();
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(m?ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) files.set(path.relative(srcDir, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8'));
    }
  };
  walk(srcDir);
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const problems = checkBoundaries(readTree(src));
  for (const p of problems) console.log(p);
  console.log(problems.length === 0 ? 'boundaries: ok' : `boundaries: ${problems.length} violation(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
