// The Lua VM loads on demand (core/lua/sandbox.ts initLua): a request whose body may
// carry Lua (a document to store, validate, preview or test; inline `policies` of a
// decision) waits for it before its handler compiles anything. Installed as an onRoute
// hook before the routes are added; once the VM is loaded each hook is one check.

import type { FastifyInstance, preValidationHookHandler, RouteOptions } from 'fastify';
import { initLua, isLuaReady } from '../core/lua/sandbox.js';
import { mayNeedLua } from '../core/lua/needs-lua.js';

/**
 * Routes that get no hook: the decision routes wait in their handler, for inline
 * `policies` only (luaForInline: no hook on the decision path), and relationship and
 * AuthZEN routes take no documents at all.
 */
const NO_HOOK = new Set([
  '/v1/evaluate', '/evaluate', '/v1/check', '/v1/relations/check', '/v1/relations/lookup-resources', '/v1/relations/lookup-subjects', '/v1/relations/write', '/v1/relations',
  '/access/v1/evaluation', '/access/v1/evaluations', '/access/v1/search/subject', '/access/v1/search/resource', '/access/v1/search/action',
]);

const hook: preValidationHookHandler = (request, _reply, done) => {
  if (isLuaReady()) return done();
  const body = request.body as unknown;
  if (body === undefined || body === null || !mayNeedLua(body)) return done();
  // A failure to load is not this request's error: compiling then reports Lua as unavailable.
  initLua().then(() => done(), () => done());
};

/** For a decision request's inline `policies`: a promise to wait for, or undefined (the usual case). */
export function luaForInline(policies: unknown): Promise<void> | undefined {
  if (policies === undefined || isLuaReady() || !mayNeedLua(policies)) return undefined;
  return initLua().catch(() => {});
}

const withBody = (route: RouteOptions) => (Array.isArray(route.method) ? route.method : [route.method]).some((m) => m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS' && m !== 'DELETE');

/** Call before the routes are added. */
export function installLazyLua(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!withBody(route) || NO_HOOK.has(route.url)) return;
    const existing = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    // After the access hooks (route-access.ts): a caller refused there does not load the VM.
    route.preValidation = [...existing, hook] as RouteOptions['preValidation'];
  });
}
