// Stored test suites (`kind: tests` documents) run against a policy state: each case as
// `policy-engine test` runs it, but over the state's documents instead of its own.

import type { EntityLookup } from '../../core/entities/entity.js';
import type { CompiledPolicy } from '../../core/compile/types.js';
import { runCase } from '../../testing/run-suite.js';
import type { CaseResult, SuiteResult } from '../../testing/types.js';
import type { PolicyState } from './policy-state.js';
import type { RelationshipCheck } from '../../core/condition/related.js';

export interface StoredSuiteResult extends SuiteResult {
  /** the document's key */
  key: string;
}

export interface StoredTestOptions {
  now: Date;
  defaultPermissions: readonly string[];
  defaultLanguage: string;
  /** what conditions' related() asks */
  relationships?: RelationshipCheck;
  /** the directory merged into cases' inputs */
  entities?: EntityLookup;
}

function runOne(suite: CompiledPolicy, state: PolicyState, options: StoredTestOptions): StoredSuiteResult {
  const started = performance.now();
  const tests = suite.tests!;
  const cases: CaseResult[] = tests.cases.map((c) => {
    let ready = { spec: c.spec, namespaces: c.namespaces, now: c.now ?? options.now };
    if (c.spec.policy !== undefined) {
      // A script case names a stored script document: this state may lack it.
      const script = state.local.byKey(c.spec.policy);
      if (!script || script.kind !== 'lua') {
        return { name: c.spec.name, passed: false, durationMs: 0, diff: ['policy:', `  - a script document (kind: lua) with key ${c.spec.policy}`, '  + none stored'] };
      }
      ready = { ...ready, namespaces: [script.namespace] };
    }
    let r: CaseResult;
    try {
      r = runCase(ready, state.local, { defaultPermissions: options.defaultPermissions, relationships: options.relationships, ...(options.entities ? { entities: options.entities } : {}) }, state.registry, tests.defaultLanguage ?? options.defaultLanguage);
    } catch (err) {
      // A case that cannot run fails; it never passes because something broke.
      return { name: c.spec.name, passed: false, durationMs: 0, diff: ['run:', '  - the case runs', `  + ${(err as Error).message}`] };
    }
    // The diff says what failed; traces stay out of a preview's answer (the playground asks for them).
    const { trace: _trace, actual: _actual, ...rest } = r;
    return rest;
  });
  const failed = cases.filter((c) => !c.passed).length;
  return { key: suite.key, name: tests.name, passed: failed === 0, cases, counts: { passed: cases.length - failed, failed }, durationMs: performance.now() - started };
}

/** Every stored suite, in key order; undefined when the deadline (performance.now()) passed first. */
export function runStoredSuites(state: PolicyState, options: StoredTestOptions, deadline = Infinity, elapsed: () => number = () => performance.now()): StoredSuiteResult[] | undefined {
  const out: StoredSuiteResult[] = [];
  for (const s of state.testSuites()) {
    if (elapsed() > deadline) return undefined;
    out.push(runOne(s, state, options));
  }
  return out;
}
