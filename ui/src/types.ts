// The shapes of the documented API responses the page reads (README, /openapi.json).

export type Format = 'yaml' | 'json';

export interface PolicyItem {
  key: string;
  namespace: string;
  ordinal: number | null;
  disabled: boolean;
  format: Format;
  etag: string;
  updatedAt: string;
}

export interface DocumentError {
  document?: string;
  path?: string;
  message: string;
  line?: number;
  column?: number;
}

export interface ValidateResult {
  valid: boolean;
  documents: number;
  errors: DocumentError[];
  warnings: { type?: string; document?: string; path?: string; message: string }[];
}

export interface PutResult {
  key: string;
  namespace: string;
  etag: string;
  created: boolean;
  revision: string;
}

export type Subject = string | { id: string; roles?: string[]; groups?: string[]; attributes?: Record<string, unknown> };

export interface RuleTrace {
  rule: string;
  subjectMatched: boolean;
  condition?: { value?: boolean; error?: string };
  applied: boolean;
  effects?: { grant?: string[]; revoke?: string[]; deny?: string[] };
  messageKey?: string;
}

export interface DocumentTrace {
  document: string;
  namespace: string;
  disabled?: boolean;
  predicates?: Record<string, { value?: boolean; error?: string }>;
  rules: RuleTrace[];
}

export interface Answer {
  permissions?: string[];
  denied?: string[];
  default?: boolean;
  /** the error code this state answers with (it grants nothing) */
  error?: string;
  /** the asked permissions, allowed or not */
  checks?: Record<string, boolean>;
  /** with `explain` */
  trace?: DocumentTrace[];
}

export interface PreviewRequest {
  subject: Subject;
  namespace: string;
  resource?: Record<string, unknown>;
  context?: Record<string, unknown>;
  permission?: string;
}

export interface SampleDiff {
  endpoint?: 'evaluate' | 'check' | 'request';
  subject: Subject;
  namespace: string;
  resource?: unknown;
  context?: unknown;
  permissions?: string[];
  before: Answer;
  after: Answer;
  changed?: boolean;
  gained?: string[];
  lost?: string[];
  deniedAdded?: string[];
  deniedRemoved?: string[];
  /** the checked permissions whose answer flips */
  checks?: Record<string, { before: boolean; after: boolean }>;
}

export interface CaseResult { name: string; passed: boolean; diff?: string[] }
export interface SuiteResult { key?: string; name: string; passed: boolean; counts?: { passed: number; failed: number }; cases: CaseResult[] }
export interface TestCounts { passed: number; failed: number }

export interface PreviewBody {
  put?: string[];
  delete?: string[];
  requests?: PreviewRequest[];
  explain?: boolean;
  samples?: boolean;
  tests?: boolean;
  now?: string;
  plans?: PlanRequest[];
}

/** A POST /v1/plan body (SPEC §11). */
export interface PlanRequest {
  subject: Subject;
  namespace: string;
  permission: string;
  resource: { type: string };
  context?: Record<string, unknown>;
  fields?: Record<string, string | { column: string; type?: 'jsonb' | 'array' }>;
  allowPartial?: boolean;
}

/** A plan answer, or the error a state refuses it with. */
export interface PlanAnswer {
  kind?: 'always' | 'never' | 'conditional';
  exact?: boolean;
  revision?: string;
  filter?: unknown;
  mongo?: Record<string, unknown>;
  sql?: { where: string; params: unknown[] };
  recheck?: { document: string; rule: string; reason?: string }[];
  default?: boolean;
  stale?: boolean;
  error?: string;
  message?: string;
}

export interface PreviewResult {
  revision?: string;
  stale?: boolean;
  now?: string;
  complete: boolean;
  durationMs?: number;
  changes: { key: string; namespace: string; action: 'create' | 'replace' | 'delete' | 'unchanged' }[];
  summary: {
    samples?: number;
    evaluated?: number;
    changed?: number;
    gained?: number;
    lost?: number;
    /** samples with patterns newly revoked or denied */
    restricted?: number;
    testsBefore?: TestCounts;
    testsAfter?: TestCounts;
    testsBroken?: number;
    testsFixed?: number;
    checksChanged?: number;
    listed?: number;
  };
  samples?: SampleDiff[];
  requests?: SampleDiff[];
  plans?: { changed: boolean; before: PlanAnswer; after: PlanAnswer }[];
  tests?: {
    broken?: { suite: string; case: string; diff?: string[] }[];
    fixed?: { suite: string; case: string }[];
    suites?: SuiteResult[];
  };
}
