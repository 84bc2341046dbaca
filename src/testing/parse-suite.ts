// Suite text → a suite value checked against suite.schema.json, with every problem
// positioned (field path, and line:column for YAML). Pure: no file access.

import { Ajv, type ErrorObject } from 'ajv';
import { parseText, positionErrors, type ParseLimits, type PositionIndex } from '../core/document/parse.js';
import { toFieldPath } from '../core/document/schema.js';
import type { DocumentError, DocumentFormat } from '../core/document/types.js';
import { FILE_PARSE_LIMITS } from './policy-files.js';
import type { SuiteProblem, SuiteSpec } from './types.js';
import suiteSchema from '../core/document/suite.schema.json' with { type: 'json' };

export { suiteSchema };

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validateSuite = ajv.compile<SuiteSpec>(suiteSchema);

const PATTERN_MESSAGES: Record<string, string> = {
  '#/definitions/time/pattern': 'must be an ISO 8601 time with a zone, e.g. 2025-03-04T10:00:00Z',
  '#/definitions/permission/pattern': "must be a concrete permission (segments of [A-Za-z0-9_./-] joined by ':', no '*')",
  '#/definitions/language/pattern': 'must be a BCP 47 language tag, e.g. de or pt-BR',
};

function describe(e: ErrorObject): DocumentError | undefined {
  const path = toFieldPath(e.instancePath);
  const join = (field: string) => (path === '' ? field : `${path}.${field}`);
  switch (e.keyword) {
    case 'if':
    case 'anyOf':
      return undefined; // the branch's own errors say what is wrong
    case 'additionalProperties':
      return { path: join(String((e.params as { additionalProperty: string }).additionalProperty)), message: 'unknown field' };
    case 'required':
      return { path: join(String((e.params as { missingProperty: string }).missingProperty)), message: 'is required' };
    case 'pattern':
      return { path, message: PATTERN_MESSAGES[e.schemaPath.replace(/^.*(#\/definitions\/\w+\/pattern)$/, '$1')] ?? e.message ?? 'is invalid' };
    case 'propertyNames':
      return { path, message: `${JSON.stringify((e.params as { propertyName: string }).propertyName)} must be a concrete permission` };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

/** Check a parsed value against the suite schema. */
export function validateSuiteValue(value: unknown, positions?: PositionIndex): { ok: true; spec: SuiteSpec } | { ok: false; problems: SuiteProblem[] } {
  if (validateSuite(value)) return { ok: true, spec: value };
  const seen = new Set<string>();
  const errors: DocumentError[] = [];
  for (const e of validateSuite.errors ?? []) {
    // `propertyNames` also reports the inner pattern failure at the same place.
    if (e.keyword === 'pattern' && e.propertyName !== undefined) continue;
    const d = describe(e);
    if (!d) continue;
    const id = `${d.path}\u0000${d.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    errors.push(d);
  }
  return { ok: false, problems: positionErrors(errors, positions) };
}

export interface ParsedSuite {
  spec: SuiteSpec;
  /** field path → line:column in the suite's text (YAML only) */
  positions?: PositionIndex;
}

export type ParseSuiteResult = { ok: true; suite: ParsedSuite } | { ok: false; stage: 'parse' | 'suite'; problems: SuiteProblem[] };

/** Parse and check one suite from its text (JSON, or YAML: one document). */
export function parseSuite(text: string, format: DocumentFormat, limits: ParseLimits = FILE_PARSE_LIMITS): ParseSuiteResult {
  const parsed = parseText(text, format, limits, false);
  if (!parsed.ok) return { ok: false, stage: 'parse', problems: parsed.errors };
  const doc = parsed.documents[0]!;
  const checked = validateSuiteValue(doc.value, doc.positions);
  if (!checked.ok) return { ok: false, stage: 'suite', problems: checked.problems };
  return { ok: true, suite: { spec: checked.spec, positions: doc.positions } };
}
