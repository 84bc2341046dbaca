// The policy document as written by users (SPEC §2), after parsing and schema checks.

import type { RuleMessageDocument } from '../messages/types.js';
import type { CaseSpec } from './suite-types.js';

export type DocumentFormat = 'json' | 'yaml';

export interface PolicyRule {
  id?: string;
  subjects: string[];
  when?: string;
  /** a Lua chunk that must return true for the rule to apply (beside or instead of `when`) */
  lua?: string;
  grant?: string[];
  revoke?: string[];
  deny?: string[];
  /** the reason shown on a denial: plain text, or a catalogue reference (SPEC §10) */
  message?: RuleMessageDocument;
}

/** A document whose script decides: `can_execute(subject, resource, context)`. */
export interface LuaDocument {
  $schema?: string;
  key: string;
  namespace?: string;
  kind: 'lua';
  ordinal?: number;
  description?: string;
  disabled?: boolean;
  script: string;
  /** what the script reads (`subject.attributes.x`, `context.y`, `resource.z`, `now`); default: all inputs, not the clock */
  reads?: string[];
  /** on a failure: `deny` (default) blocks every permission for the rest of the path; `skip` applies nothing */
  onError?: 'deny' | 'skip';
}

export interface PolicyDocument {
  $schema?: string;
  key: string;
  namespace?: string;
  kind?: 'policy';
  ordinal?: number;
  description?: string;
  disabled?: boolean;
  /** named conditions the rules' `when` may refer to */
  predicates?: Record<string, string>;
  rules: PolicyRule[];
}

/**
 * A policy test suite stored as a document (`kind: tests`): the case format of
 * *.test.yaml files, run against the stored policies (never their own). Never runs as a policy.
 */
export interface TestsDocument {
  $schema?: string;
  key: string;
  namespace?: string;
  kind: 'tests';
  name?: string;
  description?: string;
  /** the namespace path of cases that name none */
  path?: string;
  now?: string;
  defaultLanguage?: string;
  cases: CaseSpec[];
}

/** One forward-auth route: which original request asks which question (docs/gateways.md). */
export interface RouteSpec {
  /** one method, several, or `*` (any) */
  method: string | string[];
  /** `/orgs/{org}/documents/{doc}`: literal segments and whole-segment placeholders */
  path: string;
  /** the namespace path to check in; may use the path's placeholders: `global.org.org:{org}` */
  namespace: string;
  /** the concrete permission to check */
  permission: string;
  /** `type:{id}`: the resource the check is about (optional) */
  resource?: string;
}

/**
 * Forward-auth routes stored as a document (`kind: routes`, docs/gateways.md): the
 * format of the FORWARD_AUTH_ROUTES file plus a key of the `global` namespace. Never runs
 * as a policy; tried after the file's routes, stored documents in key order.
 */
export interface RoutesDocument {
  $schema?: string;
  key: string;
  namespace?: string;
  kind: 'routes';
  description?: string;
  routes: RouteSpec[];
}

/** One problem found in a document; collected, never first-only. */
export interface DocumentError {
  /** the policy key, when known */
  document?: string;
  /** field path such as `rules[2].grant[0]` ('' for the whole document) */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export function formatError(e: DocumentError): string {
  const where = e.path === '' ? '' : `${e.path}: `;
  const pos = e.line !== undefined ? ` (line ${e.line}${e.column !== undefined ? `, column ${e.column}` : ''})` : '';
  return `${where}${e.message}${pos}`;
}

/** Deterministic order: document, then line, then path. */
export function sortErrors(errors: DocumentError[]): DocumentError[] {
  return errors.sort((a, b) =>
    (a.document ?? '').localeCompare(b.document ?? '') ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    a.path.localeCompare(b.path) ||
    a.message.localeCompare(b.message));
}

export const MAX_REPORTED_ERRORS = 50;
