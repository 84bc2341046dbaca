#!/usr/bin/env node
// `policy-engine`: serve the API, and work with policies as files — validate them, run
// their test suites, evaluate locally, push a directory to a running service, export one.
// Each command lives in commands/; this file only assembles them and reports failures.

import { createRequire } from 'node:module';
import { Command } from '@commander-js/extra-typings';
import { CliError, EXIT } from './cli-error.js';
import { addEvalCommand } from './commands/eval.js';
import { addExportCommand } from './commands/export.js';
import { addPushCommand } from './commands/push.js';
import { addRelCommand } from './commands/rel.js';
import { addPlanCommand } from './commands/plan.js';
import { addServeCommand } from './commands/serve.js';
import { addTestCommand } from './commands/test.js';
import { addValidateCommand } from './commands/validate.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command()
    .name('policy-engine')
    .description('Namespace-layered authorization sidecar: the server, and tools for policy files')
    .version(version)
    .showHelpAfterError('(add --help for usage)')
    // Usage errors exit 2 (EXIT.USAGE); help and --version exit 0. Inherited by every command.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE));
  addServeCommand(program);
  addValidateCommand(program);
  addTestCommand(program);
  addEvalCommand(program);
  addPushCommand(program);
  addExportCommand(program);
  addRelCommand(program);
  addPlanCommand(program);
  return program;
}

buildProgram().parseAsync(process.argv).catch((err: unknown) => {
  const e = err as { message?: string; code?: string; details?: unknown };
  process.stderr.write(`policy-engine: ${e.message ?? String(err)}${err instanceof CliError || e.code === undefined ? '' : ` (${e.code})`}\n`);
  if (!(err instanceof CliError) && Array.isArray(e.details)) {
    for (const d of e.details.slice(0, 20)) process.stderr.write(`  ${JSON.stringify(d)}\n`);
  }
  // Anything but a CliError (the service refusing or unreachable, a file that cannot be
  // read, a bug) kept the command from answering: 3, never the 1 of a denial.
  process.exitCode = err instanceof CliError ? err.exitCode : EXIT.ERROR;
});
