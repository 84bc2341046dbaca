#!/usr/bin/env node
// Builds the playground page (ui/) into dist/ui: index.html, app.js (the page and
// CodeMirror, bundled by esbuild) and app.css, flat, as src/server/routes/ui.ts serves
// them (/ui and /ui/assets/<name>). Nothing is fetched at run time, so the page works
// with no internet access.
//
//   node scripts/build-ui.mjs [--out DIR] [--quiet]      (default: dist/ui)
import { build } from 'esbuild'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SRC = path.join(ROOT, 'ui')
const outArg = process.argv.indexOf('--out')
const OUT = outArg > 0 && process.argv[outArg + 1] ? path.resolve(process.argv[outArg + 1]) : path.join(ROOT, 'dist', 'ui')

fs.rmSync(OUT, { recursive: true, force: true })
fs.mkdirSync(OUT, { recursive: true })

const result = await build({
  entryPoints: [path.join(SRC, 'src', 'main.ts')],
  outfile: path.join(OUT, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
  metafile: true,
})
fs.copyFileSync(path.join(SRC, 'index.html'), path.join(OUT, 'index.html'))
fs.copyFileSync(path.join(SRC, 'app.css'), path.join(OUT, 'app.css'))

const kb = (f) => `${(fs.statSync(path.join(OUT, f)).size / 1024).toFixed(0)} KB`
if (!process.argv.includes('--quiet')) {
  process.stderr.write(`build-ui: ${path.relative(ROOT, OUT).startsWith('..') ? OUT : path.relative(ROOT, OUT)}/app.js ${kb('app.js')}, app.css ${kb('app.css')} (${Object.keys(result.metafile.inputs).length} modules)\n`)
}
