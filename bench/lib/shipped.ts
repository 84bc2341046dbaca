// The service modules the benchmark servers run: tsc's output in dist/, what `npm start`
// and the image run, not src/ through tsx. tsx compiles with esbuild's `keepNames`, which
// wraps every function expression in a `__name()` call that runs each time the closure is
// made: on a request path that makes closures (the relationship check makes six) it is
// measurable, and it is not in what ships (a profile of the check route under tsx put
// `__name` and the property writes behind it at ~1.5 µs a request).
// `ensureBuilt()` (called by the parent before it starts servers) rebuilds dist/ when a
// source file is newer than it; `shipped()` (in the server) refuses a stale dist/.

import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

const DIST_MARK = join(ROOT, 'dist', 'main.js');

function newestSource(dir = join(ROOT, 'src')): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(DIST_MARK).mtimeMs;
  } catch {
    return 0;
  }
}

const stale = () => builtAt() < newestSource();

/** Compiles src/ into dist/ (tsc, as `npm run build` does; the UI bundle is not needed) when dist/ is older. */
export function ensureBuilt(log: (s: string) => void = (s) => console.error(s)): void {
  if (!stale()) return;
  log('bench: dist/ is older than src/: compiling it (tsc -p tsconfig.build.json)');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit', cwd: ROOT });
}

type Config = typeof import('../../src/config/config.js');
type Compose = typeof import('../../src/compose.js');
type App = typeof import('../../src/server/app.js');
type Memory = typeof import('../../src/store/memory/memory-store.js');

/** The composition root, the app and the memory store, from dist/. */
export async function shipped(): Promise<{ loadConfig: Config['loadConfig']; createServices: Compose['createServices']; buildApp: App['buildApp']; MemoryStore: Memory['MemoryStore'] }> {
  if (stale()) throw new Error('bench: dist/ is older than src/: run `npm run build` (or let the bench parent call ensureBuilt)');
  const from = <T>(p: string) => import(join(ROOT, 'dist', p)) as Promise<T>;
  const [config, compose, app, memory] = await Promise.all([
    from<Config>('config/config.js'), from<Compose>('compose.js'), from<App>('server/app.js'), from<Memory>('store/memory/memory-store.js'),
  ]);
  return { loadConfig: config.loadConfig, createServices: compose.createServices, buildApp: app.buildApp, MemoryStore: memory.MemoryStore };
}
