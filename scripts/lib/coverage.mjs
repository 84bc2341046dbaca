// Line coverage of src/**/*.ts from the raw V8 coverage tap's processinfo writes to
// .tap/coverage/ (one JSON file per process: the test files and every process they
// spawn, e.g. the CLI run through tsx), for scripts/run-tests.mjs.
//
// Why not tap's own c8 report: c8 first merges the V8 ranges of all processes by file
// URL and then maps them through ONE source map. The same src/ file is transpiled by
// tap's TypeScript loader in test processes and by tsx in child processes: two
// different generated texts, so merged byte ranges land on the wrong lines (src/core/plan
// showed 59.8% although a large differential test runs it). And tsx's source maps carry
// `sourcesContent: ['']`, which v8-to-istanbul takes as the original text: a one-line
// file (src/cli showed "5/5 lines"). Here ranges are merged only between processes that
// ran the same generated text (same source map), each group is mapped through its own
// source map against the .ts file on disk, and the per-line results are merged after
// mapping. Every src/**/*.ts file counts, loaded or not; a file that compiles to no
// runtime code (types only) has no lines to cover and is listed apart.
//
// Lines are counted as c8 counts them: every line of the .ts file, covered when it lies
// inside code that ran (comments and blank lines inside a run function count as run).

import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function libs(root) {
  // c8's own dependencies (tap's coverage reporter), resolved from c8
  const req = createRequire(path.join(root, 'package.json'))
  const from = createRequire(req.resolve('c8/package.json'))
  return {
    v8toIstanbul: from('v8-to-istanbul'),
    libCoverage: from('istanbul-lib-coverage'),
    mergeProcessCovs: from('@bcoe/v8-coverage').mergeProcessCovs,
    esbuild: req('esbuild'),
  }
}

export function listSources(root) {
  const src = path.join(root, 'src')
  return fs
    .readdirSync(src, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map(e => path.join(e.parentPath ?? e.path, e.name))
    .sort()
}

const readText = (() => {
  const cache = new Map()
  return file => {
    if (!cache.has(file)) {
      let text = null
      try {
        text = fs.readFileSync(file, 'utf8')
      } catch {}
      cache.set(file, text)
    }
    return cache.get(file)
  }
})()

const toPath = s => (s.startsWith('file://') ? fileURLToPath(s) : s)

/** the source map with the original texts filled in from disk where the map has none (tsx: ['']) */
function withSources(map, file) {
  const sources = map.sources ?? []
  const base = map.sourceRoot ? toPath(map.sourceRoot) : path.dirname(file)
  const content = sources.map((s, i) => {
    const given = map.sourcesContent?.[i]
    if (typeof given === 'string' && given !== '') return given
    return readText(path.resolve(base, toPath(s))) ?? ''
  })
  return { ...map, sourcesContent: content }
}

/**
 * @returns {Promise<{ files: Map<string, { total: number, covered: number, loaded: boolean, typesOnly: boolean }>, processes: number, foreign: string[] }>}
 *   files: every src/**\/*.ts by path relative to root; foreign: covered files outside
 *   src/ that map to no src/ file (reported, not counted)
 */
export async function srcCoverage(root) {
  const { v8toIstanbul, libCoverage, mergeProcessCovs, esbuild } = libs(root)
  const SRC = path.join(root, 'src') + path.sep
  const dir = path.join(root, '.tap', 'coverage')
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter(f => f.endsWith('.json')) : []

  // group the scripts by URL and generated text (identified by the source map)
  const groups = new Map()
  for (const name of names) {
    let cov
    try {
      cov = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))
    } catch {
      continue // a process killed while writing
    }
    const maps = cov['source-map-cache'] ?? {}
    for (const script of cov.result ?? []) {
      const file = toPath(script.url)
      if (!file.startsWith(root + path.sep) || file.includes(`${path.sep}node_modules${path.sep}`)) continue
      const sm = maps[script.url]
      const key = `${script.url}\0${sm?.data ? createHash('sha1').update(sm.data.mappings ?? '').update(String(sm.lineLengths)).digest('hex') : '-'}`
      let g = groups.get(key)
      if (!g) groups.set(key, (g = { file, sm, scripts: [] }))
      g.scripts.push({ ...script, scriptId: '0', url: script.url })
    }
  }

  const map = libCoverage.createCoverageMap({})
  const foreign = new Set()
  for (const g of groups.values()) {
    const merged = g.scripts.length === 1 ? g.scripts[0] : mergeProcessCovs(g.scripts.map(s => ({ result: [s] }))).result[0]
    let sources
    if (g.sm?.data) {
      sources = {
        source: (g.sm.lineLengths ?? []).map(n => ''.padEnd(n, '.')).join('\n'),
        sourceMap: { sourcemap: withSources(g.sm.data, g.file) },
      }
    } else if (!g.file.startsWith(SRC) || !g.file.endsWith('.ts')) {
      foreign.add(path.relative(root, g.file))
      continue
    } else {
      // a .ts file run without a source map cannot be mapped: say so rather than guess
      foreign.add(`${path.relative(root, g.file)} (no source map)`)
      continue
    }
    const conv = v8toIstanbul(g.file, 0, sources)
    await conv.load()
    conv.applyCoverage(merged.functions)
    const data = conv.toIstanbul()
    let inSrc = false
    for (const f of Object.keys(data)) {
      if (f.startsWith(SRC) && f.endsWith('.ts')) inSrc = true
      else delete data[f]
    }
    if (!inSrc) foreign.add(path.relative(root, g.file))
    map.merge(data)
  }

  const files = new Map()
  const mapped = new Set(map.files())
  for (const abs of listSources(root)) {
    const rel = path.relative(root, abs)
    const text = readText(abs) ?? ''
    // esbuild (as tsx) drops what is only types; nothing left = no runtime code
    const js = esbuild.transformSync(text, { loader: 'ts', format: 'esm', legalComments: 'none' }).code
    const typesOnly = /^(export \{\s*\};?)?$/.test(js.trim())
    if (mapped.has(abs)) {
      const s = map.fileCoverageFor(abs).toSummary().lines
      files.set(rel, { total: typesOnly ? 0 : s.total, covered: typesOnly ? 0 : s.covered, loaded: true, typesOnly })
    } else if (typesOnly) {
      files.set(rel, { total: 0, covered: 0, loaded: false, typesOnly })
    } else {
      // never loaded: every line uncovered, counted as c8 --all counts a file no test loads
      const conv = v8toIstanbul(abs, 0, { source: text })
      await conv.load()
      conv.applyCoverage([{ functionName: '(empty-report)', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: text.length, count: 0 }] }])
      const s = libCoverage.createFileCoverage(conv.toIstanbul()[abs]).toSummary().lines
      files.set(rel, { total: s.total, covered: 0, loaded: false, typesOnly })
    }
  }
  return { files, map, processes: names.length, foreign: [...foreign].sort() }
}

