// The Node/V8 flags the server starts with, read from their one source: the `start` script
// of package.json (`node <flags> dist/main.js`). The Dockerfile's NODE_OPTIONS and the k8s
// manifests must say the same (test/deploy/start-flags.test.ts), and bench/rss.ts starts the
// server with them, so the memory it reports is the deployed server's.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function startFlags(root = '.'): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const m = /(?:^|&& )node((?: --[\w-]+(?:=\S+)?)*) dist\/main\.js$/.exec(pkg.scripts?.start ?? '');
  if (!m) throw new Error('package.json: the start script is not `… node [--flags] dist/main.js`');
  return m[1]!.trim().split(' ').filter(Boolean);
}
