// AuthZEN Authorization API 1.0 (SPEC §12), written from the standard's text: the
// evaluation and evaluations endpoints (defaults, per-item overrides, the three
// semantics, per-item errors), the mapping onto our subjects, namespaces and
// permissions, the PDP metadata, X-Request-ID, and that AuthZEN decides through the
// same path and cache as /v1/check.

import t, { type Test } from 'tap';
import { putYaml, testApp } from '../helpers/app.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are checked field by field

const POLICY = `
key: global-docs
rules:
  - id: readers
    subjects: ["role:reader", "group:staff"]
    grant: [read]
  - id: owners
    subjects: ["*"]
    when: 'resource.attributes.owner == subject.id'
    grant: [read, edit]
  - id: no-purge
    subjects: ["*"]
    deny: [purge]
    message: Purging needs an administrator
`;

const ORG_POLICY = `
key: org:acme-docs
namespace: org:acme
rules:
  - subjects: ["*"]
    grant: [edit]
`;

const alice = { type: 'user', id: 'alice@example.com', properties: { roles: ['reader'] } };
const doc = (id: string, properties?: Json) => ({ type: 'document', id, ...(properties ? { properties } : {}) });

async function setup(t: Test, env: Record<string, string> = {}) {
  const { app, services } = await testApp(t, { env });
  await putYaml(t, app, 'global-docs', POLICY);
  await putYaml(t, app, 'org:acme-docs', ORG_POLICY);
  const post = async (url: string, payload: object, headers: Record<string, string> = {}) => {
    const r = await app.inject({ method: 'POST', url, payload, headers });
    return { status: r.statusCode, headers: r.headers, json: r.json() as Json };
  };
  return { app, services, post };
}

t.test('evaluation: decisions, reasons, X-Request-ID', async (t) => {
  const { post } = await setup(t);
  const yes = await post('/access/v1/evaluation', { subject: alice, action: { name: 'read' }, resource: doc('1') }, { 'x-request-id': 'bfe9eb29-ab87' });
  t.equal(yes.status, 200);
  t.same(yes.json, { decision: true });
  t.equal(yes.headers['x-request-id'], 'bfe9eb29-ab87', 'the request id is echoed');

  const no = await post('/access/v1/evaluation', { subject: alice, action: { name: 'edit' }, resource: doc('1') });
  t.same(no.json, { decision: false }, 'a denial without a message carries no context');
  t.notOk(no.headers['x-request-id'] === 'bfe9eb29-ab87');

  const purge = await post('/access/v1/evaluation', { subject: alice, action: { name: 'purge' }, resource: doc('1') });
  t.equal(purge.json.decision, false);
  t.match(purge.json.context.reason, { text: 'Purging needs an administrator', rule: 'no-purge', document: 'global-docs' }, 'the reason of the denying rule');

  const bad = await post('/access/v1/evaluation', { subject: alice, resource: doc('1') }, { 'x-request-id': 'req-400' });
  t.equal(bad.status, 400, 'a request without its action is a Bad Request');
  t.equal(bad.json.code, 'REQUEST_INVALID', 'our error body');
  t.equal(bad.headers['x-request-id'], 'req-400', 'echoed on errors too');
});

t.test('the mapping: subject ref, roles, groups, attributes, namespace sources', async (t) => {
  const { post } = await setup(t);
  const ask = (body: Json) => post('/access/v1/evaluation', body).then((r) => r.json.decision);
  t.equal(await ask({ subject: { type: 'user', id: 'bob', properties: { groups: ['staff'] } }, action: { name: 'read' }, resource: doc('1') }), true, 'properties.groups → groups');
  t.equal(await ask({ subject: { type: 'user', id: 'bob' }, action: { name: 'read' }, resource: doc('1') }), false);
  t.equal(await ask({ subject: { type: 'user', id: 'bob' }, action: { name: 'edit' }, resource: doc('1', { owner: 'user:bob' }) }), true, 'subject id is type:id; resource properties → attributes');
  t.equal(await ask({ subject: { type: 'user', id: 'bob' }, action: { name: 'edit' }, resource: doc('1', { owner: 'bob' }) }), false, 'ids are matched exactly');
  // The namespace path: context.namespace, else resource.properties.namespace, else AUTHZEN_NAMESPACE.
  const carol = { type: 'user', id: 'carol' };
  t.equal(await ask({ subject: carol, action: { name: 'edit' }, resource: doc('1') }), false, 'default namespace global');
  t.equal(await ask({ subject: carol, action: { name: 'edit' }, resource: doc('1'), context: { namespace: 'global.org:acme' } }), true, 'context.namespace');
  t.equal(await ask({ subject: carol, action: { name: 'edit' }, resource: doc('1', { namespace: 'global.org:acme' }) }), true, 'resource.properties.namespace');
  t.equal(await ask({ subject: carol, action: { name: 'edit' }, resource: doc('1', { namespace: 'global.org:acme' }), context: { namespace: 'global' } }), false, 'context wins over the resource');
  const unknown = await post('/access/v1/evaluation', { subject: { ...carol, extra: { x: 1 } }, action: { name: 'read', nonstandard: true }, resource: doc('1'), future_field: [1, 2] });
  t.equal(unknown.status, 200, 'unknown fields are ignored, as the standard requires');
  const badNs = await post('/access/v1/evaluation', { subject: carol, action: { name: 'read' }, resource: doc('1'), context: { namespace: 'a..b' } });
  t.equal(badNs.status, 400);
  t.equal(badNs.json.code, 'NAMESPACE_INVALID');
  const badAction = await post('/access/v1/evaluation', { subject: carol, action: { name: 'read *' }, resource: doc('1') });
  t.equal(badAction.json.code, 'PERMISSION_INVALID');
  const badRoles = await post('/access/v1/evaluation', { subject: { ...carol, properties: { roles: 'admin' } }, action: { name: 'read' }, resource: doc('1') });
  t.equal(badRoles.status, 400, 'roles that are not a list of strings are refused, never ignored');
});

t.test('AUTHZEN_NAMESPACE sets the default path', async (t) => {
  const { post } = await setup(t, { AUTHZEN_NAMESPACE: 'global.org:acme' });
  const r = await post('/access/v1/evaluation', { subject: { type: 'user', id: 'carol' }, action: { name: 'edit' }, resource: doc('1') });
  t.equal(r.json.decision, true);
});

t.test('one decision path: AuthZEN and /v1/check share the cache and the answer', async (t) => {
  const { app, post } = await setup(t);
  const authzen = await post('/access/v1/evaluation', { subject: alice, action: { name: 'read' }, resource: doc('9', { owner: 'x' }), context: { hour: 9 } });
  t.equal(authzen.json.decision, true);
  const check = await app.inject({
    method: 'POST', url: '/v1/check',
    payload: { subject: { id: 'user:alice@example.com', roles: ['reader'], groups: [], attributes: {} }, namespace: 'global', permission: 'read', resource: { type: 'document', id: '9', attributes: { owner: 'x' } }, context: { hour: 9 } },
  });
  t.match(check.json(), { allowed: true, cached: true }, 'the same request through /v1/check is the entry AuthZEN filled');
});

t.test('evaluations: defaults, per-item overrides, semantics, errors', async (t) => {
  const { post } = await setup(t);
  const E = '/access/v1/evaluations';
  const three = [{ resource: doc('1') }, { action: { name: 'edit' }, resource: doc('2') }, { resource: doc('3') }];
  const all = await post(E, { subject: alice, action: { name: 'read' }, evaluations: three }, { 'x-request-id': 'batch-1' });
  t.equal(all.status, 200);
  t.same(all.json, { evaluations: [{ decision: true }, { decision: false }, { decision: true }] }, 'execute_all is the default; the item action overrides');
  t.equal(all.headers['x-request-id'], 'batch-1');
  const explicit = await post(E, { subject: alice, action: { name: 'read' }, evaluations: three, options: { evaluations_semantic: 'execute_all', another_option: 'x' } });
  t.same(explicit.json, all.json);
  const deny = await post(E, { subject: alice, action: { name: 'read' }, evaluations: three, options: { evaluations_semantic: 'deny_on_first_deny' } });
  t.same(deny.json, { evaluations: [{ decision: true }, { decision: false }] }, 'stops at the first denial');
  const permit = await post(E, { subject: alice, action: { name: 'read' }, evaluations: three, options: { evaluations_semantic: 'permit_on_first_permit' } });
  t.same(permit.json, { evaluations: [{ decision: true }] }, 'stops at the first permit');
  const permitLate = await post(E, { subject: alice, evaluations: [{ action: { name: 'edit' }, resource: doc('1') }, { action: { name: 'purge' }, resource: doc('1') }, { action: { name: 'read' }, resource: doc('1') }], options: { evaluations_semantic: 'permit_on_first_permit' } });
  t.same(permitLate.json.evaluations.map((e: Json) => e.decision), [false, false, true]);

  // An item's own subject and context replace the defaults whole.
  const override = await post(E, {
    subject: alice, action: { name: 'edit' }, context: { namespace: 'global.org:acme' },
    evaluations: [{ resource: doc('1') }, { resource: doc('1'), context: {} }, { subject: { type: 'user', id: 'zed' }, resource: doc('1') }],
  });
  t.same(override.json.evaluations.map((e: Json) => e.decision), [true, false, true]);

  const single = await post(E, { subject: alice, action: { name: 'read' }, resource: doc('1'), evaluations: [] });
  t.same(single.json, { decision: true }, 'an empty evaluations array is the single evaluation');
  const singleNone = await post(E, { subject: alice, action: { name: 'read' }, resource: doc('1') });
  t.same(singleNone.json, { decision: true });

  const itemError = await post(E, { subject: alice, evaluations: [{ action: { name: 'read' }, resource: doc('1') }, { action: { name: 'not valid' }, resource: doc('1') }, { action: { name: 'read' }, resource: doc('1'), context: { namespace: '..' } }] });
  t.equal(itemError.status, 200, 'errors in individual evaluations are answered in the payload');
  t.same(itemError.json.evaluations[0], { decision: true });
  t.match(itemError.json.evaluations[1], { decision: false, context: { error: { status: 400, code: 'PERMISSION_INVALID' } } });
  t.match(itemError.json.evaluations[2], { decision: false, context: { error: { status: 400, code: 'NAMESPACE_INVALID' } } });
  const stopOnError = await post(E, { subject: alice, options: { evaluations_semantic: 'deny_on_first_deny' }, evaluations: [{ action: { name: 'x y' }, resource: doc('1') }, { action: { name: 'read' }, resource: doc('1') }] });
  t.equal(stopOnError.json.evaluations.length, 1, 'a failed item is a denial for deny_on_first_deny');

  const missing = await post(E, { action: { name: 'read' }, evaluations: [{ subject: alice, resource: doc('1') }, { resource: doc('2') }] });
  t.equal(missing.status, 400, 'an item with no subject and no default is a Bad Request');
  t.match(missing.json.message, /evaluations\[1\] has no subject/);
  const unknownSemantic = await post(E, { subject: alice, action: { name: 'read' }, evaluations: [{ resource: doc('1') }], options: { evaluations_semantic: 'first_wins' } });
  t.equal(unknownSemantic.status, 400, 'an unknown semantic is refused');
  t.equal(unknownSemantic.json.code, 'REQUEST_INVALID');
});

t.test('PDP metadata at /.well-known/authzen-configuration', async (t) => {
  const { app } = await setup(t);
  const r = await app.inject({ method: 'GET', url: '/.well-known/authzen-configuration', headers: { host: 'localhost:8080' } });
  t.equal(r.statusCode, 200);
  t.match(r.headers['content-type'], /^application\/json/);
  const meta = r.json() as Json;
  t.equal(meta.policy_decision_point, 'http://localhost:8080');
  t.equal(meta.access_evaluation_endpoint, 'http://localhost:8080/access/v1/evaluation');
  t.equal(meta.access_evaluations_endpoint, 'http://localhost:8080/access/v1/evaluations');
  t.equal(meta.search_subject_endpoint, 'http://localhost:8080/access/v1/search/subject');
  t.equal(meta.search_action_endpoint, 'http://localhost:8080/access/v1/search/action');
  t.equal(meta.search_resource_endpoint, 'http://localhost:8080/access/v1/search/resource');
  for (const [k, v] of Object.entries(meta)) t.ok(typeof v === 'string' && v !== '', `${k}: no empty parameters`);
  t.match(r.headers['cache-control'], /max-age=/);

  const { app: configured } = await testApp(t, { env: { AUTHZEN_PDP_URL: 'https://pdp.example.com/' } });
  const c = (await configured.inject({ method: 'GET', url: '/.well-known/authzen-configuration' })).json() as Json;
  t.equal(c.policy_decision_point, 'https://pdp.example.com', 'AUTHZEN_PDP_URL names the identifier');
  t.equal(c.access_evaluation_endpoint, 'https://pdp.example.com/access/v1/evaluation');
});

const SEARCH_POLICY = `
key: lib-search
rules:
  - subjects: ["user:dora", "user:eli", "role:reader"]
    grant: ["document:read", "document:comment"]
  - subjects: ["user:eli"]
    grant: ["document:edit", "view", "folder:open"]
  - subjects: ["user:fay", "group:banned"]
    deny: ["document:read"]
`;

t.test('subject search: candidates the policies name, each checked, paged', async (t) => {
  const { app, post } = await setup(t);
  await putYaml(t, app, 'lib-search', SEARCH_POLICY);
  const S = '/access/v1/search/subject';
  const base = { subject: { type: 'user' }, action: { name: 'document:read' }, resource: doc('1', { namespace: 'global.lib' }) };
  const all = await post(S, base, { 'x-request-id': 'search-1' });
  t.equal(all.status, 200);
  t.same(all.json, { results: [{ type: 'user', id: 'dora' }, { type: 'user', id: 'eli' }] }, 'fay is named but denied; nobody else is known');
  t.equal(all.headers['x-request-id'], 'search-1');
  const ignoredId = await post(S, { ...base, subject: { type: 'user', id: 'zed' } });
  t.same(ignoredId.json, all.json, 'a subject id in a subject search is ignored');
  for (const r of all.json.results) {
    const e = await post('/access/v1/evaluation', { subject: r, action: base.action, resource: base.resource });
    t.equal(e.json.decision, true, `${r.id}: a result is allowed when evaluated`);
  }

  const p1 = await post(S, { ...base, page: { limit: 1 } });
  t.same(p1.json.results, [{ type: 'user', id: 'dora' }]);
  t.equal(p1.json.page.count, 1);
  t.ok(p1.json.page.next_token.length > 0, 'more results: a token');
  const p2 = await post(S, { ...base, page: { limit: 1, token: p1.json.page.next_token } });
  t.same(p2.json.results, [{ type: 'user', id: 'eli' }]);
  t.equal(p2.json.page.next_token, '', 'the last page says so with an empty token');
  const changed = await post(S, { ...base, action: { name: 'document:comment' }, page: { limit: 1, token: p1.json.page.next_token } });
  t.equal(changed.status, 400, 'a token is only good for the request that made it');
  const forged = await post(S, { ...base, page: { token: 'not-a-token' } });
  t.equal(forged.status, 400);
  const none = await post(S, { ...base, subject: { type: 'service' } });
  t.same(none.json, { results: [] });
  const noType = await post(S, { ...base, subject: {} });
  t.equal(noType.status, 400, 'the subject type is required');
});

t.test('action search: the permissions granted for the resource type, one check', async (t) => {
  const { app, post } = await setup(t);
  await putYaml(t, app, 'lib-search', SEARCH_POLICY);
  const A = '/access/v1/search/action';
  const eli = await post(A, { subject: { type: 'user', id: 'eli' }, resource: doc('1', { namespace: 'global.lib' }) });
  t.equal(eli.status, 200);
  t.same(eli.json.results, [{ name: 'document:comment' }, { name: 'document:edit' }, { name: 'document:read' }, { name: 'view' }], 'folder:open names another type; read/edit of global-docs are not granted to eli');
  const owner = await post(A, { subject: { type: 'user', id: 'eli' }, resource: doc('1', { namespace: 'global.lib', owner: 'user:eli' }) });
  t.same(owner.json.results.map((r: Json) => r.name), ['document:comment', 'document:edit', 'document:read', 'edit', 'read', 'view'], 'conditions see the resource');
  const fay = await post(A, { subject: { type: 'user', id: 'fay', properties: { roles: ['reader'] } }, resource: doc('1', { namespace: 'global.lib' }) });
  t.same(fay.json.results.map((r: Json) => r.name), ['document:comment', 'read'], 'a deny removes document:read');
  for (const name of ['document:comment', 'read']) {
    const e = await post('/access/v1/evaluation', { subject: { type: 'user', id: 'fay', properties: { roles: ['reader'] } }, action: { name }, resource: doc('1', { namespace: 'global.lib' }) });
    t.equal(e.json.decision, true, `${name} evaluates to true`);
  }
  const paged = await post(A, { subject: { type: 'user', id: 'eli' }, resource: doc('1', { namespace: 'global.lib' }), page: { limit: 3 } });
  t.equal(paged.json.results.length, 3);
  const rest = await post(A, { subject: { type: 'user', id: 'eli' }, resource: doc('1', { namespace: 'global.lib' }), page: { limit: 3, token: paged.json.page.next_token } });
  t.same(rest.json.results, [{ name: 'view' }]);
  t.equal(rest.json.page.next_token, '');
});
