// POST /v1/test: run a policy test suite sent in the body (JSON, or YAML text with a
// YAML content type) and answer its results. The suite's policies are its own: the
// route never reads the store, so it works with STORE=none too. Includes name files,
// which a server does not read for its callers: bundle them first (the CLI does).

import type { FastifyInstance } from 'fastify';
import { DEFAULT_PARSE_LIMITS, formatOfContentType, type ParseLimits } from '../../core/document/parse.js';
import { PolicyEngineError } from '../../errors.js';
import { compileSuite, type IncludeResolver } from '../../testing/compile-suite.js';
import { withRequestBudget } from '../../core/condition/budget.js';
import { parseSuite, validateSuiteValue, type ParsedSuite } from '../../testing/parse-suite.js';
import { runSuite } from '../../testing/run-suite.js';
import type { SuiteProblem } from '../../testing/types.js';
import { YAML_CONTENT_TYPES } from '../content.js';
import { conditionErrorsSchema, errorResponse, reasonSchema, traceSchema } from '../schemas/evaluate.js';

export interface TestRunnerDeps {
  bodyLimit: number;
  /** the clock of cases whose suite names no `now`; default: the current time */
  clock?: () => Date;
}

const strings = { type: 'array', items: { type: 'string' } } as const;
const reason = reasonSchema;

const caseResult = {
  type: 'object',
  required: ['name', 'passed', 'durationMs'],
  properties: {
    name: { type: 'string' },
    passed: { type: 'boolean' },
    durationMs: { type: 'number' },
    diff: { ...strings, description: 'unmet expectations: `-` expected, `+` actual' },
    actual: {
      type: 'object',
      properties: {
        permissions: strings, denied: strings, default: { type: 'boolean' }, exact: { type: 'boolean' }, policies: strings,
        checks: { type: 'object', additionalProperties: { type: 'object', properties: { allowed: { type: 'boolean' }, reason } } },
      },
    },
    trace: traceSchema,
    conditionErrors: conditionErrorsSchema,
  },
} as const;

export const suiteResultSchema = {
  type: 'object',
  required: ['name', 'passed', 'cases', 'counts', 'durationMs'],
  properties: {
    name: { type: 'string' },
    passed: { type: 'boolean' },
    counts: { type: 'object', properties: { passed: { type: 'integer' }, failed: { type: 'integer' } } },
    durationMs: { type: 'number' },
    cases: { type: 'array', items: caseResult },
  },
} as const;

const noIncludes: IncludeResolver = (_patterns, at) => ({
  documents: [],
  problems: [{ path: at, message: 'include names files, which the server does not read: send the documents inline (`policy-engine test --url <server>` does this for you)' }],
});

function refuse(stage: 'parse' | 'suite' | 'policies', problems: SuiteProblem[]): PolicyEngineError {
  const n = problems.length;
  if (stage === 'parse') return new PolicyEngineError('BODY_MALFORMED', `the suite is not well-formed: ${problems[0]?.message ?? 'parse error'}`, problems);
  if (stage === 'policies') return new PolicyEngineError('POLICY_INVALID', `the suite's policies are invalid (${n} error${n === 1 ? '' : 's'})`, problems);
  return new PolicyEngineError('TEST_SUITE_INVALID', `the suite is invalid (${n} problem${n === 1 ? '' : 's'})`, problems);
}

export function testRunnerRoutes(app: FastifyInstance, deps: TestRunnerDeps): void {
  const limits: ParseLimits = { ...DEFAULT_PARSE_LIMITS, maxBytes: deps.bodyLimit };
  app.register(async (scope) => {
    // JSON arrives parsed (fastify's parser, prototype poisoning refused); YAML as text.
    scope.addContentTypeParser(YAML_CONTENT_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.post('/v1/test', {
      schema: {
        tags: ['decisions'],
        summary: 'Run a policy test suite (the format of *.test.yaml files) against its own policies',
        body: {
          description: 'a suite: a JSON object, or YAML text sent as application/yaml (src/core/document/suite.schema.json)',
          anyOf: [{ type: 'object' }, { type: 'string', minLength: 1 }],
        },
        response: { 200: suiteResultSchema, '4xx': errorResponse, '5xx': errorResponse },
      },
    }, async (request) => {
      let parsed: ParsedSuite;
      if (typeof request.body === 'string') {
        // fastify also reads text/plain as a string: only YAML types are suites in text.
        if (formatOfContentType(request.headers['content-type']) !== 'yaml') {
          throw new PolicyEngineError('MEDIA_TYPE_UNSUPPORTED', 'send the suite as application/json or application/yaml');
        }
        const r = parseSuite(request.body, 'yaml', limits);
        if (!r.ok) throw refuse(r.stage, r.problems);
        parsed = r.suite;
      } else {
        const r = validateSuiteValue(request.body);
        if (!r.ok) throw refuse('suite', r.problems);
        parsed = { spec: r.spec };
      }
      const compiled = compileSuite(parsed, noIncludes);
      if (!compiled.ok) throw refuse(compiled.stage, compiled.problems);
      // caller-supplied conditions: all its cases together get a bounded CEL total (docs/budgets-cel.md)
      return withRequestBudget(() => runSuite(compiled.suite, deps.clock ? { clock: deps.clock } : {}));
    });
  });
}
