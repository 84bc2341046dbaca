// How the server starts, from its one source: the `start` script of package.json
// (`[NAME=value …] node <flags> dist/main.js`): the environment it sets for the process (glibc's
// allocator reads MALLOC_ARENA_MAX before Node runs) and the Node/V8 flags. The Dockerfile's
// ENV (NODE_OPTIONS = the flags) and the k8s manifests must say the same
// (test/deploy/start-flags.test.ts), and bench/rss.ts starts the server with them, so the
// memory it reports is the deployed server's.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StartSettings {
  env: Record<string, string>;
  flags: string[];
}

export function startSettings(root = '.'): StartSettings {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const m = /(?:^|&& )((?:[A-Z_]+=\S+ )*)node((?: --[\w-]+(?:=\S+)?)*) dist\/main\.js$/.exec(pkg.scripts?.start ?? '');
  if (!m) throw new Error('package.json: the start script is not `… [NAME=value …] node [--flags] dist/main.js`');
  const env = Object.fromEntries(m[1]!.trim().split(' ').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  return { env, flags: m[2]!.trim().split(' ').filter(Boolean) };
}

/** The Node/V8 flags alone. */
export const startFlags = (root = '.'): string[] => startSettings(root).flags;
