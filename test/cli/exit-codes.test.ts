// One exit-status scheme for every command (docs/cli.md): 0 allowed / all is well, 1 the
// answer is no (a denied check, a failing case, an invalid file), 2 the command was used
// wrongly, 3 an error kept it from answering (the service unreachable or refusing).
// Each row runs the real CLI in a child process.

import t from 'tap';
import { createServer } from 'node:net';
import { runCli } from './run-cli.js';

/** A loopback URL where nothing listens. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const evalArgs = (check: string) => ['eval', '--policies', 'examples/policies', '--subject', 'user:eddie', '--roles', 'editor', '--namespace', 'global.org', '--check', check];

t.test('exit codes', async (t) => {
  const dead = await deadUrl();
  const rows: Array<[what: string, args: string[], code: number]> = [
    ['eval --check, allowed', evalArgs('document:read'), 0],
    ['eval --check, denied', evalArgs('billing:invoice:pay'), 1],
    ['eval --check, one of two denied', [...evalArgs('document:read'), '--check', 'billing:invoice:pay'], 1],
    ['eval without --check: a decision, printed', ['eval', '--policies', 'examples/policies', '--subject', 'user:x', '--namespace', 'global'], 0],
    ['eval, a usage error', ['eval', '--policies', 'examples/policies', '--subject', 'user:x', '--namespace', 'not a path!'], 2],
    ['test, all pass', ['test', 'examples/tests/roles.test.yaml'], 0],
    ['test --url, service unreachable', ['test', 'examples/tests/roles.test.yaml', '--url', dead], 3],
    ['validate, valid', ['validate', 'examples/policies'], 0],
    ['rel check, service unreachable (an error, not a denial)', ['rel', 'check', 'document:a#read@user:b', '--url', dead], 3],
    ['rel check, a usage error', ['rel', 'check', 'document:a'], 2],
    ['push, service unreachable', ['push', 'examples/policies', '--url', dead], 3],
    ['export, service unreachable', ['export', '--url', dead, '--out', 'never-written'], 3],
    ['an unknown command', ['frobnicate'], 2],
  ];
  // Two at a time: each is a node process compiling the CLI with tsx, on a shared machine.
  for (let i = 0; i < rows.length; i += 2) {
    const batch = rows.slice(i, i + 2);
    const results = await Promise.all(batch.map(([, args]) => runCli(args, { timeoutMs: 90_000 })));
    batch.forEach(([what, , code], j) => {
      t.equal(results[j]!.code, code, `${what}: exit ${code} (${results[j]!.stderr.trim().slice(0, 200)})`);
    });
  }
});
