// A typed client for the engine's HTTP API (SPEC §3, §5, §7), on the platform's fetch.
// Every failure is a PolicyEngineClientError; nothing here imports server code at run
// time (the request and response types are shared, type-only).

import type { CheckRequest, CheckResponse, EvaluateRequest, EvaluateResponse } from '../core/request.js';
import type { PreviewRequest, PreviewResult } from '../engine/preview/impact-preview.js';
import { PolicyEngineClientError, TRANSPORT_CODES } from './errors.js';

import type { PlanRequest, PlanResponse } from '../engine/plan-service.js';

export interface PolicyEngineClientOptions {
  /** e.g. `http://127.0.0.1:8080` (a path prefix is kept) */
  baseUrl: string;
  /** sent as `Authorization: Bearer …` on every call: writes, reads of stored state and inline policies need it when the engine sets ADMIN_TOKEN (a READ_TOKEN does for reads) */
  adminToken?: string;
  /**
   * sent as `Authorization: Bearer …` on decision calls (evaluate, check, plan,
   * relationsPlan) instead of adminToken: the engine's DECISION_TOKEN, which it requires
   * when set and beyond loopback. A decision carrying inline policies sends adminToken
   * when one is given (caller-supplied code needs it).
   */
  decisionToken?: string;
  /** per call, connection to last byte; default 2000 ms */
  timeoutMs?: number;
  /** another fetch (a proxy-aware one, a test double); default the global fetch */
  fetch?: typeof fetch;
  /** sent with every call */
  headers?: Record<string, string>;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** sent as `x-request-id`: the engine's logs (decision log included) carry it */
  requestId?: string;
  /** sent as `Accept-Language`: the language of reasons (a request's `language` wins) */
  acceptLanguage?: string;
}

export type DocumentFormat = 'json' | 'yaml';
/** A policy document as an object, or its JSON / YAML text. */
export type PolicyInput = Record<string, unknown> | string;

export interface WriteOptions extends CallOptions {
  /** of a text body; default: JSON for objects and for text starting with `{` or `[`, else YAML */
  format?: DocumentFormat;
  /** write only over this version (ETag); 412 PRECONDITION_FAILED otherwise */
  ifMatch?: string;
  /** create only (`If-None-Match: *`) */
  ifNoneMatch?: boolean;
}

export interface PutPolicyResult {
  key: string;
  namespace: string;
  etag: string;
  created: boolean;
  revision: string;
  updatedAt: string;
}

export interface StoredPolicy {
  key: string;
  etag: string;
  format: DocumentFormat;
  /** the body as served: the original text when asked in the format it was written in */
  text: string;
  /** parsed, when fetched as JSON */
  document?: Record<string, unknown>;
}

export interface PolicySummary {
  key: string;
  namespace: string;
  ordinal: number | null;
  disabled: boolean;
  format: DocumentFormat;
  etag: string;
  updatedAt: string;
  document: Record<string, unknown>;
}

export interface PolicyPage {
  items: PolicySummary[];
  /** pass back as `cursor` for the next page; null on the last one */
  cursor: string | null;
}

export interface ImportResult {
  created: number;
  replaced: number;
  keys: string[];
  revision: string;
}

export interface ValidationResult {
  valid: boolean;
  documents: number;
  errors: Array<{ document?: string; path?: string; message: string; line?: number; column?: number }>;
  /** message problems that do not make the documents invalid (missing translations, unfilled placeholders, unused entries) */
  warnings?: Array<{ type: string; document: string; path: string; message: string }>;
}

export interface ReadyStatus {
  status: 'ready' | 'unready';
  store?: string;
  loaded?: boolean;
  stale?: boolean;
  revision?: string;
  documents?: number;
  brokenDocuments?: number;
  lastError?: string;
}

interface Call {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: string;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  /** statuses answered normally besides 2xx */
  accept503?: boolean;
  /** a decision route: the decision token is its credential */
  decision?: boolean;
}

/** Inline policies are caller-supplied code: they need the admin token, not the decision token. */
function hasInlinePolicies(request: object): boolean {
  return Object.hasOwn(request, 'policies');
}

const YAML_TYPE = 'application/yaml';
const JSON_TYPE = 'application/json';

function textBody(input: PolicyInput | PolicyInput[], format: DocumentFormat | undefined): { body: string; contentType: string } {
  if (typeof input !== 'string') return { body: JSON.stringify(input), contentType: JSON_TYPE };
  const f = format ?? (/^\s*[{[]/.test(input) ? 'json' : 'yaml');
  return { body: input, contentType: f === 'json' ? JSON_TYPE : YAML_TYPE };
}

export class PolicyEngineClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: PolicyEngineClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  evaluate(request: EvaluateRequest, options: CallOptions = {}): Promise<EvaluateResponse> {
    return this.json({ method: 'POST', path: '/v1/evaluate', body: JSON.stringify(request), contentType: JSON_TYPE, decision: !hasInlinePolicies(request) }, options);
  }

  check(request: CheckRequest, options: CallOptions = {}): Promise<CheckResponse> {
    return this.json({ method: 'POST', path: '/v1/check', body: JSON.stringify(request), contentType: JSON_TYPE, decision: !hasInlinePolicies(request) }, options);
  }

  /** Which resources of a type the subject may act on, as a filter for your database (SPEC §11; docs/plans.md). */
  plan(request: PlanRequest, options: CallOptions = {}): Promise<PlanResponse> {
    return this.json({ method: 'POST', path: '/v1/plan', body: JSON.stringify(request), contentType: JSON_TYPE, decision: true }, options);
  }

  /** lookup-resources as a plan: `id in [...]` (at most PLAN_MAX_IDS ids). */
  relationsPlan(request: { subject: string; resourceType: string; permission: string; fields?: PlanRequest['fields'] }, options: CallOptions = {}): Promise<PlanResponse> {
    return this.json({ method: 'POST', path: '/v1/relations/plan', body: JSON.stringify(request), contentType: JSON_TYPE, decision: true }, options);
  }

  putPolicy(key: string, document: PolicyInput, options: WriteOptions = {}): Promise<PutPolicyResult> {
    return this.json({
      method: 'PUT', path: `/v1/policies/${encodeURIComponent(key)}`, ...textBody(document, options.format),
      headers: preconditions(options),
    }, options);
  }

  async getPolicy(key: string, options: CallOptions & { format?: DocumentFormat } = {}): Promise<StoredPolicy> {
    const format = options.format ?? 'json';
    const r = await this.send({ method: 'GET', path: `/v1/policies/${encodeURIComponent(key)}`, accept: format === 'json' ? JSON_TYPE : YAML_TYPE }, options);
    const stored: StoredPolicy = { key, etag: r.headers.get('etag') ?? '', format, text: r.text };
    if (format === 'json') stored.document = parseJson(r.text, r.status) as Record<string, unknown>;
    return stored;
  }

  listPolicies(query: { namespace?: string; cursor?: string; limit?: number } = {}, options: CallOptions = {}): Promise<PolicyPage> {
    const params = new URLSearchParams();
    if (query.namespace !== undefined) params.set('namespace', query.namespace);
    if (query.cursor !== undefined) params.set('cursor', query.cursor);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const qs = params.toString();
    return this.json({ method: 'GET', path: `/v1/policies${qs ? `?${qs}` : ''}` }, options);
  }

  async deletePolicy(key: string, options: Omit<WriteOptions, 'format' | 'ifNoneMatch'> = {}): Promise<void> {
    await this.send({ method: 'DELETE', path: `/v1/policies/${encodeURIComponent(key)}`, headers: preconditions(options) }, options);
  }

  /** Bulk import: objects, or a JSON array / multi-document YAML text. All or nothing is validated first. */
  importPolicies(documents: Array<Record<string, unknown>> | string, options: CallOptions & { format?: DocumentFormat } = {}): Promise<ImportResult> {
    return this.json({ method: 'POST', path: '/v1/policies', ...textBody(documents, options.format) }, options);
  }

  /** Compile without storing. */
  validate(documents: PolicyInput | Array<Record<string, unknown>>, options: CallOptions & { format?: DocumentFormat } = {}): Promise<ValidationResult> {
    return this.json({ method: 'POST', path: '/v1/validate', ...textBody(documents, options.format) }, options);
  }

  /** What proposed changes would do to recorded requests and stored test suites; writes nothing. */
  preview(request: PreviewRequest, options: CallOptions = {}): Promise<PreviewResult> {
    return this.json({ method: 'POST', path: '/v1/preview', body: JSON.stringify(request), contentType: JSON_TYPE }, options);
  }

  /** Liveness: resolves when the process answers. */
  health(options: CallOptions = {}): Promise<{ status: string }> {
    return this.json({ method: 'GET', path: '/healthz' }, options);
  }

  /** Readiness: the engine's answer, ready or not (an unready engine answers 503 with this body). */
  ready(options: CallOptions = {}): Promise<ReadyStatus> {
    return this.json({ method: 'GET', path: '/readyz', accept503: true }, options);
  }

  private async json<T>(call: Call, options: CallOptions): Promise<T> {
    const r = await this.send({ accept: JSON_TYPE, ...call }, options);
    return parseJson(r.text, r.status) as T;
  }

  private async send(call: Call, options: CallOptions): Promise<{ status: number; headers: Headers; text: string }> {
    const headers: Record<string, string> = { ...this.options.headers, ...call.headers };
    if (call.accept) headers.accept = call.accept;
    if (call.contentType) headers['content-type'] = call.contentType;
    const token = (call.decision ? this.options.decisionToken : undefined) ?? this.options.adminToken ?? (call.decision === false ? this.options.decisionToken : undefined);
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (options.requestId !== undefined) headers['x-request-id'] = options.requestId;
    if (options.acceptLanguage !== undefined) headers['accept-language'] = options.acceptLanguage;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    try {
      const r = await this.fetchImpl(this.baseUrl + call.path, { method: call.method, headers, body: call.body, signal });
      status = r.status;
      responseHeaders = r.headers;
      text = await r.text();
    } catch (err) {
      if (options.signal?.aborted) throw err; // the caller's own abort stays an abort
      if (timeout.aborted) {
        throw new PolicyEngineClientError(`the policy engine did not answer within ${this.timeoutMs} ms`, { statusCode: TRANSPORT_CODES.ENGINE_TIMEOUT, code: 'ENGINE_TIMEOUT', cause: err });
      }
      throw new PolicyEngineClientError(`the policy engine is unreachable: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, {
        statusCode: TRANSPORT_CODES.ENGINE_UNREACHABLE, code: 'ENGINE_UNREACHABLE', cause: err,
      });
    }
    if ((status >= 200 && status < 300) || (call.accept503 && status === 503)) return { status, headers: responseHeaders, text };
    throw errorFromBody(status, text);
  }
}

function preconditions(options: WriteOptions): Record<string, string> {
  const h: Record<string, string> = {};
  if (options.ifMatch !== undefined) h['if-match'] = options.ifMatch;
  if (options.ifNoneMatch) h['if-none-match'] = '*';
  return h;
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PolicyEngineClientError(`the policy engine answered ${status} with a body that is not JSON`, { statusCode: TRANSPORT_CODES.ENGINE_BAD_RESPONSE, code: 'ENGINE_BAD_RESPONSE', cause: err });
  }
}

function errorFromBody(status: number, text: string): PolicyEngineClientError {
  let body: { code?: unknown; message?: unknown; details?: unknown; id?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (body === null || typeof body !== 'object' || typeof body.code !== 'string') {
    return new PolicyEngineClientError(`the policy engine answered ${status}: ${text.slice(0, 200)}`, { statusCode: status, code: 'ENGINE_BAD_RESPONSE' });
  }
  return new PolicyEngineClientError(typeof body.message === 'string' ? body.message : `the policy engine answered ${status}`, {
    statusCode: status,
    code: body.code,
    details: body.details,
    errorId: typeof body.id === 'string' ? body.id : undefined,
  });
}
