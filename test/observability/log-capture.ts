// A pino logger (configured as main.ts configures it) whose lines are kept in memory.

import type { Logger } from 'pino';
import { createLogger } from '../../src/observability/logger.js';

export interface CapturedLog {
  logger: Logger;
  /** every line written so far, as text */
  text(): string;
  /** every line written so far, parsed */
  lines(): Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any -- log lines are checked field by field
  /** the decision-log lines */
  decisions(): Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as above
}

export function captureLog(level = 'info'): CapturedLog {
  const chunks: string[] = [];
  const logger = createLogger(level, { write: (s: string) => { chunks.push(s); } });
  const lines = () => chunks.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    logger,
    text: () => chunks.join(''),
    lines,
    decisions: () => lines().filter((l) => l.name === 'decision'),
  };
}
