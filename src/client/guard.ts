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
  /** forwarded as `x-request-id`, so the engine's decision log names this request
   *  (default: the caller's `x-request-id` header; fastify: else the request's own id) */
  requestId?: (req: Req) => string | undefined;
  /** forwarded as `Accept-Language`, so a denial's reason is in the caller's language (default: the request's header) */
  acceptLanguage?: (req: Req) => string | undefined;
  /** told about every refusal that is not a plain denial (engine down, resolver failure…) */
  onError?: (err: unknown, req: Req) => void;
  /**
   * Put the engine's internals in refusals: the rule and document behind a denial
   * (document keys may hold tenant ids) and the engine's error code. Off by default: a
   * 403 then carries only the policy's own message (localized when it is a catalogue
   * reference) or a generic one. A failing script's error is never shown either way.
   */
  exposeInternals?: boolean;
}

export type GuardRefusalCode = 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'AUTHORIZATION_FAILED' | 'AUTHORIZATION_UNAVAILABLE';

export interface GuardRefusal {
  statusCode: 401 | 403 | 503;
  code: GuardRefusalCode;
  error: string;
  message: string;
  permission: string;
  /** the rule that explains a denial, when one does (only with `exposeInternals`) */
  reason?: { rule: string; document: string; key?: string };
}

export type GuardVerdict = { allowed: true; response: CheckResponse } | { allowed: false; refusal: GuardRefusal };

function refuse(statusCode: GuardRefusal['statusCode'], code: GuardRefusalCode, message: string, permission: string): GuardVerdict {
  const error = statusCode === 401 ? 'Unauthorized' : statusCode === 403 ? 'Forbidden' : 'Service Unavailable';
  return { allowed: false, refusal: { statusCode, code, error, message, permission } };
}

/** A header value safe to forward as `x-request-id`: one printable string of at most 200 characters. */
export function headerRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 && /^[\x21-\x7e]+$/.test(value) ? value : undefined;
}

/**
 * The text a denial may show the caller: the policy's own message, or a generic one.
 * A script document that fails denies with the engine's account of the failure
 * (`policy <key> failed: lua: …`, src/core/evaluate/lua-runner.ts), a runtime error
 * that is no message of the policy's: it is never shown.
 */
export function denialMessage(permission: string, reason: CheckResponse['reason']): string {
  const generic = `permission ${permission} is denied`;
  if (!reason || typeof reason.text !== 'string' || reason.text === '') return generic;
  if (reason.key === undefined && reason.text.startsWith(`policy ${reason.document} failed: `)) return generic;
  return reason.text;
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
    const verdict = refuse(403, 'PERMISSION_DENIED', denialMessage(permission, response.reason), permission);
    if (!verdict.allowed && response.reason && options.exposeInternals === true) {
      const { rule, document, key } = response.reason;
      verdict.refusal.reason = key === undefined ? { rule, document } : { rule, document, key };
    }
    return verdict;
  } catch (err) {
    options.onError?.(err, req);
    // The engine refused the question itself (bad namespace, no such policy…): a refusal, not an outage.
    if (err instanceof PolicyEngineClientError && !err.unavailable) {
      return refuse(403, 'AUTHORIZATION_FAILED', options.exposeInternals === true ? `the authorization check failed: ${err.code}` : 'the authorization check failed', permission);
    }
    if (err instanceof PolicyEngineClientError) {
      return refuse(503, 'AUTHORIZATION_UNAVAILABLE', 'the authorization service is unavailable', permission);
    }
    return refuse(403, 'AUTHORIZATION_FAILED', 'the authorization check failed', permission);
  }
}
