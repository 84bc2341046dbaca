// The process logger. Secrets never reach a log line: the Authorization header (of any
// request object logged) and the admin and read tokens are censored by pino before writing.

import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'adminToken',
  '*.adminToken',
  'readToken',
  '*.readToken',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
