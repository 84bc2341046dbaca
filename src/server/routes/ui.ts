// GET /ui: the policy playground (issue 11), a static page bundled at build time
// (`npm run build:ui` → dist/ui: index.html, app.js, app.css). It calls only the
// documented API; this route serves its files with a strict Content-Security-Policy
// and never inlines anything.

import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PolicyEngineError } from '../../errors.js';

export interface UiOptions {
  /** the bundle: index.html and the assets beside it (dist/ui) */
  assetsDir: string;
  /**
   * The admin guard of write routes. The page and its assets hold no data, so they open
   * whenever a write could be authorized at all: on loopback without ADMIN_TOKEN, or with
   * ADMIN_TOKEN set (the page then asks for the token and sends it on every API call).
   * Beyond loopback with no token, where every write is refused, so is the page.
   */
  guard: (request: FastifyRequest) => Promise<void>;
}

/**
 * The bundle's directory, dist/ui at the package root: this file is three levels below
 * the root both as source (src/server/routes) and compiled (dist/server/routes).
 */
export function defaultUiDir(): string {
  return fileURLToPath(new URL('../../../dist/ui', import.meta.url));
}

/** No inline script or style, nothing from another origin, never framed. */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

function secure(reply: FastifyReply, type: string): FastifyReply {
  return reply
    .header('content-security-policy', UI_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin')
    .type(type);
}

export function uiRoutes(app: FastifyInstance, options: UiOptions): void {
  const dir = path.resolve(options.assetsDir);
  // Files are read once: the bundle never changes while the server runs.
  const files = new Map<string, { body: Buffer; type: string }>();
  const load = (name: string) => {
    let f = files.get(name);
    if (f) return f;
    const full = path.join(dir, name);
    if (!full.startsWith(dir + path.sep) || !existsSync(full)) return undefined;
    const type = TYPES[path.extname(name)];
    if (!type) return undefined;
    f = { body: readFileSync(full), type };
    files.set(name, f);
    return f;
  };
  const pageGuard = async (request: FastifyRequest) => {
    try {
      await options.guard(request);
    } catch (err) {
      // A missing or wrong token (opaque, or a JWT that does not verify): the page asks for
      // it; the API calls it makes are guarded.
      if (err instanceof PolicyEngineError && (err.code === 'UNAUTHORIZED' || err.code === 'TOKEN_INVALID')) return;
      throw err;
    }
  };
  const page = async (_request: FastifyRequest, reply: FastifyReply) => {
    const f = load('index.html');
    if (!f) throw new PolicyEngineError('UI_NOT_BUILT', 'the playground is not built: run `npm run build:ui`');
    return secure(reply, f.type).header('cache-control', 'no-store').send(f.body);
  };
  const doc = (summary: string) => ({ schema: { tags: ['playground'], summary, produces: ['text/html', 'text/javascript', 'text/css'] }, preHandler: pageGuard });
  app.get('/ui', doc('The policy playground page (HTML; strict CSP; see docs/playground.md)'), page);
  app.get('/ui/', doc('The policy playground page (same as /ui)'), page);
  app.get('/ui/assets/:name', doc('A file of the playground bundle (script, stylesheet)'), async (request, reply) => {
    const { name } = request.params as { name: string };
    const f = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) && name !== 'index.html' ? load(name) : undefined;
    if (!f) throw new PolicyEngineError('ROUTE_NOT_FOUND', 'no such asset');
    return secure(reply, f.type).header('cache-control', 'no-cache').send(f.body);
  });
}
