// `Vary: Accept-Language` on the routes whose answers depend on that header (reasons and
// messages are rendered in the negotiated language), so an HTTP cache in front of the
// sidecar never serves one language's answer for another. Installed as an onRoute hook
// before the routes are added: each matching route gets an onSend hook, which runs for
// errors too, and which adds to a Vary the route may already have set.

import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, RouteOptions } from 'fastify';

/** Routes (method and URL) whose response bodies depend on Accept-Language. */
export const LANGUAGE_ROUTES: ReadonlySet<string> = new Set(['POST /v1/evaluate', 'POST /evaluate', 'POST /v1/check', 'POST /access/v1/evaluation', 'POST /access/v1/evaluations']);

/** `current` with `name` added once (case-insensitive); `*` already covers everything. */
export function addVary(current: string | undefined, name: string): string {
  if (current === undefined || current.trim() === '') return name;
  const names = current.split(',').map((v) => v.trim().toLowerCase());
  if (names.includes('*') || names.includes(name.toLowerCase())) return current;
  return `${current}, ${name}`;
}

const varyOnLanguage: onSendHookHandler = (_request: FastifyRequest, reply: FastifyReply, payload, done) => {
  const current = reply.getHeader('vary');
  // The usual case (no Vary yet) builds nothing.
  if (current === undefined) reply.header('vary', 'Accept-Language');
  else reply.header('vary', addVary(Array.isArray(current) ? current.join(', ') : String(current), 'Accept-Language'));
  done(null, payload);
};

function languageDependent(route: RouteOptions): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.some((m) => LANGUAGE_ROUTES.has(`${m.toUpperCase()} ${route.url}`));
}

/** Call before the decision routes are added. */
export function installLanguageVary(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!languageDependent(route)) return;
    const existing = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [...existing, varyOnLanguage];
  });
}
