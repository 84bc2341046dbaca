// `policy-engine test <paths…>`: run policy test suites (*.test.yaml) in-process, or
// with --url on a running service (POST /v1/test, includes inlined first). Prints
// failures with their diff and trace; --junit also writes a JUnit XML report.
// Exit status 1 when a case fails or a suite cannot be loaded.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { bundleSuiteFile, findSuiteFiles, runSuiteFiles } from '../../testing/load-suite.js';
import { formatRun } from '../../testing/report.js';
import { brokenSuite, summarize } from '../../testing/run-suite.js';
import type { RunResult, SuiteProblem, SuiteResult } from '../../testing/types.js';
import { toJUnit } from '../../testing/junit.js';
import { EXIT } from '../cli-error.js';
import { prepareRuntime } from '../runtime.js';
import { tokenOption } from '../remote.js';

async function runRemote(paths: readonly string[], url: string, token: string | undefined): Promise<RunResult> {
  const started = performance.now();
  const found = findSuiteFiles(paths);
  const suites: SuiteResult[] = found.problems.map((p) => brokenSuite(p.file ?? '?', p.file, [p]));
  for (const file of found.files) {
    const bundled = bundleSuiteFile(file);
    if (!bundled.ok) {
      suites.push(brokenSuite(file, file, bundled.problems));
      continue;
    }
    const r = await fetch(`${url.replace(/\/+$/, '')}/v1/test`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(bundled.suite),
    });
    const body = await r.json() as SuiteResult & { message?: string; code?: string; details?: SuiteProblem[] };
    if (r.ok) suites.push({ ...body, file });
    else {
      const details = Array.isArray(body.details) ? body.details.map((d) => ({ file, ...d })) : [];
      suites.push(brokenSuite(bundled.suite.name, file, details.length > 0 ? details : [{ file, path: '', message: `${r.status} ${body.code ?? ''}: ${body.message ?? ''}` }]));
    }
  }
  return summarize(suites, performance.now() - started);
}

export function addTestCommand(program: Command): void {
  program
    .command('test')
    .description('run policy test suites (*.test.yaml); exit 1 when a case fails')
    .argument('<paths...>', 'suite files, or directories searched recursively for *.test.yaml')
    .option('--junit <file>', 'also write a JUnit XML report to this file')
    .option('--json', 'print the results as JSON instead of text')
    .option('--url <url>', 'run the suites on a running service (POST /v1/test) instead of in-process')
    .addOption(tokenOption()) // POST /v1/test runs caller-supplied policies: the admin token when the service sets one
    .option('-v, --verbose', 'list passing cases too')
    .action(async (paths, options) => {
      await prepareRuntime(); // includes compile even when a service runs the suite
      const run = options.url !== undefined ? await runRemote(paths, options.url, options.token) : runSuiteFiles(paths);
      if (options.junit !== undefined) {
        mkdirSync(dirname(options.junit), { recursive: true });
        writeFileSync(options.junit, toJUnit(run));
      }
      process.stdout.write(options.json ? JSON.stringify(run, null, 2) + '\n' : formatRun(run, { verbose: options.verbose === true }));
      if (!run.passed) process.exitCode = EXIT.NO;
    });
}
