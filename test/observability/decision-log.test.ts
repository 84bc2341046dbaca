// Decision logs: one line per evaluate / check, with the summary, sampled and redacted
// as configured; and no log line ever carries the Authorization header or ADMIN_TOKEN.

import t from 'tap';
import { putYaml, testApp } from '../helpers/app.js';
import { captureLog } from './log-capture.js';
import { createDecisionLog, rawInfoWriter, type DecisionLogSink } from '../../src/observability/decision-log.js';
import { pino } from 'pino';
import { createLogger } from '../../src/observability/logger.js';
import type { Decision } from '../../src/core/evaluate/types.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { editorsPolicy } from '../helpers/policies.js';

const NS = 'global.org';
const POLICY = editorsPolicy({
  extraRules: ['  - id: night-shift', '    subjects: ["role:editor"]', "    when: 'context.shift.kind == \"night\"'", '    grant: ["report:read"]', ''].join('\n'),
});
const editor = { id: 'user:alice', roles: ['editor'], attributes: { ssn: '123-45-6789', team: 'blue' } };

t.test('one line per evaluate and check, with the decision summary', async (t) => {
  const log = captureLog();
  const { app } = await testApp(t, { logger: log.logger });
  await putYaml(t, app, 'global-base', POLICY);

  const post = (url: string, payload: object, id: string) => app.inject({ method: 'POST', url, payload, headers: { 'x-request-id': id } });
  await post('/v1/evaluate', { subject: editor, namespace: NS, context: { shift: { kind: 'day' } } }, 'req-1');
  await post('/v1/evaluate', { subject: editor, namespace: NS, context: { shift: { kind: 'day' } } }, 'req-2');
  await post('/v1/check', { subject: editor, namespace: NS, permission: 'document:purge' }, 'req-3');
  await post('/v1/check', { subject: 'user:bob', namespace: NS, permissions: ['document:read', 'document:write'] }, 'req-4');
  await post('/v1/evaluate', { subject: 'user:bob', policy: 'global-base' }, 'req-5');
  await post('/v1/evaluate', { subject: 'user:bob', policies: [{ key: 'inline-a', rules: [{ subjects: ['*'], grant: ['a:b'] }] }] }, 'req-6');
  await post('/v1/evaluate', { subject: 'user:bob', namespace: 'no good!' }, 'req-7');
  await post('/v1/evaluate', { subject: editor, namespace: NS, context: { shift: 'not an object' } }, 'req-8');
  await app.inject({ method: 'GET', url: '/healthz' });

  const lines = log.decisions();
  t.equal(lines.length, 8, 'one line per decision request, none for other routes');
  const byId = Object.fromEntries(lines.map((l) => [l.reqId, l]));

  const first = byId['req-1']!;
  t.equal(first.msg, 'decision');
  t.equal(first.level, 30, 'info');
  t.match(first, {
    endpoint: 'evaluate', mode: 'namespace', target: NS,
    subject: { id: 'user:alice', roles: ['editor'], attributes: { ssn: '123-45-6789', team: 'blue' } },
    context: { shift: { kind: 'day' } },
    decision: {
      permissionCount: 1, permissions: ['document:*'], denied: ['document:purge'],
      default: false, exact: true, cached: false, stale: false, policies: ['global-base'], conditionErrors: 0,
    },
  });
  t.type(first.latencyUs, 'number');
  t.ok(first.latencyUs >= 0);
  t.equal(byId['req-2']!.decision.cached, true, 'a cache hit is logged too');

  t.match(byId['req-3'], {
    endpoint: 'check', permission: 'document:purge',
    decision: { allowed: false, reason: { rule: 'editors', document: 'global-base' } },
  });
  t.match(byId['req-4'], {
    endpoint: 'check', permissions: ['document:read', 'document:write'],
    decision: { allowedCount: 1, results: { 'document:read': true, 'document:write': false } },
  });
  t.match(byId['req-5'], { mode: 'policy', target: 'global-base' });
  t.match(byId['req-6'], { mode: 'policies', target: 'inline', decision: { permissions: ['a:b'], policies: ['inline-a'] } });
  t.match(byId['req-7'], { mode: 'namespace', target: 'no good!', error: { code: 'NAMESPACE_INVALID' } });
  t.notOk('decision' in byId['req-7']!, 'a failed request has no decision');
  t.match(byId['req-8'], { decision: { conditionErrors: 1, conditionFailures: [{ document: 'global-base', rule: 'night-shift' }] } });
});

t.test('lines stay bounded: long lists, big or deep attributes and context', async (t) => {
  const log = captureLog();
  const { app } = await testApp(t, { logger: log.logger });
  const grants = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, '0')}:read`);
  let deep: unknown = 'bottom';
  for (let i = 0; i < 2000; i++) deep = [deep];
  const context = { big: Array.from({ length: 100_000 }, (_, i) => i), deep, long: 'x'.repeat(100_000), many: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i])) };
  const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', context, policies: [{ key: 'inline-a', rules: [{ subjects: ['*'], grant: grants }] }] } });
  t.equal(r.statusCode, 200);
  const [line] = log.decisions();
  t.equal(line!.decision.permissionCount, 30);
  t.equal(line!.decision.permissions.length, 20);
  t.equal(line!.context.big.length, 51);
  t.equal(line!.context.big[50], '[99950 more]');
  t.equal(line!.context.long.length, 513);
  t.equal(Object.keys(line!.context.many).length, 51);
  t.match(JSON.stringify(line!.context.deep), /\[too deep\]/);
  t.ok(log.text().length < 20_000, `a ${log.text().length}-byte log`);
});

t.test('DECISION_LOG_REDACT replaces values at any depth; DECISION_LOG_ATTRIBUTES=false drops them', async (t) => {
  const payload = {
    subject: editor, namespace: NS,
    resource: { type: 'document', id: 'doc1', attributes: { owner: { SSN: '987-65-4321' }, size: 1 } },
    context: { ip: '10.1.2.3', auth: { token: 'tok-abcdef' } },
  };
  {
    const log = captureLog();
    const { app } = await testApp(t, { logger: log.logger, env: { DECISION_LOG_REDACT: 'ssn, token' } });
    await app.inject({ method: 'POST', url: '/v1/evaluate', payload });
    const [line] = log.decisions();
    t.same(line!.subject.attributes, { ssn: '[redacted]', team: 'blue' });
    t.same(line!.resource, { type: 'document', id: 'doc1', attributes: { owner: { SSN: '[redacted]' }, size: 1 } });
    t.same(line!.context, { ip: '10.1.2.3', auth: { token: '[redacted]' } });
    for (const secret of ['123-45-6789', '987-65-4321', 'tok-abcdef']) t.notMatch(log.text(), secret);
  }
  {
    const log = captureLog();
    const { app } = await testApp(t, { logger: log.logger, env: { DECISION_LOG_ATTRIBUTES: 'false' } });
    await app.inject({ method: 'POST', url: '/v1/evaluate', payload });
    const [line] = log.decisions();
    t.same(line!.subject, { id: 'user:alice', roles: ['editor'] });
    t.same(line!.resource, { type: 'document', id: 'doc1' });
    t.notOk('context' in line!);
    for (const secret of ['123-45-6789', '987-65-4321', 'tok-abcdef', '10.1.2.3']) t.notMatch(log.text(), secret);
  }
});

t.test('DECISION_LOG=off and DECISION_LOG_SAMPLE=0 write nothing', async (t) => {
  const envs: Array<Record<string, string>> = [{ DECISION_LOG: 'off' }, { DECISION_LOG_SAMPLE: '0' }];
  for (const env of envs) {
    const log = captureLog();
    const { app } = await testApp(t, { logger: log.logger, env });
    const r = await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: NS } });
    t.equal(r.statusCode, 200);
    t.equal(log.decisions().length, 0, JSON.stringify(env));
  }
  // A level above info silences it as well, without building lines.
  const quiet = captureLog('warn');
  const { app } = await testApp(t, { logger: quiet.logger });
  await app.inject({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: NS } });
  t.equal(quiet.decisions().length, 0);
});

t.test('sampling is decided before anything is built', async (t) => {
  const written: object[] = [];
  const sink: DecisionLogSink = { child: () => sink, info: (obj) => { written.push(obj); } };
  const draws = [0.1, 0.9, 0.29, 0.3];
  const log = createDecisionLog(sink, { enabled: true, sample: 0.3, redact: [], attributes: true, random: () => draws.shift()! })!;
  t.same([log.sampled(), log.sampled(), log.sampled(), log.sampled()], [true, false, true, false]);
  const always = createDecisionLog(sink, { enabled: true, sample: 1, redact: [], attributes: true, random: () => { throw new Error('not drawn at 1'); } })!;
  t.equal(always.sampled(), true);
  t.equal(createDecisionLog(sink, { enabled: false, sample: 1, redact: [], attributes: true }), undefined);
  const decision: Decision = { permissions: ['a:b'], denied: [], exact: true, default: false, policies: ['x-a'], applied: [] };
  log.write({ endpoint: 'evaluate', requestId: 'r', decisionId: 'd-1', request: { subject: 's', namespace: 'x' }, decision, response: { permissions: ['a:b'], denied: [], default: false, namespaces: ['x'], policies: ['x-a'], cached: false, revision: '1', exact: true }, latencyUs: 12 });
  t.match(written, [{ decisionId: 'd-1', reqId: 'r', subject: { id: 's' }, decision: { permissionCount: 1 }, latencyUs: 12 }]);
});

t.test('no log line carries the Authorization header or ADMIN_TOKEN', async (t) => {
  const token = 'admin-token-0123456789-secret';
  const log = captureLog('trace');
  const { app } = await testApp(t, { logger: log.logger, env: { ADMIN_TOKEN: token } });
  const auth = { authorization: `Bearer ${token}` };
  const put = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { ...auth, 'content-type': 'application/yaml' }, payload: POLICY });
  t.equal(put.statusCode, 201);
  const wrong = await app.inject({ method: 'PUT', url: '/v1/policies/global-base', headers: { authorization: 'Bearer wrong-token-value', 'content-type': 'application/yaml' }, payload: POLICY });
  t.equal(wrong.statusCode, 401);
  await app.inject({ method: 'POST', url: '/v1/evaluate', headers: auth, payload: { subject: 'u', namespace: NS } });
  // Code that logs a request or the configuration whole is censored by the logger itself.
  log.logger.info({ req: { method: 'GET', url: '/', headers: auth } }, 'a request');
  log.logger.info({ headers: auth }, 'headers');
  log.logger.info({ adminToken: token, config: { adminToken: token } }, 'configuration');

  const text = log.text();
  t.ok(log.lines().length > 5, 'requests were logged');
  t.ok(log.decisions().length === 1);
  t.notMatch(text, token, 'the admin token appears nowhere');
  t.notMatch(text, 'wrong-token-value', 'nor does any bearer token sent');
  t.match(log.lines().find((l) => l.msg === 'a request'), { req: { headers: { authorization: '[redacted]' } } });
  t.match(log.lines().find((l) => l.msg === 'configuration'), { adminToken: '[redacted]', config: { adminToken: '[redacted]' } });
});

t.test('decision-log settings', async (t) => {
  const defaults = loadConfig({});
  t.match(defaults, { decisionLog: true, decisionLogSample: 1, decisionLogRedact: [], decisionLogAttributes: true });
  const set = loadConfig({ DECISION_LOG: 'off', DECISION_LOG_SAMPLE: '0.25', DECISION_LOG_REDACT: ' ssn, ,token ', DECISION_LOG_ATTRIBUTES: '0' });
  t.match(set, { decisionLog: false, decisionLogSample: 0.25, decisionLogRedact: ['ssn', 'token'], decisionLogAttributes: false });
  t.equal(loadConfig({}, ['--decision-log-sample=0']).decisionLogSample, 0);
  try {
    loadConfig({ DECISION_LOG: 'maybe', DECISION_LOG_SAMPLE: '1.5' });
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    t.match((err as ConfigError).problems.join('\n'), /DECISION_LOG=.*\n?.*DECISION_LOG_SAMPLE=/s);
  }
  t.throws(() => loadConfig({ DECISION_LOG_SAMPLE: 'half' }), ConfigError);
});

// Issue 16 item 10: secrets sent as attributes or context never reach a log line or a
// stored request sample, with no configuration at all; configuration only adds keys.
t.test('built-in redaction: the usual secret names, any case, any separator, any depth, over HTTP', async (t) => {
  const secrets = {
    password: 'pw-0001', Authorization: 'Bearer bt-0002', 'X-API-Key': 'ak-0003', apiKey: 'ak-0004',
    github_token: 'gt-0005', session_id: 'si-0006', nested: { deeper: [{ client_secret: 'cs-0007', Cookie: 'ck-0008' }] },
    REFRESH_TOKEN: 'rt-0009', 'private-key': 'pk-0010', passwd: 'pd-0011',
  };
  const plain = { team: 'blue', tokenCount: 3, sessions: 2 };
  const payload = {
    subject: { id: 'user:alice', roles: ['editor'], attributes: { ...plain, ...secrets, ssn: 'ssn-0012' } },
    namespace: NS,
    resource: { type: 'document', id: 'doc1', attributes: { owner: { access_token: 'at-0013' } } },
    context: { headers: { 'x-api-key': 'ak-0014', 'set-cookie': 'sc-0015' }, ip: '10.1.2.3' },
  };
  const secretValues = ['pw-0001', 'bt-0002', 'ak-0003', 'ak-0004', 'gt-0005', 'si-0006', 'cs-0007', 'ck-0008', 'rt-0009', 'pk-0010', 'pd-0011', 'at-0013', 'ak-0014', 'sc-0015'];
  const { httpSender } = await import('../helpers/http.js');
  for (const env of [{}, { DECISION_LOG_REDACT: 'ssn' }] as Array<Record<string, string>>) {
    const log = captureLog('trace');
    const { app, services } = await testApp(t, { logger: log.logger, env });
    await putYaml(t, app, 'global-base', POLICY);
    const send = await httpSender(app);
    const ok = await send({ method: 'POST', url: '/v1/evaluate', payload });
    t.equal(ok.status, 200);
    // A failing request is logged too (with its error): the same redaction.
    const bad = await send({ method: 'POST', url: '/v1/check', payload: { ...payload, namespace: 'no good!', permission: 'a:b' } });
    t.equal(bad.status, 400);
    const lines = log.decisions();
    t.equal(lines.length, 2, JSON.stringify(env));
    const [line] = lines;
    t.match(line!.subject.attributes, {
      ...plain, password: '[redacted]', Authorization: '[redacted]', 'X-API-Key': '[redacted]', apiKey: '[redacted]', github_token: '[redacted]',
      session_id: '[redacted]', nested: { deeper: [{ client_secret: '[redacted]', Cookie: '[redacted]' }] }, REFRESH_TOKEN: '[redacted]',
      'private-key': '[redacted]', passwd: '[redacted]',
    }, 'names that are not secrets (tokenCount, sessions) are kept');
    t.same(line!.resource.attributes, { owner: { access_token: '[redacted]' } });
    t.same(line!.context, { headers: { 'x-api-key': '[redacted]', 'set-cookie': '[redacted]' }, ip: '10.1.2.3' });
    t.equal(line!.subject.attributes.ssn, env.DECISION_LOG_REDACT ? '[redacted]' : 'ssn-0012', 'DECISION_LOG_REDACT extends the list');
    const text = log.text();
    for (const s of secretValues) t.notMatch(text, s, `${s} is in no log line`);
    const stored = JSON.stringify(services.samples!.list());
    t.match(stored, 'tokenCount', 'the request was sampled');
    for (const s of secretValues) t.notMatch(stored, s, `${s} is in no request sample`);
  }
});

t.test('plans, AuthZEN searches and relationship checks: one line per request', async (t) => {
  const { exampleSchema, exampleTuples } = await import('../helpers/relations-example.js');
  const log = captureLog();
  const { app } = await testApp(t, { logger: log.logger, env: { DECISION_LOG_REDACT: 'ssn' } });
  await putYaml(t, app, 'global-base', POLICY);
  t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema })).statusCode, 200);
  t.equal((await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } })).statusCode, 200);
  await app.inject({ method: 'PUT', url: '/v1/entities/document:d1', payload: { attributes: { owner: 'user:alice' } } });
  const before = log.decisions().length;

  const requests: Array<[string, string, object, number]> = [
    ['rel-check', '/v1/relations/check', { resource: 'document:root', permission: 'read', subject: 'user:dave' }, 200],
    ['plan', '/v1/plan', { subject: editor, namespace: NS, permission: 'document:read', resource: { type: 'document' }, context: { ssn: 'secret-1' } }, 200],
    ['plan-bad', '/v1/plan', { subject: editor, namespace: NS, permission: 'document:read', resource: { type: 'document' }, fields: { id: 'bad name!' } }, 400],
    ['rel-plan', '/v1/relations/plan', { subject: 'user:dave', resourceType: 'document', permission: 'read' }, 200],
    ['search-subject', '/access/v1/search/subject', { subject: { type: 'user' }, action: { name: 'document:read' }, resource: { type: 'document', id: 'root' }, context: { namespace: NS } }, 200],
    ['search-resource', '/access/v1/search/resource', { subject: { type: 'user', id: 'alice', properties: { roles: ['editor'] } }, action: { name: 'document:read' }, resource: { type: 'document' }, context: { namespace: NS } }, 200],
    ['search-action', '/access/v1/search/action', { subject: { type: 'user', id: 'alice', properties: { roles: ['editor'], ssn: 'secret-2' } }, resource: { type: 'document', id: 'd1' }, context: { namespace: NS } }, 200],
  ];
  const ids: Record<string, string> = {};
  for (const [reqId, url, payload, status] of requests) {
    const r = await app.inject({ method: 'POST', url, payload, headers: { 'x-request-id': reqId } });
    t.equal(r.statusCode, status, `${url}: ${r.body.slice(0, 200)}`);
    ids[reqId] = String(r.headers['x-decision-id']);
  }
  const lines = log.decisions().slice(before);
  t.equal(lines.length, requests.length, 'one line per request');
  const byId = Object.fromEntries(lines.map((l) => [l.reqId, l]));
  for (const [reqId] of requests) {
    t.equal(lines.filter((l) => l.reqId === reqId).length, 1, `${reqId}: exactly one line`);
    t.equal(byId[reqId]!.decisionId, ids[reqId], `${reqId}: the decision id the answer carried`);
    t.type(byId[reqId]!.latencyUs, 'number');
  }
  t.match(byId['rel-check'], { endpoint: 'relations-check', mode: 'relations', subject: { id: 'user:dave' }, resource: { type: 'document', id: 'root' }, permission: 'read', decision: { allowed: true } });
  t.match(byId['plan'], { endpoint: 'plan', mode: 'namespace', target: NS, subject: { id: 'user:alice' }, permission: 'document:read', resource: { type: 'document' }, context: { ssn: '[redacted]' }, decision: { kind: String, exact: true } });
  t.match(byId['plan-bad'], { endpoint: 'plan', error: { code: 'PLAN_FIELD_INVALID' } });
  t.notOk('decision' in byId['plan-bad']!);
  t.match(byId['rel-plan'], { endpoint: 'relations-plan', mode: 'relations', subject: { id: 'user:dave' }, decision: { kind: 'conditional', exact: true, idCount: Number } });
  t.match(byId['search-subject'], { endpoint: 'authzen-search', target: NS, permission: 'document:read', resource: { type: 'document', id: 'root' }, decision: { search: 'subject', resultCount: Number, more: false } });
  t.notOk('subject' in byId['search-subject']!, 'a subject search names no subject');
  t.match(byId['search-resource'], { endpoint: 'authzen-search', subject: { id: 'user:alice' }, decision: { search: 'resource', resultCount: Number } });
  t.match(byId['search-action'], { endpoint: 'authzen-search', subject: { id: 'user:alice', roles: ['editor'], attributes: { ssn: '[redacted]' } }, decision: { search: 'action' } });
  for (const secret of ['secret-1', 'secret-2']) t.notMatch(log.text(), secret, 'redacted as every line');

  // Sampled like the others: DECISION_LOG_SAMPLE=0 writes none of them.
  const quiet = captureLog();
  const off = await testApp(t, { logger: quiet.logger, env: { DECISION_LOG_SAMPLE: '0' } });
  for (const [, url, payload] of requests) await off.app.inject({ method: 'POST', url, payload });
  t.equal(quiet.decisions().length, 0);
});

t.test('a decision line written as text is byte for byte what pino writes; loggers that would change it are left to pino', async (t) => {
  const lines: string[] = [];
  const dest = { write: (s: string) => { lines.push(s); } };
  const obj = { decisionId: 'd', subject: { id: 'user:a', attributes: { n: 1.5, s: 'é "q" \\ \u0000' } }, decision: { permissions: [], default: true }, latencyUs: 3 };
  const fixedTime = (s: string) => s.replace(/"time":\d+/, '"time":0');
  for (const logger of [createLogger('info', dest).child({ name: 'decision' }), pino({ base: { app: 'x' } }, dest).child({ name: 'decision', zone: 2 }), pino({ crlf: true }, dest)]) {
    lines.length = 0;
    logger.info(obj, 'decision');
    const raw = rawInfoWriter(logger, 'decision');
    t.ok(raw, 'a plain pino logger');
    raw!(JSON.stringify(obj));
    t.equal(lines.length, 2);
    t.equal(fixedTime(lines[1]!), fixedTime(lines[0]!));
  }
  const others: Array<[string, DecisionLogSink]> = [
    ['a mixin', pino({ mixin: () => ({ extra: 1 }) }, dest)],
    ['a log formatter', pino({ formatters: { log: (o) => ({ ...o, extra: 1 }) } }, dest)],
    ['a serializer of a line key', pino({ serializers: { subject: () => 'hidden' } }, dest)],
    ['a redact path on a line key', pino({ redact: ['subject.id'] }, dest)],
    ['another message key', pino({ messageKey: 'message' }, dest)],
    ['a message prefix', pino({ msgPrefix: '[x] ' }, dest)],
    ['a stream-write hook', pino({ hooks: { streamWrite: (s) => s } }, dest)],
    ['a multistream', pino({}, pino.multistream([{ stream: dest }]))],
    ['not pino', { child: () => others[0]![1], info: () => {} }],
  ];
  for (const [what, logger] of others) t.equal(rawInfoWriter(logger, 'decision'), undefined, what);
});
