// Guard Express routes by permission: `requirePermission('document:delete', { namespace: req => … })`.
// Denied → 403 with the policy's message; no subject → 401; engine unreachable or
// failing → 503. A refused request is answered here: `next` is never called for it.

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { PolicyEngineClient } from './client.js';
import { decidePermission, headerRequestId, type GuardOptions } from './guard.js';

export type ExpressGuardOptions = Partial<GuardOptions<Request>>;

export interface ExpressGuardConfig extends ExpressGuardOptions {
  client: PolicyEngineClient;
}

function requestIdOf(req: Request): string | undefined {
  return headerRequestId(req.headers['x-request-id']);
}

function acceptLanguageOf(req: Request): string | undefined {
  const value = req.headers['accept-language'];
  return typeof value === 'string' ? value : undefined;
}

/** Defaults for every guarded route (client, subject…), and a `requirePermission` that applies them. */
export function createExpressGuard({ client, ...defaults }: ExpressGuardConfig): {
  requirePermission(permission: string, options?: ExpressGuardOptions): RequestHandler;
} {
  return {
    requirePermission: (permission, options = {}) => expressRequirePermission(client, permission, { ...defaults, ...options }),
  };
}

/** A middleware for one route; `options` must resolve at least the subject and a namespace or policy. */
export function expressRequirePermission(client: PolicyEngineClient, permission: string, options: ExpressGuardOptions): RequestHandler {
  if (!options.subject) throw new TypeError('requirePermission needs a subject resolver');
  if (!options.namespace && !options.policy) throw new TypeError('requirePermission needs a namespace or policy resolver');
  const resolved: GuardOptions<Request> = { requestId: requestIdOf, acceptLanguage: acceptLanguageOf, ...options, subject: options.subject };
  return (req: Request, res: Response, next: NextFunction) => {
    void decidePermission(client, permission, resolved, req).then((verdict) => {
      if (verdict.allowed) {
        next();
        return;
      }
      const { refusal } = verdict;
      if (res.headersSent) return;
      res.status(refusal.statusCode).set('cache-control', 'no-store');
      if (refusal.statusCode === 503) res.set('retry-after', '1');
      res.json(refusal);
    });
  };
}
