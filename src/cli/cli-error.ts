// An error meant for the person at the terminal: printed as is, no stack, with the
// exit code it names (1: the check failed, 2: the command was used wrongly).

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
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
    throw new CliError(`${flag}: not JSON (${(err as Error).message})`, 2);
  }
  if (!isValid(v)) throw new CliError(`${flag}: must be ${shape}`, 2);
  return v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** commander's collector for repeatable options */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
