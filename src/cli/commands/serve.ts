// `policy-engine serve [flags]`: start the service. The flags are the settings of the
// README's configuration table (environment variables work too); src/main.ts reads them.

import type { Command } from '@commander-js/extra-typings';
import { SETTINGS } from '../../config/settings.js';

function settingsHelp(): string {
  const rows = SETTINGS.map((s) => {
    const flag = `  ${s.flag} <${s.kind === 'int' ? 'n' : 'value'}>`;
    const dflt = s.default !== undefined ? ` (default ${s.default})` : '';
    return `${flag.padEnd(30)} ${s.env}: ${s.description.replace(/`/g, '')}${dflt}`;
  });
  return `\nSettings (a flag wins over its environment variable):\n${rows.join('\n')}\n\nExample:\n  policy-engine serve --port 9000 --store none\n`;
}

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the HTTP service (stops gracefully on SIGTERM)')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', settingsHelp())
    .action(async (_options, command) => {
      // Loaded only here: the file commands start without the server's dependencies.
      const { main } = await import('../../main.js');
      await main(command.args, process.env);
    });
}
