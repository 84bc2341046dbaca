// What both route guards (fastify, Express) decide, apart from the framework: ask the
// engine whether this request's subject holds a permission, and turn every other
// outcome into a refusal. Fail closed: only an explicit `allowed: true` lets a request on.

import type { CheckRequest, CheckResponse, SubjectInput } from '../core/request.js';
import type { PolicyEngineClient } from './client.js';
import { PolicyEngineClientError } from './errors.js';

type MaybePromise<T> = T | Promise<T>;

/** How a guard reads one request. Resolvers may be async; one that throws refuses the request. */
export interface GuardOptions<Req> {
  /** the caller; undefined / null / '' (no authenticated caller) → 401 */
  subject: (req: Req) => MaybePromise<SubjectInput | undefined | null>;
  /** the namespace path the permission is asked in (or name `policy`) */
  namespace?: (req: Req) => MaybePromise<string>;
  /** one stored policy by key, instead of a namespace path */
  policy?: (req: Req) => MaybePromise<string>;
  resource?: (req: Req) => MaybePromise<CheckRequest['resource'] | undefined>;
  context?: (req: Req) => MaybePromise<Record<string, unknown> | undefined>;
  /** forwarded as `x-request-id`, so the engine's decision log names this request */
  requestId?: (req: Req) => string | undefined;
  /** forwarded as `Accept-Language`, so a denial's reason is in the caller's language (default: the request's header) */
  acceptLanguage?: (req: Req) => string | undefined;
  /** told about every refusal that is not a plain denial (engine down, resolver failure…) */
  onError?: (err: unknown, req: Req) => void;
}

export type GuardRefusalCode = 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'AUTHORIZATION_FAILED' | 'AUTHORIZATION_UNAVAILABLE';

export interface GuardRefusal {
  statusCode: 401 | 403 | 503;
  code: GuardRefusalCode;
  error: string;
  message: string;
  permission: string;
  /** the rule that explains a denial, when one does */
  reason?: { rule: string; document: string };
}

export type GuardVerdict = { allowed: true; response: CheckResponse } | { allowed: false; refusal: GuardRefusal };

function refuse(statusCode: GuardRefusal['statusCode'], code: GuardRefusalCode, message: string, permission: string): GuardVerdict {
  const error = statusCode === 401 ? 'Unauthorized' : statusCode === 403 ? 'Forbidden' : 'Service Unavailable';
  return { allowed: false, refusal: { statusCode, code, error, message, permission } };
}

/** Ask the engine; never rejects. */
export async function decidePermission<Req>(client: PolicyEngineClient, permission: string, options: GuardOptions<Req>, req: Req): Promise<GuardVerdict> {
  try {
    const subject = await options.subject(req);
    if (subject === undefined || subject === null || subject === '') {
      return refuse(401, 'UNAUTHENTICATED', 'authentication required', permission);
    }
    const check: CheckRequest = { subject, permission };
    if (options.namespace) check.namespace = await options.namespace(req);
    else if (options.policy) check.policy = await options.policy(req);
    const resource = options.resource ? await options.resource(req) : undefined;
    if (resource !== undefined) check.resource = resource;
    const context = options.context ? await options.context(req) : undefined;
    if (context !== undefined) check.context = context;
    const requestId = options.requestId?.(req);
    const acceptLanguage = options.acceptLanguage?.(req);
    const response = await client.check(check, {
      ...(requestId !== undefined ? { requestId } : {}),
      ...(acceptLanguage !== undefined ? { acceptLanguage } : {}),
    });
    if (response.allowed === true) return { allowed: true, response };
    const verdict = refuse(403, 'PERMISSION_DENIED', response.reason?.text ?? `permission ${permission} is denied`, permission);
    if (!verdict.allowed && response.reason) verdict.refusal.reason = { rule: response.reason.rule, document: response.reason.document };
    return verdict;
  } catch (err) {
    options.onError?.(err, req);
    // The engine refused the question itself (bad namespace, no such policy…): a refusal, not an outage.
    if (err instanceof PolicyEngineClientError && !err.unavailable) {
      return refuse(403, 'AUTHORIZATION_FAILED', `the authorization check failed: ${err.code}`, permission);
    }
    if (err instanceof PolicyEngineClientError) {
      return refuse(503, 'AUTHORIZATION_UNAVAILABLE', 'the authorization service is unavailable', permission);
    }
    return refuse(403, 'AUTHORIZATION_FAILED', 'the authorization check failed', permission);
  }
}
