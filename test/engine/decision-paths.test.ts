// One decision, four callers (issue 17): the decision service (evaluate and check), the
// preview's policy state, the policy test runner and `policy-engine eval` answer the
// same requests over the same documents identically. The requests are the namespace-mode
// cases of the fixture corpus (test/cases/evaluation), policy sets generated as in
// test/core/evaluate-differential.test.ts, and hand-written sets with conditions,
// messages and Lua. Each answer is also compared with what the fixture wants, where it
// says; the CLI runs in process here (its command, its file loading), and once as a
// real process to prove the two agree.

import t, { type Test } from 'tap';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { PolicyManager } from '../../src/engine/policy-manager.js';
import { PolicyService } from '../../src/engine/policy-service.js';
import { DecisionCache } from '../../src/cache/decision-cache.js';
import { DecisionService } from '../../src/engine/decision-service.js';
import { PolicyState } from '../../src/engine/preview/policy-state.js';
import { runSuite } from '../../src/testing/run-suite.js';
import { loadDocument } from '../../src/core/compile/load-document.js';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import { DEFAULT_PARSE_LIMITS } from '../../src/core/document/parse.js';
import { initLua } from '../../src/core/lua/sandbox.js';
import { addEvalCommand } from '../../src/cli/commands/eval.js';
import type { SubjectInput } from '../../src/core/request.js';
import { CASES_DIR, decisionMismatches, loadCases, type Case } from '../cases/run-cases.js';
import { runCli } from '../cli/run-cli.js';

const NOW = new Date('2026-03-04T10:00:00Z');
const NAMESPACE_LIMITS = { maxDepth: 32, maxLength: 256 };

/** What every caller can say about one request. */
interface Answer {
  permissions: readonly string[];
  denied: readonly string[];
  default: boolean;
  checks: Record<string, boolean>;
}

interface Scenario {
  name: string;
  /** documents as JSON objects (or YAML text), as a store or a file holds them */
  documents: Array<Record<string, unknown> | string>;
  namespace: string;
  subject: SubjectInput;
  context?: Record<string, unknown>;
  permissions: string[];
}

const textOf = (d: Record<string, unknown> | string) => (typeof d === 'string' ? d : JSON.stringify(d));
const formatOf = (d: Record<string, unknown> | string) => (typeof d === 'string' ? 'yaml' : 'json') as 'yaml' | 'json';

function compiled(documents: Scenario['documents']): CompiledPolicy[] {
  return documents.map((d) => {
    const r = loadDocument(textOf(d), formatOf(d), DEFAULT_PARSE_LIMITS);
    if (!r.ok) throw new Error(`does not compile: ${JSON.stringify(r.errors)}`);
    return r.loaded.policy;
  });
}

function keyOf(d: Record<string, unknown> | string): string {
  if (typeof d !== 'string') return String(d.key);
  return /^key: (\S+)$/m.exec(d)![1]!;
}

// ------------------------------------------------------------------ the four callers

async function viaService(s: Scenario): Promise<Answer & { exact: boolean; policies: readonly string[] }> {
  const store = new MemoryStore();
  await store.open();
  const logger = { info() {}, warn() {}, error() {} };
  const manager = new PolicyManager({ store, pollIntervalMs: 60_000, staleAfterMs: 600_000, resyncIntervalMs: 0, logger });
  const cache = new DecisionCache({ max: 100, ttlMs: 0 });
  manager.onChange((c) => cache.invalidate(c));
  await manager.start();
  try {
    const policies = new PolicyService({ store, manager, parseLimits: DEFAULT_PARSE_LIMITS });
    for (const d of s.documents) await policies.put(keyOf(d), textOf(d), formatOf(d), {});
    const decisions = new DecisionService({
      manager, cache, defaultPermissions: ['*'], namespaceLimits: NAMESPACE_LIMITS, parseLimits: DEFAULT_PARSE_LIMITS,
      timeBucketMs: 60_000, clock: () => NOW.getTime(),
    });
    const req = { subject: s.subject, namespace: s.namespace, ...(s.context ? { context: s.context } : {}) };
    const r = decisions.evaluate(req).response;
    const checks = s.permissions.length > 0 ? decisions.check({ ...req, permissions: s.permissions }).results! : {};
    // Asked again, the cached decision answers the same.
    const again = decisions.evaluate(req).response;
    if (JSON.stringify({ ...again, cached: true }) !== JSON.stringify({ ...r, cached: true })) throw new Error('a cache hit answered differently');
    return { permissions: r.permissions, denied: r.denied, default: r.default, exact: r.exact, policies: r.policies, checks };
  } finally {
    manager.stop();
  }
}

function viaPreview(s: Scenario): Answer {
  const state = new PolicyState(compiled(s.documents), undefined, new Map(), { defaultPermissions: ['*'], namespaceLimits: NAMESPACE_LIMITS });
  const a = state.answer({ subject: s.subject, namespace: s.namespace, ...(s.context ? { context: s.context } : {}), permissions: s.permissions }, NOW);
  if (a.error !== undefined) throw new Error(`the preview refused: ${a.error}`);
  return { permissions: a.permissions, denied: a.denied, default: a.default, checks: a.checks ?? {} };
}

/** The runner answers by passing or failing: it is given the service's answer as the expectation. */
function runnerAgrees(s: Scenario, want: Answer & { exact: boolean; policies: readonly string[] }): string[] {
  const allowed = Object.keys(want.checks).filter((p) => want.checks[p]);
  const disallowed = Object.keys(want.checks).filter((p) => !want.checks[p]);
  const result = runSuite({
    name: s.name,
    policies: compiled(s.documents),
    cases: [{
      spec: {
        name: s.name, subject: s.subject, namespace: s.namespace, ...(s.context ? { context: s.context } : {}),
        expect: { permissions: [...want.permissions], denied: [...want.denied], default: want.default, exact: want.exact, policies: [...want.policies], allowed, disallowed },
      },
      namespaces: s.namespace.split('.'),
      now: NOW,
    }],
  });
  return result.passed ? [] : (result.cases[0]?.diff ?? ['the suite failed']);
}

/** `policy-engine eval` in process: the command as the binary registers it, its output parsed. */
async function viaCli(s: Scenario, dir: string): Promise<Answer> {
  for (const d of s.documents) writeFileSync(join(dir, `${keyOf(d)}.${formatOf(d)}`), textOf(d));
  const program = new Command().exitOverride();
  addEvalCommand(program);
  const args = ['eval', '--policies', dir, '--subject', JSON.stringify(typeof s.subject === 'string' ? { id: s.subject } : s.subject), '--namespace', s.namespace, '--now', NOW.toISOString()];
  if (s.context) args.push('--context', JSON.stringify(s.context));
  for (const p of s.permissions) args.push('--check', p);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  const exitCode = process.exitCode;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write;
    // eval sets the exit status for a denial (docs/cli.md); this process is the test's
    process.exitCode = exitCode;
  }
  const r = JSON.parse(out) as { permissions: string[]; denied: string[]; default: boolean; checks?: Record<string, { allowed: boolean }> };
  return { permissions: r.permissions, denied: r.denied, default: r.default, checks: Object.fromEntries(Object.entries(r.checks ?? {}).map(([p, c]) => [p, c.allowed])) };
}

const plain = (a: Answer) => ({ permissions: a.permissions, denied: a.denied, default: a.default, checks: a.checks });

async function allFour(t: Test, s: Scenario): Promise<Answer & { exact: boolean; policies: readonly string[] }> {
  const service = await viaService(s);
  const preview = viaPreview(s);
  // `eval` refuses an empty set of files (a mistyped path must not look like the default): nothing to compare then.
  let cli: Answer = preview;
  if (s.documents.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), 'pe-paths-'));
    try {
      cli = await viaCli(s, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const runner = runnerAgrees(s, service);
  const same = JSON.stringify(plain(service)) === JSON.stringify(plain(preview)) && JSON.stringify(plain(service)) === JSON.stringify(plain(cli)) && runner.length === 0;
  t.ok(same, `${s.name}: service, preview, runner and CLI agree`, same ? {} : { service: plain(service), preview: plain(preview), cli: plain(cli), runner });
  return service;
}

t.before(async () => {
  await initLua();
});

// ------------------------------------------------------------------ fixtures

t.test('the namespace-mode fixture cases: four callers, one answer, the one the fixture wants', async (t) => {
  const cases = loadCases(join(CASES_DIR, 'evaluation')).filter((c): c is Case & { namespace: string } => c.namespace !== undefined && c.want_error_code === undefined);
  t.ok(cases.length >= 8, `${cases.length} cases`);
  for (const c of cases) {
    const s: Scenario = { name: c.name, documents: c.policies, namespace: c.namespace, subject: c.subject, permissions: Object.keys(c.checks ?? {}).sort() };
    const got = await allFour(t, s);
    if (c.want) t.same(decisionMismatches(c.want, got), [], `${c.name}: as the fixture wants`);
    for (const [p, allowed] of Object.entries(c.checks ?? {})) t.equal(got.checks[p], allowed, `${c.name}: check ${p}`);
  }
});

// ------------------------------------------------------------------ generated

const NAMESPACES = ['global', 'org', 'team'];
const patternArb = fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 3 }).map((x) => x.join(':'));
const listArb = fc.option(fc.array(patternArb, { minLength: 1, maxLength: 2 }), { nil: undefined });
const ruleArb = fc.record({
  subjects: fc.array(fc.constantFrom('*', 'alice', 'role:admin', 'role:editor', 'group:team'), { minLength: 1, maxLength: 2 }),
  grant: listArb, revoke: listArb, deny: listArb,
}).map((r) => {
  const rule: Record<string, unknown> = { subjects: r.subjects };
  for (const k of ['grant', 'revoke', 'deny'] as const) if (r[k] !== undefined) rule[k] = r[k];
  if (r.grant === undefined && r.revoke === undefined && r.deny === undefined) rule.grant = ['a:*'];
  return rule;
});
const docsArb = fc.array(fc.record({
  ns: fc.constantFrom(...NAMESPACES),
  ordinal: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  disabled: fc.boolean(),
  rules: fc.array(ruleArb, { minLength: 1, maxLength: 3 }),
}), { minLength: 0, maxLength: 5 }).map((docs) => docs.map((d, i) => ({
  key: `${d.ns}-d${i}`, ...(d.ordinal !== undefined ? { ordinal: d.ordinal } : {}), ...(d.disabled && i % 3 === 0 ? { disabled: true } : {}), rules: d.rules,
})));
const subjectArb = fc.record({ id: fc.constantFrom('alice', 'bob'), roles: fc.subarray(['admin', 'editor']), groups: fc.subarray(['team']) });
const PERMISSIONS = ['a', 'b', 'a:a', 'a:b', 'b:a', 'a:a:a', 'z:z'];

t.test('generated policy sets: four callers, one answer', async (t) => {
  const samples = fc.sample(fc.tuple(docsArb, subjectArb, fc.subarray(NAMESPACES, { minLength: 1 })), { numRuns: 40, seed: 17 });
  for (const [i, [documents, subject, path]] of samples.entries()) {
    await allFour(t, { name: `generated #${i}`, documents, namespace: path.join('.'), subject, permissions: PERMISSIONS });
  }
  t.pass(`${samples.length} generated sets compared`);
});

// ------------------------------------------------------------------ conditions, messages, Lua

const RICH: Scenario['documents'] = [
  'key: global-base\nrules:\n  - id: staff\n    subjects: ["role:staff"]\n    grant: ["doc:*"]\n  - id: office-hours\n    subjects: ["*"]\n    when: context.hour >= 9 && context.hour < 17\n    grant: ["office:enter"]\n',
  'key: org-limits\nrules:\n  - id: no-purge\n    subjects: ["*"]\n    deny: ["doc:purge"]\n    message: "purging is not allowed"\n  - id: tier\n    subjects: ["*"]\n    when: subject.attributes.tier == "gold"\n    grant: ["vip:*"]\n',
  'key: org-script\nrules:\n  - id: weekend\n    subjects: ["*"]\n    lua: |\n      return context.hour ~= nil and context.hour > 20\n    revoke: ["doc:write"]\n',
];

t.test('conditions, messages and a Lua chunk: four callers, one answer', async (t) => {
  const asks = [
    { subject: { id: 'u1', roles: ['staff'] }, context: { hour: 10 } },
    { subject: { id: 'u1', roles: ['staff'] }, context: { hour: 22 } },
    { subject: { id: 'u2', attributes: { tier: 'gold' } }, context: { hour: 3 } },
    { subject: 'u3', context: {} },
  ];
  for (const [i, a] of asks.entries()) {
    const got = await allFour(t, { name: `rich #${i}`, documents: RICH, namespace: 'global.org', subject: a.subject, context: a.context, permissions: ['doc:read', 'doc:write', 'doc:purge', 'office:enter', 'vip:lounge'] });
    t.equal(got.checks['doc:purge'], false, `rich #${i}: the deny holds`);
  }
});

t.test('the CLI as a process answers as in process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pe-paths-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const s: Scenario = { name: 'process', documents: RICH, namespace: 'global.org', subject: { id: 'u1', roles: ['staff'] }, context: { hour: 22 }, permissions: ['doc:read', 'doc:write', 'office:enter'] };
  const inProcess = await viaCli(s, dir);
  const run = await runCli(['eval', '--policies', dir, '--subject', JSON.stringify(s.subject), '--namespace', s.namespace, '--now', NOW.toISOString(), '--context', JSON.stringify(s.context), ...s.permissions.flatMap((p) => ['--check', p])]);
  t.equal(run.code, 1, 'some check is denied: exit 1 (docs/cli.md)');
  const r = JSON.parse(run.stdout) as { permissions: string[]; denied: string[]; default: boolean; checks: Record<string, { allowed: boolean }> };
  t.same({ permissions: r.permissions, denied: r.denied, default: r.default, checks: Object.fromEntries(Object.entries(r.checks).map(([p, c]) => [p, c.allowed])) }, plain(inProcess));
  t.same(inProcess.checks, { 'doc:read': true, 'doc:write': false, 'office:enter': false }, 'after 20:00 the Lua chunk revokes doc:write; office hours are over');
});
