// The request contract (SPEC §3): what evaluate and check requests carry, what they
// answer, and the two rules every caller shares: which mode a request names
// (`modeOf`) and the subject it is about (`toSubject`). A leaf module: routes, the
// decision service, the decision log, request samples, the preview, the test runner,
// the CLI and the client all import it, and it imports nothing above core.

import { PolicyEngineError } from '../errors.js';
import type { DocumentTrace, Reason, Subject } from './evaluate/types.js';
import type { ResourceInput, SubjectInput } from './inputs.js';

export type { ResourceInput, SubjectInput };

export interface EvaluateRequest {
  subject: SubjectInput;
  namespace?: string;
  policy?: string;
  policies?: Array<Record<string, unknown> | string>;
  resource?: ResourceInput;
  context?: Record<string, unknown>;
  explain?: boolean;
  /** the language of reasons (a BCP 47 tag); before Accept-Language and the subject attribute */
  language?: string;
}

/** What the transport adds to a request. */
export interface RequestMeta {
  /** the Accept-Language header */
  acceptLanguage?: string;
}

export interface CheckRequest extends EvaluateRequest {
  permission?: string;
  permissions?: string[];
}

export interface EvaluateResponse {
  permissions: string[];
  denied: string[];
  default: boolean;
  namespaces: string[];
  policies: string[];
  cached: boolean;
  revision: string;
  exact: boolean;
  stale?: boolean;
  trace?: DocumentTrace[];
  grantedBy?: Record<string, { document: string; rule: string }>;
  /** conditions that failed at run time (their rules did not apply) */
  conditionErrors?: Array<{ document: string; rule: string; error: string }>;
  /** each denied pattern whose deciding rule has a message, rendered for this request */
  messages?: Record<string, Reason>;
}

export interface CheckResponse {
  allowed?: boolean;
  reason?: Reason;
  results?: Record<string, boolean>;
  reasons?: Record<string, Reason>;
  cached: boolean;
  revision: string;
  stale?: boolean;
}

export type RequestMode = 'namespace' | 'policy' | 'policies';

const MODES = ['namespace', 'policy', 'policies'] as const;

/** The mode a request names, or undefined when it names none or several (metrics label those). */
export function requestMode(req: Pick<EvaluateRequest, RequestMode>): RequestMode | undefined {
  let found: RequestMode | undefined;
  for (const m of MODES) {
    if (req[m] === undefined) continue;
    if (found !== undefined) return undefined;
    found = m;
  }
  return found;
}

/** The mode a request names; MODE_INVALID unless it names exactly one. */
export function modeOf(req: Pick<EvaluateRequest, RequestMode>): RequestMode {
  const mode = requestMode(req);
  if (mode !== undefined) return mode;
  const given = MODES.filter((m) => req[m] !== undefined);
  throw new PolicyEngineError('MODE_INVALID', given.length === 0
    ? 'name exactly one of namespace, policy or policies'
    : `name exactly one of namespace, policy or policies, not ${given.join(' and ')}`);
}

/** The subject a request is about; SUBJECT_INVALID for an empty id. */
export function toSubject(input: SubjectInput): Subject {
  if (typeof input === 'string') {
    if (input.length === 0) throw new PolicyEngineError('SUBJECT_INVALID', 'subject must not be empty');
    return { id: input, roles: [], groups: [], attributes: {} };
  }
  if (typeof input.id !== 'string' || input.id.length === 0) throw new PolicyEngineError('SUBJECT_INVALID', 'subject.id is required');
  return { id: input.id, roles: input.roles ?? [], groups: input.groups ?? [], attributes: input.attributes ?? {} };
}
