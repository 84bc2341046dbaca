// PolicyEngineClient against a real engine on a loopback port: every call, the error
// shape, and transport failures (refused, timed out, aborted).

import t, { type Test } from 'tap';
import { PolicyEngineClient, PolicyEngineClientError } from '../../src/client/index.js';
import { captureLog } from '../observability/log-capture.js';
import { ADMIN_TOKEN, DOCS_POLICY, hangingUrl, refusedUrl, runningEngine } from './engine.js';

async function clientError(t: Test, promise: Promise<unknown>, statusCode: number, code: string): Promise<PolicyEngineClientError | undefined> {
  try {
    await promise;
    t.fail(`expected ${statusCode} ${code}`);
    return undefined;
  } catch (err) {
    t.ok(err instanceof PolicyEngineClientError, `a PolicyEngineClientError (${String(err)})`);
    t.match(err, { statusCode, code });
    return err as PolicyEngineClientError;
  }
}

t.test('policy API, decisions and health through the client', async (t) => {
  const log = captureLog();
  const { url } = await runningEngine(t, { logger: log.logger });
  const client = new PolicyEngineClient({ baseUrl: `${url}/`, adminToken: ADMIN_TOKEN, timeoutMs: 5000 });

  t.same(await client.health(), { status: 'ok' });
  t.match(await client.ready(), { status: 'ready', store: 'memory', loaded: true });

  // Writes: YAML text, JSON objects, preconditions.
  const created = await client.putPolicy('global-docs', DOCS_POLICY);
  t.match(created, { key: 'global-docs', namespace: 'global', created: true });
  await clientError(t, client.putPolicy('global-docs', DOCS_POLICY, { ifMatch: '"not-the-etag"' }), 412, 'PRECONDITION_FAILED');
  await clientError(t, client.putPolicy('global-docs', DOCS_POLICY, { ifNoneMatch: true }), 412, 'PRECONDITION_FAILED');
  const replaced = await client.putPolicy('global-docs', DOCS_POLICY, { ifMatch: created.etag });
  t.equal(replaced.created, false);
  const jsonDoc = { key: 'org-editors', rules: [{ id: 'ed', subjects: ['role:editor'], grant: ['report:read'] }] };
  t.match(await client.putPolicy('org-editors', jsonDoc), { namespace: 'org', created: true });
  const invalid = await clientError(t, client.putPolicy('org-bad', { key: 'org-bad', rules: [{ subjects: ['*'], grant: ['not a permission'] }] }), 422, 'POLICY_INVALID');
  t.ok(Array.isArray(invalid?.details) && (invalid!.details as unknown[]).length > 0, 'details list the validation errors');

  // Reads: as written, or re-rendered.
  const asYaml = await client.getPolicy('global-docs', { format: 'yaml' });
  t.equal(asYaml.text, DOCS_POLICY, 'the original YAML text, comment included');
  t.equal(asYaml.etag, created.etag);
  const asJson = await client.getPolicy('global-docs');
  t.match(asJson, { key: 'global-docs', format: 'json', document: { key: 'global-docs' } });
  await clientError(t, client.getPolicy('global-missing'), 404, 'POLICY_NOT_FOUND');

  const all = await client.listPolicies();
  t.same(all.items.map((i) => i.key), ['global-docs', 'org-editors']);
  t.equal(all.cursor, null);
  const page1 = await client.listPolicies({ limit: 1 });
  t.equal(page1.items.length, 1);
  t.type(page1.cursor, 'string');
  const page2 = await client.listPolicies({ limit: 1, cursor: page1.cursor! });
  t.same(page2.items.map((i) => i.key), ['org-editors']);
  t.same((await client.listPolicies({ namespace: 'org' })).items.map((i) => i.key), ['org-editors']);

  // Decisions.
  const editor = { id: 'user:alice', roles: ['editor'] };
  const evaluation = await client.evaluate({ subject: editor, namespace: 'global.org' }, { requestId: 'client-req-1' });
  t.match(evaluation, { permissions: ['document:*', 'report:read'], denied: ['document:purge'], default: false, exact: true });
  t.match(log.decisions().find((l) => l.reqId === 'client-req-1'), { subject: { id: 'user:alice' } }, 'the request id reaches the decision log');
  t.match(await client.check({ subject: editor, namespace: 'global.org', permission: 'document:write' }), { allowed: true });
  t.match(await client.check({ subject: editor, namespace: 'global.org', permission: 'document:purge' }), {
    allowed: false, reason: { text: 'Purging documents needs an admin', rule: 'editors', document: 'global-docs' },
  });
  t.match(await client.check({ subject: 'user:bob', namespace: 'global', permissions: ['document:read', 'document:write'] }), {
    results: { 'document:read': true, 'document:write': false },
  });
  await clientError(t, client.evaluate({ subject: 'user:bob', namespace: 'bad path!' }), 400, 'NAMESPACE_INVALID');
  await clientError(t, client.check({ subject: 'user:bob', namespace: 'global', permission: 'document:*' }), 400, 'PERMISSION_INVALID');

  // Validate, import, delete.
  t.match(await client.validate(DOCS_POLICY), { valid: true, documents: 1 });
  const bad = await client.validate({ key: 'global-x', rules: [{ subjects: ['*'], grant: [], typo: 1 }] });
  t.equal(bad.valid, false);
  t.ok(bad.errors.length > 0);
  const imported = await client.importPolicies([
    { key: 'team-a', rules: [{ subjects: ['*'], grant: ['a:read'] }] },
    { key: 'team-b', rules: [{ subjects: ['*'], grant: ['b:read'] }] },
  ]);
  t.match(imported, { created: 2, replaced: 0, keys: ['team-a', 'team-b'] });
  const yamlStream = 'key: team-a\nrules:\n  - subjects: ["*"]\n    grant: ["a:write"]\n---\nkey: team-c\nrules: []\n';
  t.match(await client.importPolicies(yamlStream), { created: 1, replaced: 1 });
  await client.deletePolicy('team-c');
  await clientError(t, client.getPolicy('team-c'), 404, 'POLICY_NOT_FOUND');
  await clientError(t, client.deletePolicy('team-c'), 404, 'POLICY_NOT_FOUND');
  const current = await client.getPolicy('team-a');
  await clientError(t, client.deletePolicy('team-a', { ifMatch: '"old"' }), 412, 'PRECONDITION_FAILED');
  await client.deletePolicy('team-a', { ifMatch: current.etag });

  // Without the admin token, writes are refused; reads and decisions are not.
  const anonymous = new PolicyEngineClient({ baseUrl: url });
  await clientError(t, anonymous.putPolicy('team-d', { key: 'team-d', rules: [] }), 401, 'UNAUTHORIZED');
  await clientError(t, anonymous.deletePolicy('global-docs'), 401, 'UNAUTHORIZED');
  t.match(await anonymous.check({ subject: 'user:bob', namespace: 'global', permission: 'document:read' }), { allowed: true });
});

t.test('transport failures become client errors; a caller abort stays an abort', async (t) => {
  const refused = new PolicyEngineClient({ baseUrl: await refusedUrl() });
  const e1 = await clientError(t, refused.check({ subject: 'u', namespace: 'global', permission: 'a:b' }), 503, 'ENGINE_UNREACHABLE');
  t.equal(e1?.unavailable, true);

  const hanging = await hangingUrl(t);
  const slow = new PolicyEngineClient({ baseUrl: hanging, timeoutMs: 150 });
  const started = Date.now();
  await clientError(t, slow.evaluate({ subject: 'u', namespace: 'global' }), 504, 'ENGINE_TIMEOUT');
  t.ok(Date.now() - started < 2000, 'the timeout holds');

  const patient = new PolicyEngineClient({ baseUrl: hanging, timeoutMs: 10_000 });
  const controller = new AbortController();
  const pending = patient.health({ signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await t.rejects(pending, { name: 'AbortError' });

  // An answer that is not the engine's error body.
  const stranger = new PolicyEngineClient({
    baseUrl: 'http://127.0.0.1:1',
    fetch: async () => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
  });
  await clientError(t, stranger.health(), 502, 'ENGINE_BAD_RESPONSE');
});

t.test('decisionToken: decisions send the decision token, writes the admin token, inline policies the admin token', async (t) => {
  const DECISION_TOKEN = 'client-test-decision-token-0123';
  const { url } = await runningEngine(t, { env: { DECISION_TOKEN } });
  const sent: Array<{ path: string; authorization: string | null }> = [];
  const recording: typeof fetch = async (input, init) => {
    sent.push({ path: new URL(String(input)).pathname, authorization: new Headers(init?.headers).get('authorization') });
    return fetch(input, init);
  };
  const client = new PolicyEngineClient({ baseUrl: url, adminToken: ADMIN_TOKEN, decisionToken: DECISION_TOKEN, fetch: recording });
  await client.putPolicy('global-docs', DOCS_POLICY);
  const subject = { id: 'user:alice', roles: ['editor'] };
  t.match(await client.check({ subject, namespace: 'global', permission: 'document:read' }), { allowed: true });
  t.match(await client.evaluate({ subject, namespace: 'global' }), { permissions: Array });
  t.match(await client.plan({ subject, namespace: 'global', permission: 'document:read', resource: { type: 'document' } }), { exact: true });
  t.match(await client.evaluate({ subject, policies: [{ key: 'global-x', rules: [{ subjects: ['*'], grant: ['a:b'] }] }] } as never), { permissions: ['a:b'] });
  t.same(sent.map((s) => `${s.path} ${s.authorization}`), [
    `/v1/policies/global-docs Bearer ${ADMIN_TOKEN}`,
    `/v1/check Bearer ${DECISION_TOKEN}`,
    `/v1/evaluate Bearer ${DECISION_TOKEN}`,
    `/v1/plan Bearer ${DECISION_TOKEN}`,
    `/v1/evaluate Bearer ${ADMIN_TOKEN}`,
  ]);
  // An application holds only the decision token: decisions work, writes do not.
  const app = new PolicyEngineClient({ baseUrl: url, decisionToken: DECISION_TOKEN });
  t.match(await app.check({ subject, namespace: 'global', permission: 'document:read' }), { allowed: true });
  await clientError(t, app.putPolicy('global-y', DOCS_POLICY.replace('global-docs', 'global-y')), 401, 'UNAUTHORIZED');
  const none = new PolicyEngineClient({ baseUrl: url });
  await clientError(t, none.check({ subject, namespace: 'global', permission: 'document:read' }), 401, 'UNAUTHORIZED');
});
