#!/usr/bin/env node
// `npm test`: runs the tap suite against a test database and ends with one
// plain line `N passed, N failed`.
//
//   npm test                          all of test/**/*.test.ts
//   npm test -- test/store            only test files under test/store
//   npm test -- cache engine          test files whose path contains "cache" or "engine"
//   npm test -- path/to/x.test.ts --grep=foo   (options starting with "-" go to tap;
//                                               give their values with "=")
//
// Store matrix: a full run (no file filter) runs the test files that use
// testApp() a second time with TEST_STORE=mongo, so the same HTTP-level suites
// run on the in-memory store and on the MongoDB store (FerretDB here).
// STORE_MATRIX=on adds the second pass to a filtered run; STORE_MATRIX=off drops it.
//
// Coverage: a full run measures line coverage of src/ on its first pass (tap's c8)
// and prints it per folder as TAP comments, with every file under 70%;
// COVERAGE=on measures a filtered run too, COVERAGE=off skips it.
//
// Database: if MONGO_URL is set, the tests use that server (may be a real
// MongoDB). Otherwise this script builds FerretDB (scripts/build-ferretdb.sh),
// starts one server for the whole run (test/helpers/ferretdb.ts, loaded with
// tsx) and exports MONGO_URL=mongodb://127.0.0.1:PORT/ to the tests; every
// testMongo() call then gets its own database on it. The server is stopped at
// the end, and on SIGINT/SIGTERM.
//
// Browser: when test/ui files are selected, Debian's chromium is installed first
// (scripts/install-chromium.sh) for the playground's browser tests; when
// test/gateways files are, nginx and Caddy (scripts/install-gateways.sh).
//
// Skips. Under CI=true (as .ci/run sets it) a skipped test or test point counts
// as a failure unless test/allowed-skips.json lists it (file, test name or a part
// of it, reason); elsewhere skips are reported on the line before the summary.
//
// Counting. tap runs with its raw TAP reporter (what tap prints when colours
// are off); the stream is copied to stdout unchanged and parsed with
// tap-parser, following every subtest. The final line counts TEST POINTS THAT
// ARE ASSERTIONS, i.e. leaf `ok` / `not ok` lines (t.ok, t.equal, t.rejects,
// ... and the failures tap itself reports inside a test, such as a thrown
// error or a timeout). Subtest summary lines are not counted, except that a
// subtest that fails without any failing assertion inside it (test file exited
// non-zero or was killed, plan mismatch, ...) counts as one failure. Test points
// marked # SKIP or # TODO are in neither number (a line before the last one
// reports them). A test file that defines no test at all (tap: "# SKIP no
// tests found") counts as one failure. The run is also a failure (counted as
// one) when a file filter matches nothing, no assertion ran, tap exits non-zero without a counted failure, the
// TAP stream is broken, or the run is interrupted. Exit status: 0 only when
// failed is 0.

import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const TEST_DIR = path.join(ROOT, 'test')
process.chdir(ROOT)
// `npm test | head` must not crash the runner with EPIPE
process.stdout.on('error', () => {})

let passed = 0
let failed = 0
let skipped = 0
let todo = 0
const problems = [] // harness-level failures, each counted as one failure

function finish(code) {
  if (skipped || todo) process.stdout.write(`# skipped: ${skipped}, todo: ${todo}\n`)
  for (const p of problems) process.stdout.write(`# FAILED: ${p}\n`)
  process.stdout.write(`${passed} passed, ${failed} failed\n`)
  process.exitCode = code ?? (failed > 0 ? 1 : 0)
}

function harnessFailure(msg) {
  problems.push(msg)
  failed++
}

// ---------------------------------------------------------------------------
// test files

function listTestFiles(dir) {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && e.name.endsWith('.test.ts'))
    .map(e => path.relative(ROOT, path.join(e.parentPath ?? e.path, e.name)))
    .filter(f => !f.split(path.sep).includes('node_modules'))
    .sort()
}

function selectFiles(args) {
  const all = listTestFiles(TEST_DIR)
  const tapArgs = []
  const filters = []
  let rawTap = false
  for (const a of args) {
    if (rawTap) tapArgs.push(a)
    else if (a === '--') rawTap = true
    else if (a.startsWith('-')) tapArgs.push(a)
    else filters.push(a)
  }
  if (filters.length === 0) return { files: all, tapArgs, unmatched: [] }
  const files = new Set()
  const unmatched = []
  for (const f of filters) {
    const abs = path.resolve(f)
    let stat
    try {
      stat = fs.statSync(abs)
    } catch {}
    let hits
    if (stat && path.relative(ROOT, abs).startsWith('..')) {
      // tap resolves 'tap' from the test file and saves results under .tap/ by relative path
      process.stderr.write(`run-tests: ${f} is outside the repository\n`)
      hits = []
    } else if (stat?.isFile()) hits = [path.relative(ROOT, abs)]
    else if (stat?.isDirectory()) hits = listTestFiles(abs)
    else hits = all.filter(x => x.includes(f))
    if (hits.length === 0) unmatched.push(f)
    hits.forEach(h => files.add(h))
  }
  return { files: [...files].sort(), tapArgs, unmatched }
}

// tap options that would change the output format we parse are dropped
function dropReporterArgs(tapArgs) {
  const out = []
  for (let i = 0; i < tapArgs.length; i++) {
    const a = tapArgs[i]
    if (/^(--reporter|-R)($|=)/.test(a) || /^-R./.test(a)) {
      process.stderr.write(`run-tests: ignoring ${a} (the raw TAP reporter is needed for counting)\n`)
      if (a === '--reporter' || a === '-R') i++
      continue
    }
    out.push(a)
  }
  return out
}

// ---------------------------------------------------------------------------
// TAP counting

function loadParser() {
  // tap-parser is tap's own parser (a dependency of tap); resolve it from there.
  const req = createRequire(path.join(ROOT, 'package.json'))
  let from = ROOT
  try {
    from = path.dirname(req.resolve('@tapjs/core/package.json'))
  } catch {}
  return createRequire(path.join(from, 'package.json'))('tap-parser').Parser
}

// ---------------------------------------------------------------------------
// skips: under CI=true a skipped test is a failure unless test/allowed-skips.json
// lists it: [{ "file": "test/x.test.ts", "test": "<name, or a part of it>", "reason": "why" }]

const STRICT_SKIPS = process.env.CI === 'true' || process.env.CI === '1'

function loadAllowedSkips() {
  const file = path.join(TEST_DIR, 'allowed-skips.json')
  const list = JSON.parse(fs.readFileSync(file, 'utf8'))
  if (!Array.isArray(list)) throw new Error('test/allowed-skips.json must hold an array')
  for (const e of list) {
    if (typeof e?.file !== 'string' || typeof e?.test !== 'string' || typeof e?.reason !== 'string' || e.reason.trim() === '') {
      throw new Error(`test/allowed-skips.json: every entry needs file, test and a reason: ${JSON.stringify(e)}`)
    }
  }
  return list
}

function skipAllowed(allowed, file, name) {
  return allowed.some(e => path.normalize(e.file) === path.normalize(file ?? '') && name.includes(e.test))
}

function countTap(Parser) {
  const allowed = STRICT_SKIPS ? loadAllowedSkips() : []
  const root = new Parser()
  const rootNode = { parent: null, fails: 0, lastChild: null, name: null }
  const fail = node => {
    failed++
    for (let n = node; n; n = n.parent) n.fails++
  }
  // the test file a node belongs to: the name of its ancestor just below the root
  const fileOf = node => {
    let n = node
    while (n && n.parent && n.parent !== rootNode) n = n.parent
    return n && n !== rootNode ? n.name : null
  }
  const skip = (node, name, reason) => {
    const file = node === rootNode ? name : fileOf(node)
    if (STRICT_SKIPS && !skipAllowed(allowed, file, name)) {
      problems.push(`${file}: "${name}" was skipped (${reason}) and test/allowed-skips.json does not list it`)
      fail(node)
    } else skipped++
  }
  const attach = (parser, node) => {
    parser.on('child', childParser => {
      const childNode = { parent: node, fails: 0, lastChild: null, name: childParser.name }
      node.lastChild = childNode
      attach(childParser, childNode)
    })
    parser.on('assert', res => {
      if (res.closingTestPoint) {
        // summary line of a subtest: its assertions were counted already
        const child = node.lastChild
        node.lastChild = null
        if (node === rootNode && res.skip && /no tests found/i.test(String(res.skip))) {
          // a whole test file without a single test: never a silent skip
          problems.push(`${res.name}: no tests found in this test file`)
          fail(node)
        } else if (res.skip) skip(node, res.name, res.skip)
        else if (res.todo) todo++
        else if (!res.ok && !(child && child.fails > 0)) fail(node)
        return
      }
      if (res.skip) skip(node, res.name, res.skip)
      else if (res.todo) todo++
      else if (res.ok) passed++
      else fail(node)
    })
  }
  attach(root, rootNode)
  const complete = new Promise(resolve => root.on('complete', resolve))
  return { parser: root, complete }
}

// ---------------------------------------------------------------------------
// test database

async function startDatabase() {
  const build = spawnSync('bash', [path.join(ROOT, 'scripts', 'build-ferretdb.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'], // progress and errors are on stderr
  })
  if (build.status !== 0) {
    throw new Error(
      `scripts/build-ferretdb.sh failed (${build.error?.message ?? (build.signal ? `killed by ${build.signal}` : `exit code ${build.status}`)}); ` +
        'see the messages above, or set MONGO_URL to use an existing MongoDB',
    )
  }
  const { tsImport } = await import('tsx/esm/api')
  const { startFerretDB } = await tsImport('../test/helpers/ferretdb.ts', import.meta.url)
  return startFerretDB()
}

// ---------------------------------------------------------------------------
// the browser of the playground's tests (test/ui/): Debian's chromium, installed once

function ensureChromium(files) {
  if (!files.some(f => f.split(path.sep).slice(0, 2).join('/') === 'test/ui')) return
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'install-chromium.sh')], { stdio: ['ignore', 'ignore', 'inherit'] })
  // A failure here is reported by the browser tests themselves, which name the script.
  if (r.status !== 0) process.stderr.write('run-tests: scripts/install-chromium.sh failed; the browser tests will fail\n')
}

// the gateways of the forward-auth tests (test/gateways/): Debian's nginx and caddy

function ensureGateways(files) {
  if (!files.some(f => f.split(path.sep).slice(0, 2).join('/') === 'test/gateways')) return
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'install-gateways.sh')], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (r.status !== 0) process.stderr.write('run-tests: scripts/install-gateways.sh failed; the gateway tests will fail\n')
}

// ---------------------------------------------------------------------------
// coverage: tap's processinfo records V8 coverage in every process of the first pass of
// a full run (the test files and what they spawn: the CLI and servers run through tsx
// inherit it); scripts/lib/coverage.mjs maps it onto src/**/*.ts (all files, loaded or
// not) and it is printed as TAP comments, per src/ folder, then every file under 70% of
// lines. tap's own c8 report is not used: it merges the ranges of differently
// transpiled copies of a file (see scripts/lib/coverage.mjs), so its numbers are wrong;
// its thresholds are set to 0 so it prints none of them. COVERAGE=on measures a
// filtered run too, COVERAGE=off skips it.

const COVERAGE_ARGS = ['--no-disable-coverage', '--allow-empty-coverage', '--allow-incomplete-coverage', '--coverage-report=none', '--lines=0', '--statements=0', '--functions=0', '--branches=0']
const COVERAGE_FLOOR = 70

function coverageWanted(tapArgs) {
  const wanted = process.env.COVERAGE ?? (process.argv.slice(2).some(a => !a.startsWith('-')) ? 'off' : 'on')
  return wanted === 'on' && !tapArgs.some(a => /coverage/.test(a))
}

async function printCoverage() {
  let result
  const started = Date.now()
  try {
    const { srcCoverage } = await import('./lib/coverage.mjs')
    result = await srcCoverage(ROOT)
  } catch (err) {
    process.stdout.write(`# coverage: not computed (${err?.message ?? err})\n`)
    return
  }
  const { files, processes, foreign } = result
  if (processes === 0) {
    process.stdout.write('# coverage: no coverage was recorded (.tap/coverage is empty)\n')
    return
  }
  const folders = new Map()
  for (const [f, c] of files) {
    const folder = path.dirname(f)
    const agg = folders.get(folder) ?? { total: 0, covered: 0, files: 0, unloaded: 0, typesOnly: 0 }
    agg.total += c.total
    agg.covered += c.covered
    agg.files++
    if (c.typesOnly) agg.typesOnly++
    else if (!c.loaded) agg.unloaded++
    folders.set(folder, agg)
  }
  const pct = (c, t) => (t === 0 ? 100 : (100 * c) / t)
  let total = 0
  let covered = 0
  process.stdout.write(`# coverage of src/ (lines of the .ts files, from ${processes} processes: test files and the processes they spawn; mapped in ${((Date.now() - started) / 1000).toFixed(1)} s), per folder:\n`)
  for (const [folder, a] of [...folders].sort()) {
    total += a.total
    covered += a.covered
    const note = [a.unloaded ? `${a.unloaded} never loaded` : '', a.typesOnly ? `${a.typesOnly} types only` : ''].filter(Boolean).join(', ')
    process.stdout.write(`#   ${folder.padEnd(28)} ${pct(a.covered, a.total).toFixed(1).padStart(5)}%  (${a.covered}/${a.total} lines, ${a.files} files${note ? `; ${note}` : ''})\n`)
  }
  const typesOnly = [...files.values()].filter(c => c.typesOnly).length
  process.stdout.write(`#   ${'all of src/'.padEnd(28)} ${pct(covered, total).toFixed(1).padStart(5)}%  (${covered}/${total} lines, ${files.size} files; ${typesOnly} hold only types, no lines)\n`)
  const outside = foreign.filter(f => !f.startsWith(`test${path.sep}`) && /\.[cm]?[jt]s( |$)/.test(f))
  if (outside.length) process.stdout.write(`# covered but not counted (not mapped to src/): ${outside.join(', ')}\n`)
  const low = [...files].filter(([, c]) => !c.typesOnly && pct(c.covered, c.total) < COVERAGE_FLOOR).sort()
  process.stdout.write(`# src/ files under ${COVERAGE_FLOOR}% of lines: ${low.length}${low.length ? ' (why: docs/testing.md, "Coverage")' : ''}\n`)
  for (const [f, c] of low) {
    process.stdout.write(`#   ${f}: ${pct(c.covered, c.total).toFixed(1)}% (${c.covered}/${c.total})${c.loaded ? '' : ', never loaded by a test'}\n`)
  }
}

// ---------------------------------------------------------------------------
// one tap run, counted into the totals

async function runTap(Parser, files, env, tapArgs, onSpawn) {
  const failedBefore = failed
  const { parser, complete } = countTap(Parser)
  // same as `npx tap ...`, without npm in between
  const tapBin = path.join(ROOT, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs')
  const args = [tapBin, ...dropReporterArgs(tapArgs), '--reporter=tap', ...files]
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
  onSpawn(child)
  // tap ends every run with its coverage report; where this pass measures none, its
  // "# No coverage generated" would read like a fault, so that one line is not copied
  const quiet = !tapArgs.includes('--no-disable-coverage')
  let partial = ''
  child.stdout.setEncoding('utf8') // whole characters, for the line split
  child.stdout.on('data', chunk => {
    parser.write(chunk)
    if (!quiet) return void process.stdout.write(chunk)
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()
    const out = lines.filter(l => l !== '# No coverage generated')
    if (out.length) process.stdout.write(out.join('\n') + '\n')
  })
  child.stdout.once('end', () => {
    if (partial && partial !== '# No coverage generated') process.stdout.write(partial)
  })
  const [code, signal] = await new Promise(resolve => {
    child.once('error', err => {
      process.stderr.write(`run-tests: cannot run tap: ${err.message}\n`)
      resolve([null, null])
    })
    child.once('close', (c, s) => resolve([c, s]))
  })
  parser.end()
  const results = await complete
  return { code, signal, results, failedBefore }
}

// The store matrix (second pass): test files that build their services with
// testApp() from test/helpers/app.ts. It runs on a full `npm test`; with file
// filters only when STORE_MATRIX=on. STORE_MATRIX=off skips it; TEST_STORE set by
// the caller means the caller chose one store, so there is no second pass either.
function storeMatrixFiles(files, tapArgs) {
  const wanted = process.env.STORE_MATRIX ?? (process.argv.slice(2).some(a => !a.startsWith('-')) ? 'off' : 'on')
  if (wanted !== 'on' || process.env.TEST_STORE || tapArgs.length > 0) return []
  // a file whose every testApp() call names its own store has nothing to repeat
  return files.filter(f => {
    const calls = fs.readFileSync(path.join(ROOT, f), 'utf8').match(/\btestApp\([^\n]*/g) ?? []
    return calls.some(c => !/\bstore\b/.test(c))
  })
}

// ---------------------------------------------------------------------------

async function main() {
  const { files, tapArgs, unmatched } = selectFiles(process.argv.slice(2))
  for (const u of unmatched) harnessFailure(`no test file matches "${u}"`)
  if (files.length === 0) {
    if (unmatched.length === 0) harnessFailure('no test files found (test/**/*.test.ts)')
    return finish(1)
  }

  ensureChromium(files)
  ensureGateways(files)
  let server
  let interrupted = null
  let tap = null
  const onSignal = sig => {
    if (interrupted) {
      // second signal: give up at once (the FerretDB child also stops when our stdin pipe to it closes)
      tap?.kill('SIGKILL')
      process.exit(130)
    }
    interrupted = sig
    process.stderr.write(`\nrun-tests: ${sig}, stopping tap and the test database...\n`)
    tap?.kill(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const env = { ...process.env }
  if (!env.MONGO_URL) {
    try {
      server = await startDatabase()
    } catch (err) {
      process.stderr.write(`run-tests: cannot start the test database: ${err?.message ?? err}\n`)
      harnessFailure('test database (FerretDB) did not start')
      return finish(1)
    }
    env.MONGO_URL = server.url
    process.stdout.write(`# test database: FerretDB at ${server.url} (data dir ${server.dir})\n`)
  } else {
    process.stdout.write(`# test database: MONGO_URL=${env.MONGO_URL.replace(/\/\/[^@/]*@/, '//***@')}\n`)
  }
  if (interrupted) {
    await server?.stop()
    harnessFailure(`interrupted by ${interrupted}`)
    return finish(130)
  }

  let Parser
  try {
    Parser = loadParser()
  } catch (err) {
    await server?.stop()
    process.stderr.write(`run-tests: cannot load tap-parser: ${err?.message ?? err}\n`)
    harnessFailure('tap-parser not found')
    return finish(1)
  }
  // Pass 1: every selected file. Pass 2, the store matrix: the files whose services
  // come from testApp() again, on the MongoDB store (TEST_STORE=mongo).
  const coverage = coverageWanted(tapArgs)
  const passes = [{ label: null, files, env, tapArgs: coverage ? [...COVERAGE_ARGS, ...tapArgs] : tapArgs }]
  const matrix = storeMatrixFiles(files, tapArgs)
  if (matrix.length > 0) passes.push({ label: 'store matrix: TEST_STORE=mongo', files: matrix, env: { ...env, TEST_STORE: 'mongo' }, tapArgs })
  let code = 0
  let signal = null
  for (const pass of passes) {
    if (interrupted) break
    if (pass.label) process.stdout.write(`# ${pass.label} (${pass.files.length} files${coverage ? '; coverage is measured on the first pass only' : ''})\n`)
    const r = await runTap(Parser, pass.files, pass.env, pass.tapArgs, child => (tap = child))
    if (coverage && pass === passes[0] && !interrupted) await printCoverage()
    if (r.code !== 0 && code === 0) code = r.code
    signal ??= r.signal
    if (!r.results.ok && r.failedBefore === failed) {
      const why = r.results.bailout ? `bail out: ${r.results.bailout}` : r.results.failures.map(f => f.tapError ?? f.name).join('; ')
      harnessFailure(`the TAP stream is not ok (${why || 'unknown reason'})`)
    }
  }

  await server?.stop()

  if (interrupted) harnessFailure(`interrupted by ${interrupted}`)
  else if (signal) harnessFailure(`tap was killed by ${signal}`)
  else if (code !== 0 && failed === 0) harnessFailure(`tap exited with code ${code} but no failing test was counted`)
  if (passed + failed === 0) harnessFailure('no assertion ran')
  return finish(interrupted ? 130 : undefined)
}

main().catch(err => {
  process.stderr.write(`run-tests: ${err?.stack ?? err}\n`)
  harnessFailure(`runner crashed: ${err?.message ?? err}`)
  finish(1)
})
