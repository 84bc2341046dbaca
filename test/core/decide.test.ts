// The one decision function (core/evaluate/decide.ts): request → mode and subject →
// typed inputs → plan → decision, over whatever documents a caller supplies; the
// relationship check is passed in per evaluation, never installed.
import t from 'tap';
import { loadDocument } from '../../src/core/compile/load-document.js';
import type { CompiledPolicy } from '../../src/core/compile/types.js';
import { LocalPolicies } from '../../src/core/evaluate/local-policies.js';
import { askedPermissions, checkAll, decide, prepareDecision, runScriptCheck, type DecisionSources } from '../../src/core/evaluate/decide.js';
import { initLua } from '../../src/core/lua/sandbox.js';
import { PolicyEngineError } from '../../src/errors.js';
import type { RelationshipCheck } from '../../src/core/condition/related.js';

const NOW = new Date('2026-03-04T10:00:00Z');

function docs(...texts: string[]): CompiledPolicy[] {
  return texts.map((text) => {
    const r = loadDocument(text, 'yaml');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.loaded.policy;
  });
}

function local(...texts: string[]): DecisionSources {
  const policies = new LocalPolicies(docs(...texts));
  return { registry: undefined, stored: () => policies };
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof PolicyEngineError ? err.code : `not a PolicyEngineError: ${String(err)}`;
  }
};

const BASE = 'key: global-base\nrules:\n  - { subjects: ["*"], grant: ["doc:read"] }\n  - { subjects: ["role:admin"], grant: ["doc:*"], revoke: ["doc:purge"] }\n';
const ORG = 'key: org-x\nrules:\n  - id: no-write\n    subjects: ["*"]\n    deny: ["doc:write"]\n    message: "read only"\n';

t.before(async () => {
  await initLua();
});

t.test('a namespace path: documents gathered left to right, the lists and the exact checks', async (t) => {
  const { decision, prepared } = decide({ subject: { id: 'u', roles: ['admin'] }, namespace: 'global.org' }, local(BASE, ORG), { defaultPermissions: ['*'], now: NOW });
  t.same(decision.permissions, ['doc:*']);
  t.same(decision.denied, ['doc:purge', 'doc:write']);
  t.same(decision.policies, ['global-base', 'org-x']);
  t.same(prepared.namespaces, ['global', 'org']);
  t.equal(prepared.target, 'global.org');
  t.same(Object.fromEntries(checkAll(decision, ['doc:read', 'doc:write']).map(([p, r]) => [p, r.allowed])), { 'doc:read': true, 'doc:write': false });
  t.same(checkAll(decision, ['doc:write'])[0]![1].reason, { text: 'read only', rule: 'no-write', document: 'org-x' });
});

t.test('no document on the path: the default answers', async (t) => {
  const { decision } = decide({ subject: 'u', namespace: 'elsewhere' }, local(BASE), { defaultPermissions: ['x:*'], now: NOW });
  t.equal(decision.default, true);
  t.same(decision.permissions, ['x:*']);
});

t.test('every refusal is a stable error code, in the service\'s order', async (t) => {
  const src = local(BASE);
  const prep = (req: object) => () => prepareDecision(req as never, src);
  t.equal(codeOf(prep({ subject: 'u' })), 'MODE_INVALID', 'no mode');
  t.equal(codeOf(prep({ subject: 'u', namespace: 'global', policy: 'global-base' })), 'MODE_INVALID', 'two modes');
  t.equal(codeOf(prep({ subject: '', namespace: 'global' })), 'SUBJECT_INVALID');
  t.equal(codeOf(prep({ subject: { id: '' }, namespace: 'global' })), 'SUBJECT_INVALID');
  t.equal(codeOf(prep({ subject: 'u', namespace: 'a..b' })), 'NAMESPACE_INVALID');
  t.equal(codeOf(prep({ subject: 'u', policy: 'no such key!' })), 'KEY_INVALID');
  t.equal(codeOf(prep({ subject: 'u', policy: 'global-nothing' })), 'POLICY_NOT_FOUND');
  t.equal(codeOf(prep({ subject: 'u', policies: [] })), 'MODE_INVALID', 'a caller without inline documents refuses that mode');
  const unavailable: DecisionSources = { registry: undefined, stored: () => { throw new PolicyEngineError('NOT_READY', 'not yet'); } };
  t.equal(codeOf(() => prepareDecision({ subject: '', namespace: 'global' }, unavailable)), 'SUBJECT_INVALID', 'the subject is checked before the store is asked');
  t.equal(codeOf(() => prepareDecision({ subject: 'u', namespace: 'global' }, unavailable)), 'NOT_READY');
  t.equal(codeOf(() => askedPermissions({})), 'REQUEST_INVALID');
  t.equal(codeOf(() => askedPermissions({ permission: 'a', permissions: ['b'] })), 'REQUEST_INVALID');
  t.equal(codeOf(() => askedPermissions({ permissions: ['a:*'] })), 'PERMISSION_INVALID');
  t.same(askedPermissions({ permission: 'a:b' }), { single: true, permissions: ['a:b'] });
});

t.test('inputs beyond what conditions accept are refused when conditions read them', async (t) => {
  const cond = 'key: global-c\nrules:\n  - { subjects: ["*"], when: "context.x == 1", grant: ["a"] }\n';
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 40; i++) deep = (deep.n = {}) as Record<string, unknown>;
  t.equal(codeOf(() => prepareDecision({ subject: 'u', namespace: 'global', context: root }, local(cond))), 'REQUEST_INVALID');
  t.equal(codeOf(() => prepareDecision({ subject: 'u', namespace: 'global', context: root }, local(BASE))), undefined, 'no condition reads them: no bound');
});

t.test('the relationship check is an evaluation option: absent, related() fails closed', async (t) => {
  const rel = 'key: global-rel\nrules:\n  - { subjects: ["*"], when: \'related("document:" + resource.id, "write")\', grant: ["doc:write"] }\n';
  const asked: string[] = [];
  const check: RelationshipCheck = {
    revision: '7',
    check(subject, resource, permission) {
      asked.push(`${subject} ${resource} ${permission}`);
      return subject === 'user:ann';
    },
  };
  const req = (id: string) => ({ subject: id, namespace: 'global', resource: { id: 'd1' } });
  const src = local(rel);
  t.same(decide(req('user:ann'), src, { defaultPermissions: [], now: NOW, relationships: check }).decision.permissions, ['doc:write']);
  t.same(decide(req('user:bob'), src, { defaultPermissions: [], now: NOW, relationships: check }).decision.permissions, []);
  t.same(asked, ['user:ann document:d1 write', 'user:bob document:d1 write']);
  const without = decide(req('user:ann'), src, { defaultPermissions: [], now: NOW }).decision;
  t.same(without.permissions, [], 'no check passed: the rule does not apply');
  t.match(without.conditionErrors?.[0]?.error, /no relationship engine/);
  // Two evaluations with different checks side by side: nothing is shared between them.
  const other: RelationshipCheck = { revision: '1', check: () => true };
  t.same(decide(req('user:bob'), src, { defaultPermissions: [], now: NOW, relationships: other }).decision.permissions, ['doc:write']);
  t.same(decide(req('user:bob'), src, { defaultPermissions: [], now: NOW, relationships: check }).decision.permissions, []);
});

t.test('a script check: its boolean, its failure, disabled, an effects table', async (t) => {
  const script = (key: string, body: string, extra = '') => `key: ${key}\nkind: lua\n${extra}script: |\n  function can_execute(subject, resource, context, ns)\n    ${body}\n  end\n`;
  const src = local(
    script('global-yes', 'return subject.id == "ann"'),
    script('global-boom', 'error("boom")'),
    script('global-off', 'return true', 'disabled: true\n'),
    script('global-table', 'return { grant = { "a" } }'),
    script('global-nil', 'return nil'),
    script('global-string', 'return "true"'),
  );
  const run = (key: string, subject = 'ann') => runScriptCheck(prepareDecision({ subject, policy: key }, src), { now: NOW });
  t.same(run('global-yes').result, { value: true });
  t.same(run('global-yes', 'bob').result, { value: false });
  const boom = run('global-boom');
  t.match(boom.result, { error: /boom/ });
  t.equal(boom.decision.conditionErrors?.length, 1);
  t.same(run('global-off').result, { disabled: true });
  t.match(run('global-table').result, { invalid: /effects table, not a boolean/ });
  // SPEC §8: 400 when the document does not return a boolean (a runtime error stays a denial).
  t.match(run('global-nil').result, { invalid: /returned nil, not a boolean/ });
  t.match(run('global-string').result, { invalid: /returned string, not a boolean/ });
  t.equal(run('global-nil').decision.conditionErrors, undefined, 'not a failure of the script: a result the check cannot answer');
  t.equal(codeOf(() => runScriptCheck(prepareDecision({ subject: 'u', policy: 'global-base' }, local(BASE)), { now: NOW })), 'REQUEST_INVALID', 'not a script document');
});
