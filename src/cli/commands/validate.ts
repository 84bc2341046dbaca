// `policy-engine validate <paths…>`: check policy files (.json/.yaml/.yml) and test
// suites (*.test.yaml) as the server would, and report every problem as
// file:line:column. Exit status 1 when there is any. Message warnings (keys missing in
// a language, unfilled placeholders, unused catalogue entries) are printed, never fatal.

import { statSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import { loadSuiteFile } from '../../testing/load-suite.js';
import { duplicateKeyProblems, isPolicyFile, isSuiteFile, listFiles, readPolicyFile, type PolicyFile } from '../../testing/policy-files.js';
import { formatProblem } from '../../testing/report.js';
import type { SuiteProblem } from '../../testing/types.js';
import { prepareRuntime } from '../runtime.js';
import { CliError } from '../cli-error.js';
import { lintMessages } from '../../core/messages/lint.js';
import { isLanguageTag } from '../../core/messages/language.js';

/** `--languages`, else MESSAGE_LANGUAGES, else DEFAULT_LANGUAGE, else en (as the server's validate). */
function languagesOf(option: string | undefined): string[] {
  const env = process.env;
  const raw = option ?? (env.MESSAGE_LANGUAGES || env.DEFAULT_LANGUAGE || 'en');
  const tags = raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const bad = tags.filter((x) => !isLanguageTag(x));
  if (bad.length > 0) throw new CliError(`--languages: ${bad.join(', ')} is not a BCP 47 language tag`, 2);
  return tags;
}

function warningsOf(policies: readonly PolicyFile[], languages: readonly string[]): string[] {
  const fileOf = new Map(policies.flatMap((f) => f.documents.map((d) => [d.policy.key, f.file] as const)));
  return lintMessages(policies.flatMap((f) => f.documents.map((d) => d.policy)), languages)
    .map((w) => `${formatProblem({ file: fileOf.get(w.document), document: w.document, path: w.path, message: `warning: ${w.message}` })}`);
}

function filesOf(paths: readonly string[], problems: SuiteProblem[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    try {
      if (!statSync(p).isDirectory()) out.push(p);
      else out.push(...listFiles(p, (f) => isPolicyFile(f) || isSuiteFile(f)));
    } catch {
      problems.push({ file: p, path: '', message: 'no such file or directory' });
    }
  }
  return [...new Set(out)];
}

export function addValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check policy files and test suites; every error with file:line:column (exit 1 on any)')
    .argument('<paths...>', 'files, or directories searched recursively for .json/.yaml/.yml')
    .option('-q, --quiet', 'print only the problems')
    .option('--languages <list>', 'comma-separated languages every message key should have a catalogue text in (default: MESSAGE_LANGUAGES, else DEFAULT_LANGUAGE, else en)')
    .action(async (paths, options) => {
      const languages = languagesOf(options.languages);
      await prepareRuntime();
      const problems: SuiteProblem[] = [];
      const files = filesOf(paths, problems);
      const policies: PolicyFile[] = [];
      let suites = 0;
      for (const f of files) {
        if (isSuiteFile(f)) {
          suites++;
          const r = loadSuiteFile(f);
          if (!r.ok) problems.push(...r.problems);
        } else {
          const r = readPolicyFile(f);
          policies.push(r);
          problems.push(...r.problems);
        }
      }
      problems.push(...duplicateKeyProblems(policies));
      for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
      if (!options.quiet) for (const w of warningsOf(policies, languages)) process.stdout.write(`${w}\n`);
      const documents = policies.reduce((n, f) => n + f.documents.length, 0);
      const counted = `${policies.length} policy file${policies.length === 1 ? '' : 's'} (${documents} document${documents === 1 ? '' : 's'}), ${suites} suite${suites === 1 ? '' : 's'}`;
      if (problems.length > 0) {
        process.stdout.write(`✗ ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${counted}\n`);
        process.exitCode = 1;
      } else if (files.length === 0) {
        process.stdout.write('✗ no policy file or suite found\n');
        process.exitCode = 1;
      } else if (!options.quiet) {
        process.stdout.write(`✓ ${counted}: valid\n`);
      }
    });
}
