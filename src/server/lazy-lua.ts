// The Lua VM loads on demand (core/lua/sandbox.ts initLua): a request whose body may
// carry Lua (a document to store, validate, preview or test; inline `policies` of a
// decision) waits for it before its handler compiles anything. Installed as an onRoute
// hook before the routes are added; once the VM is loaded each hook is one check.

import type { FastifyInstance, preValidationHookHandler, RouteOptions } from 'fastify';
import { initLua, isLuaReady } from '../core/lua/sandbox.js';
import { mayNeedLua } from '../core/lua/needs-lua.js';

/** Decision routes: only their inline `policies` can hold Lua. */
const DECISION_ROUTES = new Set(['/v1/evaluate', '/evaluate', '/v1/check']);
/** Relationship routes: no documents at all. */
const NO_DOCUMENTS = new Set(['/v1/relations/check', '/v1/relations/lookup-resources', '/v1/relations/lookup-subjects', '/v1/relations/write', '/v1/relations']);

function hookFor(decision: boolean): preValidationHookHandler {
  return (request, _reply, done) => {
    if (isLuaReady()) return done();
    const body = request.body as unknown;
    if (body === undefined || body === null) return done();
    const carried = decision ? (typeof body === 'object' && Object.hasOwn(body, 'policies') ? (body as { policies: unknown }).policies : undefined) : body;
    if (carried === undefined || !mayNeedLua(carried)) return done();
    // A failure to load is not this request's error: compiling then reports Lua as unavailable.
    initLua().then(() => done(), () => done());
  };
}

const withBody = (route: RouteOptions) => (Array.isArray(route.method) ? route.method : [route.method]).some((m) => m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS' && m !== 'DELETE');

/** Call before the routes are added. */
export function installLazyLua(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (!withBody(route) || NO_DOCUMENTS.has(route.url)) return;
    const hook = hookFor(DECISION_ROUTES.has(route.url));
    const existing = route.preValidation === undefined ? [] : Array.isArray(route.preValidation) ? route.preValidation : [route.preValidation];
    // After the access hooks (route-access.ts): a caller refused there does not load the VM.
    route.preValidation = [...existing, hook] as RouteOptions['preValidation'];
  });
}
