// The one place that maps errors to HTTP: domain codes to statuses, fastify's own
// errors to our stable codes, anything unexpected to a generic 500 with a logged id.

import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PolicyEngineError, statusOf, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
  details?: unknown;
  id?: string;
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  const statusCode = statusOf(code);
  const body: ErrorBody = { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
  if (details !== undefined) body.details = details;
  return body;
}

/** fastify's own error codes → ours */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BODY_MALFORMED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BODY_MALFORMED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BODY_MALFORMED',
  FST_ERR_CTP_EMPTY_TYPE: 'MEDIA_TYPE_UNSUPPORTED',
  FST_ERR_CTP_INVALID_TYPE: 'MEDIA_TYPE_UNSUPPORTED',
};

function classify(err: FastifyError & { validation?: unknown[] }): { code: ErrorCode; message: string; details?: unknown } | undefined {
  if (err instanceof PolicyEngineError) return { code: err.code, message: err.message, details: err.details };
  if (Array.isArray(err.validation)) {
    const details = (err.validation as Array<{ instancePath?: string; message?: string; params?: unknown }>).slice(0, 20)
      .map((v) => ({ path: v.instancePath ?? '', message: v.message ?? 'is invalid' }));
    return { code: 'REQUEST_INVALID', message: err.message.slice(0, 500), details };
  }
  const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (mapped) return { code: mapped, message: err.message.slice(0, 500) };
  // JSON.parse failures and prototype-poisoning refusals from fastify's body parser.
  if (err.statusCode === 400 && (err instanceof SyntaxError || /JSON|prototype|__proto__|constructor/i.test(err.message))) {
    return { code: 'BODY_MALFORMED', message: `malformed JSON body: ${err.message.slice(0, 200)}` };
  }
  if (err.statusCode === 413) return { code: 'BODY_TOO_LARGE', message: err.message.slice(0, 200) };
  if (err.statusCode === 415) return { code: 'MEDIA_TYPE_UNSUPPORTED', message: err.message.slice(0, 200) };
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return { code: 'REQUEST_INVALID', message: err.message.slice(0, 500) };
  }
  return undefined;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = classify(err);
    if (known) {
      const body = errorBody(known.code, known.message, known.details);
      // The message goes under its own key: pino writes `msg` itself, and a second `msg` key
      // makes the line invalid for strict JSON ingestion.
      if (body.statusCode >= 500) request.log.warn({ code: body.code, error: body.message }, 'request failed');
      return reply.code(body.statusCode).type('application/json').send(JSON.stringify(body));
    }
    const id = randomUUID();
    request.log.error({ err, errorId: id }, 'unexpected error');
    const body = { ...errorBody('INTERNAL', 'internal error; the server log has details under this id'), id };
    return reply.code(500).type('application/json').send(JSON.stringify(body));
  });
  app.setNotFoundHandler((request, reply) => {
    const body = errorBody('ROUTE_NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`);
    return reply.code(404).type('application/json').send(JSON.stringify(body));
  });
}
