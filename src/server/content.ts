// Content types and negotiation for the policy routes: JSON and YAML bodies are kept
// as text (the original is stored), and `Accept` picks the response format.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatOfContentType } from '../core/document/parse.js';
import type { DocumentFormat } from '../core/document/types.js';
import { PolicyEngineError } from '../errors.js';

export const YAML_CONTENT_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml', 'text/x-yaml'];

/** Inside an encapsulated scope: JSON and YAML bodies arrive as strings. */
export function keepBodiesAsText(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser(['application/json', ...YAML_CONTENT_TYPES], { parseAs: 'string' }, (_req, body, done) => done(null, body));
}

export function bodyFormat(request: FastifyRequest): { text: string; format: DocumentFormat } {
  const format = formatOfContentType(request.headers['content-type']);
  if (!format) throw new PolicyEngineError('MEDIA_TYPE_UNSUPPORTED', 'send application/json or application/yaml');
  const body = request.body;
  if (typeof body !== 'string' || body.trim() === '') throw new PolicyEngineError('BODY_MALFORMED', 'the body is empty');
  return { text: body, format };
}

/** The format the client accepts most: JSON by default; 406 when it accepts neither. */
export function acceptedFormat(accept: string | undefined): DocumentFormat {
  if (!accept || accept.trim() === '') return 'json';
  let best: { format: DocumentFormat; q: number } | undefined;
  for (const part of accept.split(',').slice(0, 32)) {
    const [typeRaw, ...params] = part.trim().split(';');
    const type = (typeRaw ?? '').trim().toLowerCase();
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!(q > 0)) continue;
    let format: DocumentFormat | undefined;
    if (type === 'application/json' || type === 'application/*' || type === '*/*') format = 'json';
    else if (YAML_CONTENT_TYPES.includes(type) || type === 'text/*') format = 'yaml';
    if (format && (!best || q > best.q)) best = { format, q };
  }
  if (!best) throw new PolicyEngineError('NOT_ACCEPTABLE', 'this resource is available as application/json or application/yaml');
  return best.format;
}
