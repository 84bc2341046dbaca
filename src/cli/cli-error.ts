// An error meant for the person at the terminal: printed as is, no stack, with the
// exit code it names.

/**
 * The exit status of every command (docs/cli.md):
 * 0 allowed / all is well; 1 the answer is no (a denial, a failing test case, an invalid
 * policy file); 2 the command was used wrongly; 3 an error kept it from answering (the
 * service unreachable, refusing the request or failing; a file that cannot be read;
 * anything unexpected).
 */
export const EXIT = { OK: 0, NO: 1, USAGE: 2, ERROR: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = EXIT.NO) {
    super(message);
    this.name = 'CliError';
  }
}

/** Parse a JSON option value, naming the option when it is not JSON of the wanted shape. */
export function jsonOption<T>(flag: string, text: string, isValid: (v: unknown) => v is T, shape: string): T {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${flag}: not JSON (${(err as Error).message})`, EXIT.USAGE);
  }
  if (!isValid(v)) throw new CliError(`${flag}: must be ${shape}`, EXIT.USAGE);
  return v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** commander's collector for repeatable options */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
