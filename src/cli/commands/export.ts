// `policy-engine export --url … --out <dir>`: write every policy of a running service
// to <dir>/<key>.yaml or .json, in the format it was written in and, for YAML, with
// its original text (comments included). Pushing the directory back changes nothing.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { clientFor, listAllPolicies, tokenOption, urlOption } from '../remote.js';

export function addExportCommand(program: Command): void {
  program
    .command('export')
    .description('write every policy of a running service to files, as written (YAML comments kept)')
    .addOption(urlOption())
    .addOption(tokenOption())
    .requiredOption('--out <dir>', 'the directory to write to (created when missing)')
    .action(async (options) => {
      const client = clientFor(options.url, options.token);
      const summaries = await listAllPolicies(client);
      mkdirSync(options.out, { recursive: true });
      for (const s of summaries) {
        const stored = await client.getPolicy(s.key, { format: s.format });
        // The text byte for byte: its ETag is the stored one, so a push of it changes nothing.
        writeFileSync(join(options.out, `${s.key}.${s.format === 'yaml' ? 'yaml' : 'json'}`), stored.text);
      }
      process.stdout.write(`exported ${summaries.length} polic${summaries.length === 1 ? 'y' : 'ies'} to ${options.out}\n`);
    });
}
