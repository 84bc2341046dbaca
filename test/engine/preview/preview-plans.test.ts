// POST /v1/preview with `plans` (SPEC §11 under a draft): each plan answered under the
// current and the proposed state, exactly as POST /v1/plan answers it; a refusal comes
// back per plan, never as a failed preview; the number of plans is bounded; nothing is
// written and the live plan is untouched.

import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { testApp, putYaml } from '../../helpers/app.js';

const DOCS = `key: global-docs
rules:
  - id: published
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.status == 'published'"
`;
// The draft: owners read their own documents too.
const DRAFT = `${DOCS}  - id: own
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.owner == subject.id"
`;
// A rule over the resource with no filter form (PLAN_UNSUPPORTED, or recheck with allowPartial).
const LUA_LIKE = `key: global-docs
rules:
  - id: published
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.status == 'published'"
  - id: name-prefix
    subjects: ["user:alice"]
    grant: ["document:read"]
    when: "resource.attributes.name.startsWith('pub')"
`;

const PLAN = { subject: 'user:alice', namespace: 'global', permission: 'document:read', resource: { type: 'document' }, fields: { 'attributes.owner': 'ownerId' } };

async function post(app: FastifyInstance, url: string, payload: unknown) {
  const r = await app.inject({ method: 'POST', url, payload: payload as object });
  return { status: r.statusCode, json: r.json() as Record<string, any> };
}

t.test('a plan before and after a draft that adds a rule', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', DOCS);
  const live = await post(app, '/v1/plan', PLAN);
  t.equal(live.status, 200, JSON.stringify(live.json));

  const r = await post(app, '/v1/preview', { put: [DRAFT], samples: false, tests: false, plans: [PLAN] });
  t.equal(r.status, 200, JSON.stringify(r.json));
  t.equal(r.json.plans.length, 1);
  const [p] = r.json.plans;
  t.equal(p.changed, true, 'the draft changes the plan');
  t.same(p.before, live.json, 'before: exactly what POST /v1/plan answers now');
  t.same(p.before.filter, { op: 'eq', field: 'attributes.status', value: 'published' });
  t.equal(p.after.kind, 'conditional');
  t.equal(p.after.exact, true);
  t.same(p.after.filter, { or: [{ op: 'eq', field: 'attributes.status', value: 'published' }, { op: 'eq', field: 'attributes.owner', value: 'user:alice' }] });
  t.same(p.after.mongo, { $or: [{ status: 'published' }, { ownerId: 'user:alice' }] });
  t.same(p.after.sql.params, ['published', 'user:alice'], 'values only as parameters');
  t.equal(p.after.revision, `${live.json.revision}+preview`, 'the proposed state says it is not a stored revision');

  // Nothing was written: the live plan is what it was.
  const again = await post(app, '/v1/plan', PLAN);
  t.same(again.json, live.json, 'the live plan is untouched');

  // A draft that changes nothing the plan reads: unchanged.
  const same = await post(app, '/v1/preview', { put: [DOCS.replace('key: global-docs', 'key: global-docs\ndescription: reworded')], samples: false, tests: false, plans: [PLAN] });
  t.equal(same.status, 200, JSON.stringify(same.json));
  t.equal(same.json.plans[0].changed, false);
  t.same(same.json.plans[0].after.filter, same.json.plans[0].before.filter);
});

t.test('a wildcard plan sees the namespaces the draft creates', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', DOCS);
  const org = 'key: org:acme-members\nnamespace: org:acme\nrules:\n  - id: members\n    subjects: ["role:member"]\n    grant: ["document:read"]\n';
  const wildcard = { subject: { id: 'user:m', roles: ['member'] }, namespace: 'global.org:*', permission: 'document:read', resource: { type: 'document' } };
  const r = await post(app, '/v1/preview', { put: [org], samples: false, tests: false, plans: [wildcard] });
  t.equal(r.status, 200, JSON.stringify(r.json));
  const [p] = r.json.plans;
  t.equal(p.changed, true);
  t.notMatch(JSON.stringify(p.before.filter), /acme/, 'no branch for org:acme before');
  t.match(JSON.stringify(p.after.filter), /namespace\.org[\s\S]*acme/, 'a branch for org:acme with the draft');
});

t.test('refusals come back per plan, not as a failed preview', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', DOCS);
  const plans = [
    PLAN,
    { ...PLAN, allowPartial: true },
    { ...PLAN, permission: 'document:*' },
    { ...PLAN, namespace: 'global.org:*.team' },
  ];
  const r = await post(app, '/v1/preview', { put: [LUA_LIKE], samples: false, tests: false, plans });
  t.equal(r.status, 200, JSON.stringify(r.json));
  const [plain, partial, pattern, wildcard] = r.json.plans;
  t.equal(plain.before.kind, 'conditional', 'the stored state plans');
  t.equal(plain.after.error, 'PLAN_UNSUPPORTED', 'the draft cannot be planned exactly');
  t.match(plain.after.message, /global-docs/);
  t.match(JSON.stringify(plain.after), /name-prefix/, 'naming the rule');
  t.equal(plain.changed, true);
  t.equal(partial.after.exact, false, 'allowPartial over-approximates instead');
  t.same(partial.after.recheck.map((x: { rule: string }) => x.rule), ['name-prefix']);
  t.equal(pattern.before.error, 'PERMISSION_INVALID');
  t.equal(pattern.after.error, 'PERMISSION_INVALID');
  t.equal(pattern.changed, false, 'the same refusal in both states');
  t.equal(wildcard.before.error, 'NAMESPACE_INVALID');

  // The draft itself invalid: the preview fails as before (the plans are not the problem).
  const invalid = await post(app, '/v1/preview', { put: ['key: global-docs\nrules: 3\n'], plans: [PLAN] });
  t.equal(invalid.status, 422);
  t.equal(invalid.json.code, 'POLICY_INVALID');
});

t.test('bounded: at most 20 plans, 422 PREVIEW_LIMIT_EXCEEDED past it', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-docs', DOCS);
  const ok = await post(app, '/v1/preview', { samples: false, tests: false, plans: Array.from({ length: 20 }, () => PLAN) });
  t.equal(ok.status, 200, JSON.stringify(ok.json).slice(0, 300));
  t.equal(ok.json.plans.length, 20);
  const over = await post(app, '/v1/preview', { samples: false, tests: false, plans: Array.from({ length: 21 }, () => PLAN) });
  t.equal(over.status, 422);
  t.equal(over.json.code, 'PREVIEW_LIMIT_EXCEEDED');
  const malformed = await post(app, '/v1/preview', { plans: [{ subject: 'user:alice', namespace: 'global' }] });
  t.equal(malformed.status, 400, 'a plan without permission and resource is a malformed body');
  const none = await post(app, '/v1/preview', { samples: false, tests: false });
  t.same(none.json.plans, [], 'no plans asked: none answered');
});

t.test('the OpenAPI document describes preview plans', async (t) => {
  const { app } = await testApp(t);
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Record<string, any>;
  const op = doc.paths['/v1/preview'].post;
  const body = JSON.stringify(op.requestBody);
  t.match(body, /"plans"/);
  t.match(body, /allowPartial/);
  t.match(JSON.stringify(op.responses['200']), /"plans"[\s\S]*"changed"/);
});
