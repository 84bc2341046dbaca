// The process logger. Secrets never reach a log line: the credential headers (of any
// request object logged) and the admin and read tokens are censored by pino before
// writing. Request attributes and context are redacted where they are copied into a
// line (decision-log.ts, with the key list of redaction.ts).

import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-decision-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["x-decision-token"]',
  'adminToken',
  '*.adminToken',
  'readToken',
  '*.readToken',
  'decisionToken',
  '*.decisionToken',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
