// Guard fastify routes by permission, e.g. `preHandler: app.requirePermission('document:delete',
// { namespace: req => … })`. Denied → 403 with the policy's message; no subject → 401;
// engine unreachable or failing → 503. A refused request never reaches its handler.

import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { PolicyEngineClient } from './client.js';
import { decidePermission, headerRequestId, type GuardOptions } from './guard.js';

export type FastifyGuardOptions = Partial<GuardOptions<FastifyRequest>>;

export interface FastifyGuardPluginOptions extends FastifyGuardOptions {
  client: PolicyEngineClient;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler that lets the request on only when its subject holds `permission` (from fastifyPolicyGuard). */
    requirePermission(permission: string, options?: FastifyGuardOptions): preHandlerAsyncHookHandler;
  }
}

/** A preHandler for one route; `options` must resolve at least the subject and a namespace or policy. */
export function fastifyRequirePermission(client: PolicyEngineClient, permission: string, options: FastifyGuardOptions): preHandlerAsyncHookHandler {
  if (!options.subject) throw new TypeError('requirePermission needs a subject resolver');
  if (!options.namespace && !options.policy) throw new TypeError('requirePermission needs a namespace or policy resolver');
  const resolved: GuardOptions<FastifyRequest> = {
    // The caller's id, so the engine's decision log names the request the caller knows;
    // fastify's own id (the same when the app reads x-request-id) only when none was sent.
    requestId: (req) => headerRequestId(req.headers['x-request-id']) ?? req.id,
    acceptLanguage: (req) => (typeof req.headers['accept-language'] === 'string' ? req.headers['accept-language'] : undefined),
    ...options,
    subject: options.subject,
  };
  return async function guard(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    const verdict = await decidePermission(client, permission, resolved, request);
    if (verdict.allowed) return;
    const { refusal } = verdict;
    reply.code(refusal.statusCode).header('cache-control', 'no-store');
    if (refusal.statusCode === 503) reply.header('retry-after', '1');
    return reply.send(refusal);
  };
}

const plugin: FastifyPluginAsync<FastifyGuardPluginOptions> = async (app, { client, ...defaults }) => {
  app.decorate('requirePermission', (permission: string, options: FastifyGuardOptions = {}) =>
    fastifyRequirePermission(client, permission, { ...defaults, ...options }));
};

// As fastify-plugin does: the decorator belongs to the instance that registers the plugin.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'policy-engine-guard';

/** Register with `{ client, subject, … }` defaults; then `app.requirePermission(permission, overrides?)`. */
export const fastifyPolicyGuard = plugin;
