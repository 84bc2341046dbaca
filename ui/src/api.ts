// The page's only way to the server: the documented API on this origin. When the server
// has an ADMIN_TOKEN, the token the user typed (kept in sessionStorage, for this tab
// only) goes with every call as a bearer.

import type { Format, PolicyItem, PreviewBody, PreviewResult, PutResult, ValidateResult } from './types.js';

const TOKEN_KEY = 'policy-engine.admin-token';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

let onUnauthorized: (error: ApiError) => void = () => {};

export function whenUnauthorized(fn: (error: ApiError) => void): void {
  onUnauthorized = fn;
}

export function adminToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setAdminToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const MEDIA: Record<Format, string> = { yaml: 'application/yaml', json: 'application/json' };

interface Call {
  body?: string;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
}

async function call(method: string, url: string, options: Call = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...(options.headers ?? {}) };
  if (options.contentType) headers['content-type'] = options.contentType;
  const token = adminToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: options.body, credentials: 'omit', cache: 'no-store', redirect: 'error' });
  } catch (err) {
    throw new ApiError(0, 'UNREACHABLE', `the server did not answer (${(err as Error).message})`);
  }
  if (res.ok) return res;
  let body: { code?: string; message?: string; details?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not an error body of ours (a proxy's page): the status says enough
  }
  const error = new ApiError(res.status, body.code ?? `HTTP_${res.status}`, body.message ?? res.statusText, body.details);
  if (res.status === 401) onUnauthorized(error);
  throw error;
}

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

export async function listPolicies(cursor?: string): Promise<{ items: PolicyItem[]; cursor?: string | null }> {
  const q = new URLSearchParams({ limit: '200' });
  if (cursor) q.set('cursor', cursor);
  return json(await call('GET', `/v1/policies?${q}`));
}

export async function getPolicy(key: string, format: Format): Promise<{ text: string; etag: string }> {
  const res = await call('GET', `/v1/policies/${encodeURIComponent(key)}`, { accept: MEDIA[format] });
  return { text: await res.text(), etag: res.headers.get('etag') ?? '' };
}

export type Precondition = { ifMatch: string } | { ifNoneMatch: '*' };

export async function putPolicy(key: string, text: string, format: Format, pre: Precondition): Promise<PutResult> {
  const headers: Record<string, string> = 'ifMatch' in pre ? { 'if-match': pre.ifMatch } : { 'if-none-match': '*' };
  return json(await call('PUT', `/v1/policies/${encodeURIComponent(key)}`, { body: text, contentType: MEDIA[format], headers }));
}

export interface EntityItem {
  ref: string;
  roles: string[];
  groups: string[];
  attributes: Record<string, unknown>;
  etag: string;
  updatedAt: string;
}

export async function listEntities(type: string, cursor?: string): Promise<{ items: EntityItem[]; cursor: string | null }> {
  const q = new URLSearchParams({ limit: '100' });
  if (type) q.set('type', type);
  if (cursor) q.set('cursor', cursor);
  return json(await call('GET', `/v1/entities?${q}`));
}

export async function validate(text: string, format: Format): Promise<ValidateResult> {
  return json(await call('POST', '/v1/validate', { body: text, contentType: MEDIA[format] }));
}

export async function preview(body: PreviewBody): Promise<PreviewResult> {
  return json(await call('POST', '/v1/preview', { body: JSON.stringify(body), contentType: 'application/json' }));
}

export interface AuthzenAnswer {
  /** the response body: `{ decision, context? }`, or `{ evaluations: [...] }` for a batch */
  body: Record<string, unknown>;
  /** the X-Decision-Id header, when the server sent one */
  decisionId: string | null;
}

/** AuthZEN 1.0: one Access Evaluation, or a batch (`/evaluations`), against the stored policies. */
export async function authzen(batch: boolean, body: Record<string, unknown>): Promise<AuthzenAnswer> {
  const res = await call('POST', batch ? '/access/v1/evaluations' : '/access/v1/evaluation', { body: JSON.stringify(body), contentType: 'application/json' });
  return { body: (await res.json()) as Record<string, unknown>, decisionId: res.headers.get('x-decision-id') };
}

export interface PolicyVersion { format: Format; text: string; etag: string }

export interface HistoryEntry {
  revision: string;
  at: string;
  actor: string;
  kind?: string;
  key: string;
  namespace?: string;
  op: 'put' | 'delete';
  before: PolicyVersion | null;
  after: PolicyVersion | null;
  diff: string | null;
  diffTruncated?: boolean;
}

export async function policyHistory(key: string, before?: string): Promise<{ key: string; entries: HistoryEntry[]; cursor: string | null }> {
  const q = new URLSearchParams({ limit: '20' });
  if (before) q.set('before', before);
  return json(await call('GET', `/v1/policies/${encodeURIComponent(key)}/history?${q}`));
}

export interface RollbackResult { key: string; restored: string; deleted: boolean; etag: string | null; revision: string | null }

/** Write a recorded version again, If-Match the version the page holds (412 when it moved). */
export async function rollback(key: string, revision: string, ifMatch: string): Promise<RollbackResult> {
  return json(await call('POST', `/v1/policies/${encodeURIComponent(key)}/rollback`, {
    body: JSON.stringify({ revision }), contentType: 'application/json', headers: { 'if-match': ifMatch },
  }));
}
