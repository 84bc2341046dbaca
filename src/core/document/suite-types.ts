// The cases of a policy test suite (a `tests` document or a *.test.yaml file), as
// suite.schema.json (beside this file) validates them. Core holds the format because
// stored documents of kind `tests` carry cases; the runner lives in src/testing.

import type { ResourceInput, SubjectInput } from '../inputs.js';

/** A case's subject: the request's subject, as sent. */
export type SubjectSpec = SubjectInput;

/** A refusal's reason as a case expects it: only the fields given are compared (`language: null`: none). */
export interface ReasonExpectation {
  key?: string;
  text?: string;
  language?: string | null;
}

export interface Expectation {
  /** a `policy` case: the boolean the script document's can_execute returns */
  result?: boolean;
  /** facts scripts emitted (only the names given are compared) */
  facts?: Record<string, unknown>;
  permissions?: string[];
  denied?: string[];
  allowed?: string[];
  disallowed?: string[];
  reasons?: Record<string, string | ReasonExpectation>;
  default?: boolean;
  exact?: boolean;
  policies?: string[];
}

export interface CaseSpec {
  name: string;
  subject: SubjectSpec;
  namespace?: string;
  /** run this one script document (kind: lua) instead of a namespace path */
  policy?: string;
  context?: Record<string, unknown>;
  resource?: ResourceInput;
  now?: string;
  /** the request's `language` */
  language?: string;
  /** the request's Accept-Language header */
  acceptLanguage?: string;
  expect: Expectation;
}
