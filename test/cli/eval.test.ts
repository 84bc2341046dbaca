// `policy-engine eval`: a decision from policy files, no server.

import t from 'tap';
import { runCli } from './run-cli.js';

const ACME = 'global.org.org:57af7f6d-f6f7-4af1-b182-3a30440fa781';

const [billing, explained, badContext, badPath, badPolicies] = await Promise.all([
  runCli(['eval', '--policies', 'examples/policies', '--subject', '{"id":"user:bill","roles":["billing"]}', '--namespace', ACME,
    '--context', '{"ip":"203.0.113.5"}', '--check', 'billing:invoice:pay', '--check', 'document:read']),
  runCli(['eval', '--policies', 'examples/policies/global-base.yaml', '--policies', 'examples/policies/org-editors.yaml', '--subject', 'user:eddie',
    '--roles', 'editor', '--namespace', 'global.org', '--now', '2025-03-04T20:00:00Z', '--check', 'document:publish', '--explain']),
  runCli(['eval', '--policies', 'examples/policies', '--subject', 'user:x', '--namespace', 'global', '--context', '[1]']),
  runCli(['eval', '--policies', 'examples/policies', '--subject', 'user:x', '--namespace', 'global.org-x']),
  runCli(['eval', '--policies', 'test/cli', '--subject', 'user:x', '--namespace', 'global']),
]);

t.test('a decision with checks', async (t) => {
  t.equal(billing.code, 1, `a check is denied: exit 1 ${billing.stderr}`);
  const d = JSON.parse(billing.stdout);
  t.same(d.permissions, ['billing:*', 'profile:read', 'profile:write']);
  t.same(d.namespaces, ['global', 'org', 'org:57af7f6d-f6f7-4af1-b182-3a30440fa781']);
  t.same(d.policies, ['global-base', 'org-editors', 'org:57af7f6d-f6f7-4af1-b182-3a30440fa781-acme']);
  t.same(d.checks, { 'billing:invoice:pay': { allowed: true }, 'document:read': { allowed: false } });
  t.notOk('trace' in d, 'no trace unless asked');
});

t.test('--explain, --now, --roles and a reason', async (t) => {
  t.equal(explained.code, 1, `the check is denied: exit 1 ${explained.stderr}`);
  const d = JSON.parse(explained.stdout);
  t.same(d.checks['document:publish'], {
    allowed: false,
    reason: { text: 'Documents are published in office hours only (09:00-18:00, Berlin time)', rule: 'publish-needs-office-hours', document: 'org-editors' },
  }, '21:00 in Berlin is outside office hours');
  t.same(d.trace.map((x: { document: string }) => x.document), ['global-base', 'org-editors']);
  const rule = d.trace[1].rules.find((r: { rule: string }) => r.rule === 'publish-in-office-hours');
  t.same(rule.condition, { value: false }, 'the trace shows the condition');
  t.same(d.trace[1].predicates.office_hours, { value: false });
});

t.test('usage errors', async (t) => {
  t.equal(badContext.code, 2);
  t.match(badContext.stderr, /--context: must be a JSON object/);
  t.equal(badPath.code, 2);
  t.match(badPath.stderr, /--namespace: namespace "org-x"/);
  t.equal(badPolicies.code, 2, 'no policy file: the default would answer; say so instead');
  t.match(badPolicies.stderr, /no policy file/);
});
