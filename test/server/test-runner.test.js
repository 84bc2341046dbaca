// POST /v1/test: a suite in the body (JSON or YAML), its results; every refusal with a
// stable code. Runs with STORE=none: the route never touches a store.
import t from 'tap';
import { testApp } from '../helpers/app.js';
const { app } = await testApp(t, { store: 'none' });
const post = (payload, contentType) => app.inject({ method: 'POST', url: '/v1/test', payload, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
const SUITE = `
name: http
now: "2025-03-04T10:00:00Z"
namespace: global
policies:
  - key: global-base
    rules:
      - { id: readers, subjects: ["*"], grant: [document:read] }
      - { id: office, subjects: ["*"], when: 'inTimeWindow(now, "09:00", "17:00", "UTC")', grant: [document:write] }
cases:
  - name: reads
    subject: user:a
    expect: { permissions: [document:read, document:write], allowed: [document:read] }
  - name: purges
    subject: user:a
    expect: { allowed: [document:purge] }
`;
t.test('YAML in, results out', async (t) => {
    const r = await post(SUITE, 'application/yaml');
    t.equal(r.statusCode, 200);
    const body = r.json();
    t.match(body, { name: 'http', passed: false, counts: { passed: 1, failed: 1 } });
    t.same(Object.keys(body.cases[0]).sort(), ['durationMs', 'name', 'passed'], 'a passing case: name and outcome');
    const failed = body.cases[1];
    t.same(failed.diff, ['allowed:', '  - document:purge: allowed', '  + document:purge: refused']);
    t.same(failed.actual.checks, { 'document:purge': { allowed: false } });
    t.match(failed.trace, [{ document: 'global-base', namespace: 'global', rules: [
                { rule: 'readers', subjectMatched: true, applied: true, effects: { grant: ['document:read'] } },
                { rule: 'office', subjectMatched: true, applied: true, condition: { value: true } },
            ] }], 'the trace keeps condition values');
});
t.test('the same suite as JSON', async (t) => {
    const r = await post({
        name: 'json', namespace: 'global', policies: [{ key: 'global-a', rules: [{ subjects: ['*'], grant: ['a:*'] }] }],
        cases: [{ name: 'a', subject: { id: 'u', roles: ['x'] }, expect: { permissions: ['a:*'], disallowed: ['b:c'] } }],
    });
    t.equal(r.statusCode, 200);
    t.match(r.json(), { passed: true, counts: { passed: 1, failed: 0 } });
});
t.test('refusals', async (t) => {
    const cases = [
        ['malformed YAML', 'name: [\n', 'application/yaml', 400, 'BODY_MALFORMED'],
        ['an unknown field, positioned', 'name: s\npolicies: []\ncases:\n  - { name: c, subject: u, namespace: global, expct: {} }\n', 'application/yaml', 422, 'TEST_SUITE_INVALID', /"path":"cases\[0\]\.expct","message":"unknown field","line":4/],
        ['an include (no file access)', { name: 's', policies: [{ include: 'policies/' }], cases: [{ name: 'c', subject: 'u', namespace: 'global', expect: { default: true } }] }, undefined, 422, 'TEST_SUITE_INVALID', /include names files/],
        ['an invalid policy', { name: 's', policies: [{ key: 'global-a', rules: [{ subjects: ['*'], grant: ['a::b'] }] }], cases: [{ name: 'c', subject: 'u', namespace: 'global', expect: { default: true } }] }, undefined, 422, 'POLICY_INVALID', /policies\[0\]\.rules\[0\]\.grant\[0\]/],
        ['a bad namespace path', { name: 's', policies: [], cases: [{ name: 'c', subject: 'u', namespace: 'global.org-x', expect: { default: true } }] }, undefined, 422, 'TEST_SUITE_INVALID', /cases\[0\]\.namespace/],
        ['not an object', '[1, 2]', 'application/json', 400, 'REQUEST_INVALID'],
        ['another media type', 'name: s', 'text/plain', 415, 'MEDIA_TYPE_UNSUPPORTED'],
    ];
    for (const [what, payload, type, status, code, details] of cases) {
        const r = await post(payload, type);
        t.equal(r.statusCode, status, `${what}: ${status}`);
        t.equal(r.json().code, code, `${what}: ${code}`);
        if (details)
            t.match(r.body, details, `${what}: details`);
    }
});
