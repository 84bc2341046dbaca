// Impact previews (issue 11) through the HTTP API on a real store: request samples,
// POST /v1/preview on samples, explicit requests and stored test suites, and what a
// preview must never do (write, grant, touch the live state).

import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { testApp, putYaml } from '../../helpers/app.js';

const BASE = `key: global-base
namespace: global
rules:
  - id: readers
    subjects: ["role:reader"]
    grant: ["doc:read", "doc:list"]
  - id: editors
    subjects: ["role:editor"]
    grant: ["doc:*"]
`;

const ORG = `key: acme-rules
namespace: acme
rules:
  - id: no-delete
    subjects: ["*"]
    revoke: ["doc:delete"]
`;

const REVOKE_WRITE = `key: acme-rules
namespace: acme
rules:
  - id: no-delete
    subjects: ["*"]
    revoke: ["doc:delete", "doc:write"]
`;

const TESTS = `key: global-suite
kind: tests
name: editors can write
path: global.acme
cases:
  - name: editor writes
    subject: { id: ed, roles: [editor] }
    expect:
      allowed: ["doc:write"]
  - name: reader cannot write
    subject: { id: rita, roles: [reader] }
    expect:
      disallowed: ["doc:write"]
`;

const PATH = 'global.acme';

async function post(app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) {
  const r = await app.inject({ method: 'POST', url, payload: payload as object, headers });
  return { status: r.statusCode, json: r.json() as Record<string, any>, headers: r.headers };
}

async function seed(t: Test, app: FastifyInstance): Promise<void> {
  await putYaml(t, app, 'global-base', BASE);
  await putYaml(t, app, 'acme-rules', ORG);
  for (const id of ['ed', 'eve']) await post(app, '/v1/evaluate', { subject: { id, roles: ['editor'] }, namespace: PATH });
  await post(app, '/v1/evaluate', { subject: { id: 'rita', roles: ['reader'] }, namespace: PATH });
  await post(app, '/v1/check', { subject: { id: 'ed', roles: ['editor'] }, namespace: PATH, permission: 'doc:write' });
}

t.test('samples: distinct inputs recorded on cache misses, redacted, bounded', async (t) => {
  const { app, services } = await testApp(t, { env: { SAMPLES_MAX: '3', DECISION_LOG_REDACT: 'ssn' } });
  await putYaml(t, app, 'global-base', BASE);
  const samples = services.samples!;
  const body = { subject: { id: 'ann', roles: ['reader'], attributes: { ssn: '123-45', team: 'a' } }, namespace: 'global' };
  await post(app, '/v1/evaluate', body);
  await post(app, '/v1/evaluate', body); // a cache hit: nothing new
  t.equal(samples.size, 1);
  const [first] = samples.list();
  t.same(first, { endpoint: 'evaluate', subject: { id: 'ann', roles: ['reader'], attributes: { ssn: '[redacted]', team: 'a' } }, namespace: 'global' });
  await post(app, '/v1/check', { subject: 'bob', namespace: 'global', permission: 'doc:read' });
  t.same(samples.list()[1], { endpoint: 'check', subject: 'bob', namespace: 'global', permissions: ['doc:read'] });
  for (const id of ['c1', 'c2', 'c3']) await post(app, '/v1/evaluate', { subject: id, namespace: 'global' });
  t.equal(samples.size, 3, 'bounded by SAMPLES_MAX');
  t.same(samples.list().map((s) => s.subject), ['c1', 'c2', 'c3'], 'the oldest go first');
  // Inline policies and explain-free policy mode are not sampled: previews change stored documents only.
  await post(app, '/v1/evaluate', { subject: 'x', policies: [{ key: 'global-x', rules: [{ subjects: ['*'], grant: ['a'] }] }] });
  t.notOk(samples.list().some((s) => s.subject === 'x'));
  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /policy_engine_request_samples 3/);
});

t.test('checks are sampled on cache hits, each permission list once', async (t) => {
  const { app, services } = await testApp(t);
  await putYaml(t, app, 'global-base', BASE);
  const input = { subject: { id: 'ann', roles: ['reader'] }, namespace: 'global' };
  await post(app, '/v1/evaluate', input);
  for (const permission of ['doc:read', 'doc:list', 'doc:read']) {
    const r = await post(app, '/v1/check', { ...input, permission });
    t.equal(r.json.cached, true, 'answered from the evaluate\'s cached decision');
  }
  await post(app, '/v1/check', { ...input, permissions: ['doc:read', 'doc:list'] });
  t.same(services.samples!.list().map((s) => `${s.endpoint}:${(s.permissions ?? []).join(',')}`), ['evaluate:', 'check:doc:read', 'check:doc:list', 'check:doc:read,doc:list'],
    'a permission asked again of the same cached decision is not recorded again');
});

t.test('samples can be switched off', async (t) => {
  const { app, services } = await testApp(t, { env: { SAMPLES_ENABLED: 'false' } });
  await putYaml(t, app, 'global-base', BASE);
  await post(app, '/v1/evaluate', { subject: 'ann', namespace: 'global' });
  t.equal(services.samples, undefined);
  const r = await post(app, '/v1/preview', { put: [REVOKE_WRITE] });
  t.equal(r.status, 200);
  t.equal(r.json.summary.samples, 0);
});

t.test('a revoke: which samples lose which permissions, checks that flip, nothing written', async (t) => {
  const { app, services } = await testApp(t);
  await seed(t, app);
  const revisionBefore = services.manager!.revision;
  const r = await post(app, '/v1/preview', { put: [REVOKE_WRITE] });
  t.equal(r.status, 200, JSON.stringify(r.json).slice(0, 500));
  const p = r.json;
  t.same(p.changes, [{ key: 'acme-rules', namespace: 'acme', kind: 'policy', action: 'replace' }]);
  t.equal(p.complete, true);
  t.equal(p.summary.samples, 4);
  t.equal(p.summary.evaluated, 4);
  t.equal(p.summary.changed, 3, 'the two editors and the check; the reader keeps what it had');
  t.equal(p.summary.checksChanged, 1);
  t.equal(p.summary.restricted, 3, 'doc:write newly denied for the editors and the check');
  const ed = p.samples.find((s: any) => s.endpoint === 'evaluate' && s.subject.id === 'ed');
  t.same(ed.before.permissions, ['doc:*']);
  t.same(ed.after.denied, ['doc:delete', 'doc:write']);
  t.same(ed.deniedAdded, ['doc:write']);
  const check = p.samples.find((s: any) => s.endpoint === 'check');
  t.same(check.checks, { 'doc:write': { before: true, after: false } });
  // Never writes, never changes the live answer.
  t.equal(services.manager!.revision, revisionBefore);
  const get = await app.inject({ method: 'GET', url: '/v1/policies/acme-rules', headers: { accept: 'application/yaml' } });
  t.equal(get.body, ORG);
  const live = await post(app, '/v1/check', { subject: { id: 'ed', roles: ['editor'] }, namespace: PATH, permission: 'doc:write' });
  t.equal(live.json.allowed, true);
});

t.test('a grant previewed stays a preview', async (t) => {
  const { app } = await testApp(t);
  await seed(t, app);
  const grantAll = `key: acme-rules\nnamespace: acme\nrules:\n  - subjects: ["*"]\n    grant: ["billing:*"]\n`;
  const r = await post(app, '/v1/preview', { put: [grantAll], requests: [{ subject: 'rita', namespace: PATH, permission: 'billing:pay' }] });
  t.equal(r.status, 200);
  t.same(r.json.requests[0].checks, { 'billing:pay': { before: false, after: true } });
  t.ok(r.json.summary.gained >= 3);
  const live = await post(app, '/v1/check', { subject: 'rita', namespace: PATH, permission: 'billing:pay' });
  t.equal(live.json.allowed, false, 'the live service still refuses');
});

t.test('explicit requests: always listed, with traces before and after', async (t) => {
  const { app } = await testApp(t);
  await seed(t, app);
  const r = await post(app, '/v1/preview', {
    put: [REVOKE_WRITE], samples: false, tests: false, explain: true,
    requests: [{ subject: { id: 'zed', roles: ['reader'] }, namespace: PATH, permission: 'doc:read' }],
  });
  t.equal(r.status, 200);
  const [req] = r.json.requests;
  t.equal(req.endpoint, 'request');
  t.equal(req.changed, false);
  t.same(req.checks, undefined);
  t.same(req.after.checks, { 'doc:read': true });
  t.same(req.after.trace.map((d: any) => d.document), ['global-base', 'acme-rules']);
  t.ok(req.after.trace[0].rules.find((x: any) => x.rule === 'readers').applied);
  t.ok(req.before.trace);
  t.equal(r.json.summary.samples, 0, 'samples: false skips them');
});

t.test('stored test suites: kind tests documents run against the stored state', async (t) => {
  const { app } = await testApp(t);
  await seed(t, app);
  await putYaml(t, app, 'global-suite', TESTS);
  // A suite never runs as a policy: a namespace holding only a suite has no documents.
  const onlySuite = `key: lonely-suite\nnamespace: lonely\nkind: tests\ncases:\n  - name: x\n    namespace: lonely\n    subject: a\n    expect: { default: true }\n`;
  await putYaml(t, app, 'lonely-suite', onlySuite);
  const lonely = await post(app, '/v1/evaluate', { subject: 'a', namespace: 'lonely' });
  t.equal(lonely.json.default, true);

  const revoke = await post(app, '/v1/preview', { put: [REVOKE_WRITE] });
  t.equal(revoke.status, 200);
  t.same(revoke.json.summary.testsBefore, { passed: 3, failed: 0 });
  t.same(revoke.json.summary.testsAfter, { passed: 2, failed: 1 });
  t.equal(revoke.json.summary.testsBroken, 1);
  const [broken] = revoke.json.tests.broken;
  t.match(broken, { suite: 'editors can write', key: 'global-suite', case: 'editor writes' });
  t.match(broken.diff.join('\n'), /doc:write/);

  // Deleting a suite removes its cases; a fix in the same preview counts as fixed.
  const both = await post(app, '/v1/preview', { put: [REVOKE_WRITE], delete: ['lonely-suite'], samples: false });
  t.same(both.json.summary.testsAfter, { passed: 1, failed: 1 });
});

t.test('stored test suites are validated like every document', async (t) => {
  const { app } = await testApp(t);
  const bad = `key: global-bad-suite\nkind: tests\ncases:\n  - name: no path\n    subject: a\n    expect: { default: true }\n  - name: no path\n    subject: a\n    namespace: "bad path!"\n    expect: { bogus: 1 }\n`;
  const r = await app.inject({ method: 'PUT', url: '/v1/policies/global-bad-suite', headers: { 'content-type': 'application/yaml' }, payload: bad });
  t.equal(r.statusCode, 422);
  const errors = (r.json() as { details: Array<{ path: string; line?: number }> }).details;
  t.ok(errors.some((e) => e.path === 'cases[1].expect.bogus' && e.line === 10), JSON.stringify(errors));
  const r2 = await app.inject({ method: 'PUT', url: '/v1/policies/global-bad-suite', headers: { 'content-type': 'application/yaml' }, payload: bad.replace('    expect: { bogus: 1 }\n', '    expect: { default: true }\n') });
  t.equal(r2.statusCode, 422);
  const e2 = (r2.json() as { details: Array<{ path: string; message: string }> }).details;
  t.ok(e2.some((e) => e.path === 'cases[0].namespace' && /required/.test(e.message)), JSON.stringify(e2));
  t.ok(e2.some((e) => e.path === 'cases[1].name'), 'duplicate case names');
  t.ok(e2.some((e) => e.path === 'cases[1].namespace'), 'bad path');
  const feb30 = `key: global-feb-suite\nkind: tests\npath: global\nnow: "2025-02-30T10:00:00Z"\ncases:\n  - name: x\n    subject: a\n    expect: { default: true }\n`;
  const r3 = await app.inject({ method: 'PUT', url: '/v1/policies/global-feb-suite', headers: { 'content-type': 'application/yaml' }, payload: feb30 });
  t.equal(r3.statusCode, 422, 'a day that does not exist');
  t.match((r3.json() as { details: Array<{ path: string }> }).details, [{ path: 'now', line: 4 }]);
});

t.test('invalid changes: 422 with every error at its line, nothing evaluated', async (t) => {
  const { app } = await testApp(t);
  await seed(t, app);
  const broken = `key: acme-rules\nnamespace: acme\nrules:\n  - subjects: ["*"]\n    grant: ["doc:read"]\n    when: "subject.attributes.level >"\n`;
  const r = await post(app, '/v1/preview', { put: [broken] });
  t.equal(r.status, 422);
  t.equal(r.json.code, 'POLICY_INVALID');
  t.match(r.json.details[0], { document: 'acme-rules', line: 6 });
  t.match(r.json.details[0].path, /^put\[0\]\.rules\[0\]\.when/);
  const missing = await post(app, '/v1/preview', { delete: ['nope-nope'] });
  t.equal(missing.status, 422);
  t.match(missing.json.details[0], { path: 'delete[0]', message: 'no stored document has this key' });
  const twice = await post(app, '/v1/preview', { put: [ORG, ORG] });
  t.equal(twice.status, 422);
  const both = await post(app, '/v1/preview', { put: [ORG], delete: ['acme-rules'] });
  t.equal(both.status, 422);
  const tooMany = await post(app, '/v1/preview', { delete: Array.from({ length: 201 }, (_, i) => `k-${i}`) });
  t.equal(tooMany.status, 422);
  t.equal(tooMany.json.code, 'PREVIEW_LIMIT_EXCEEDED');
  const unknown = await post(app, '/v1/preview', { put: [ORG], bogus: true });
  t.equal(unknown.status, 400);
  const badNow = await post(app, '/v1/preview', { now: 'yesterday' });
  t.equal(badNow.status, 400);
  const text = await app.inject({ method: 'POST', url: '/v1/preview', headers: { 'content-type': 'text/plain' }, payload: 'x' });
  t.equal(text.statusCode, 415);
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200, 'the server is still up');
});

t.test('a YAML stream of documents to put, deletes in the query', async (t) => {
  const { app } = await testApp(t);
  await seed(t, app);
  const stream = `${REVOKE_WRITE}---\nkey: new-x\nnamespace: new\nrules:\n  - subjects: ["*"]\n    grant: ["x"]\n`;
  const r = await app.inject({ method: 'POST', url: '/v1/preview?delete=global-base', headers: { 'content-type': 'application/yaml' }, payload: stream });
  t.equal(r.statusCode, 200, r.body.slice(0, 300));
  const p = r.json() as any;
  t.same(p.changes.map((c: any) => `${c.key}:${c.action}`), ['acme-rules:replace', 'global-base:delete', 'new-x:create']);
  t.equal(p.summary.lost, 4, 'without the base document no sample keeps a grant');
});

t.test('deterministic: the same preview twice gives the same answer', async (t) => {
  const { app } = await testApp(t);
  await seed(t, app);
  for (let i = 0; i < 30; i++) await post(app, '/v1/evaluate', { subject: { id: `u${(i * 7) % 30}`, roles: ['editor'] }, namespace: PATH });
  const body = { put: [REVOKE_WRITE], now: '2026-01-01T00:00:00Z' };
  const a = (await post(app, '/v1/preview', body)).json;
  const b = (await post(app, '/v1/preview', body)).json;
  delete a.durationMs; delete b.durationMs;
  for (const s of [...a.tests.suites, ...b.tests.suites]) { delete s.durationMs; for (const c of s.cases) delete c.durationMs; }
  t.same(a, b);
  t.equal(a.now, '2026-01-01T00:00:00.000Z');
});

t.test('fails closed: a proposed condition that errors grants nothing', async (t) => {
  const { app } = await testApp(t);
  await seed(t, app);
  const erroring = `key: acme-rules\nnamespace: acme\nrules:\n  - subjects: ["*"]\n    grant: ["billing:*"]\n    when: "context.amount > 10"\n`;
  const r = await post(app, '/v1/preview', { put: [erroring], samples: false, requests: [{ subject: 'rita', namespace: PATH, context: { amount: 'lots' }, permission: 'billing:pay' }] });
  t.equal(r.status, 200);
  t.equal(r.json.requests[0].after.checks['billing:pay'], false);
  const badPath = await post(app, '/v1/preview', { samples: false, requests: [{ subject: 'rita', namespace: 'a..b', permission: 'doc:read' }] });
  t.same(badPath.json.requests[0].after, { permissions: [], denied: [], default: false, error: 'NAMESPACE_INVALID', checks: { 'doc:read': false } });
});

t.test('admin guard: previews need the token when ADMIN_TOKEN is set', async (t) => {
  const { app } = await testApp(t, { env: { ADMIN_TOKEN: 'sesame-sesame-sesame' } });
  const no = await post(app, '/v1/preview', {});
  t.equal(no.status, 401);
  const yes = await post(app, '/v1/preview', {}, { authorization: 'Bearer sesame-sesame-sesame' });
  t.equal(yes.status, 200);
});

t.test('the time bound: a preview past its deadline says it is incomplete', async (t) => {
  // A monotonic clock that moves 1 ms each time it is read: the 100 ms deadline passes
  // after about 100 readings, i.e. within the first few thousand samples, whatever the
  // machine's speed. Ignoring the deadline would evaluate all of them.
  let ms = 0;
  const { app, services } = await testApp(t, { env: { PREVIEW_TIMEOUT_MS: '100' }, monotonic: () => ms++ });
  await seed(t, app);
  services.samples!.merge(Array.from({ length: 10_000 }, (_, i) => ({ endpoint: 'evaluate' as const, subject: { id: `m${i}`, roles: ['editor'] }, namespace: PATH })));
  const change = `key: acme-rules\nnamespace: acme\nrules:\n  - subjects: ["*"]\n    revoke: ["doc:write"]\n`;
  const r = await post(app, '/v1/preview', { put: [change] });
  t.equal(r.status, 200);
  t.equal(r.json.complete, false, 'past PREVIEW_TIMEOUT_MS the preview says it is incomplete');
  t.ok(r.json.summary.evaluated < r.json.summary.samples, `it stopped early (${r.json.summary.evaluated} of ${r.json.summary.samples})`);
  t.ok(r.json.summary.samples >= 10_000, 'every sample was counted');
  t.same(r.json.tests.suites, [], 'an incomplete preview runs no tests');

  // The same preview with a clock that stands still completes.
  const { app: calm, services: calmServices } = await testApp(t, { env: { PREVIEW_TIMEOUT_MS: '100' }, monotonic: () => 0 });
  await seed(t, calm);
  calmServices.samples!.merge(Array.from({ length: 1_000 }, (_, i) => ({ endpoint: 'evaluate' as const, subject: { id: `m${i}`, roles: ['editor'] }, namespace: PATH })));
  const done = await post(calm, '/v1/preview', { put: [change] });
  t.equal(done.json.complete, true, 'before the deadline: complete');
  t.equal(done.json.summary.evaluated, done.json.summary.samples, 'and every sample evaluated');
});

t.test('the stored-suite example passes against the example policies, and catches a broken change', async (t) => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const { app } = await testApp(t);
  for (const f of readdirSync('examples/policies')) {
    const text = readFileSync(`examples/policies/${f}`, 'utf8');
    await putYaml(t, app, /^key: (.+)$/m.exec(text)![1]!.replace(/^"|"$/g, ''), text);
  }
  const suite = readFileSync('examples/stored-tests/org-acme-tests.yaml', 'utf8');
  await putYaml(t, app, 'org-acme-tests', suite);
  const none = await post(app, '/v1/preview', { samples: false });
  t.equal(none.status, 200);
  t.same(none.json.summary.testsAfter, { passed: 4, failed: 0 }, JSON.stringify(none.json.tests.suites));
  // Dropping the office-network rule lets billing pay from anywhere: the suite says so.
  const acme = readFileSync('examples/policies/org-acme.yaml', 'utf8');
  const open = await post(app, '/v1/preview', { samples: false, delete: [/^key: (.+)$/m.exec(acme)![1]!.replace(/^"|"$/g, '')] });
  t.ok(open.json.tests.broken.some((c: any) => c.case === 'billing from elsewhere does not'), JSON.stringify(open.json.tests.broken));
});

t.test('a long preview leaves the event loop to decisions; scripts per preview are bounded', async (t) => {
  const { app, services } = await testApp(t);
  await seed(t, app);
  services.samples!.merge(Array.from({ length: 10_000 }, (_, i) => ({ endpoint: 'evaluate' as const, subject: { id: `m${i}`, roles: ['editor'] }, namespace: PATH })));
  let previewDone = false;
  const preview = post(app, '/v1/preview', { put: [REVOKE_WRITE], tests: false }).then((r) => {
    previewDone = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  const decision = await post(app, '/v1/evaluate', { subject: 'during', namespace: PATH });
  t.equal(decision.status, 200);
  t.notOk(previewDone, 'the decision was answered while the preview ran');
  const r = await preview;
  t.equal(r.json.summary.changed, 10_000, 'SAMPLES_MAX kept the newest 10,000: every editor loses doc:write');

  const script = (i: number) => `key: acme-s${i}\nnamespace: acme\nkind: lua\nscript: |\n  function can_execute(subject, resource, context) return true end\n`;
  const many = await post(app, '/v1/preview', { put: Array.from({ length: 21 }, (_, i) => script(i)), samples: false });
  t.equal(many.status, 422);
  t.equal(many.json.code, 'PREVIEW_LIMIT_EXCEEDED');
});

t.test('sampling is rate-limited: a busy sidecar looks at SAMPLES_PER_SECOND inputs a second', async (t) => {
  const { RequestSamples } = await import('../../../src/engine/request-samples.js');
  let now = 0;
  const samples = new RequestSamples({ max: 100, redact: [], attributes: true, perSecond: 3, now: () => now });
  const taken = () => Array.from({ length: 5 }, (_, i) => samples.record('evaluate', { subject: `u${now}-${i}`, namespace: 'global' }));
  t.same(taken(), [true, true, true, false, false]);
  now = 500;
  t.same(taken(), [false, false, false, false, false], 'the same second');
  now = 1000;
  t.same(taken(), [true, true, true, false, false], 'a new second');
  t.equal(samples.size, 6);
  const unlimited = new RequestSamples({ max: 100, redact: [], attributes: true, perSecond: 0 });
  for (let i = 0; i < 50; i++) unlimited.record('evaluate', { subject: `v${i}`, namespace: 'global' });
  t.equal(unlimited.size, 50);
});
