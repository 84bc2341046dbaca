// Scripted rules end to end (SPEC §8, issue 8): the delete_document_policy example
// through the REST API and POST /v1/check, rule-level `lua:` chunks, script documents
// returning effects, facts, write-time checks, and fail-closed failures.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { testApp } from '../../helpers/app.js';
import { injectSender } from '../../helpers/http.js';

const EXAMPLE = readFileSync(new URL('../../../examples/lua/global-delete_document_policy.yaml', import.meta.url), 'utf8');
const { app } = await testApp(t);
const send = injectSender(app);
const yaml = { 'content-type': 'application/yaml' };
const put = (key: string, payload: string) => send({ method: 'PUT', url: `/v1/policies/${key}`, headers: yaml, payload });
const checkScript = (roles: string[], size: number, hour: number) =>
  send({ method: 'POST', url: '/v1/check', payload: { subject: { id: 'user:x', roles }, policy: 'global-delete_document_policy', resource: { type: 'document', id: 'd1', attributes: { content_length: size } }, context: { hour } } });

t.test('the delete_document_policy example through the REST API and check', async (t) => {
  const r = await put('global-delete_document_policy', EXAMPLE);
  t.equal(r.status, 201, r.body);
  const back = await send({ method: 'GET', url: '/v1/policies/global-delete_document_policy', headers: { accept: 'application/yaml' } });
  t.equal(back.body, EXAMPLE);
  const cases: Array<[string[], number, number, boolean]> = [
    [['admin'], 99999, 3, true],
    [['guest'], 10, 10, false],
    [['guest', 'admin'], 10, 10, true],
    [['editor'], 512, 10, true],
    [['editor'], 2048, 10, false],
    [['editor'], 512, 8, false],
    [['editor'], 512, 17, false],
    [['viewer'], 1, 10, false],
  ];
  for (const [roles, size, hour, allowed] of cases) {
    const c = await checkScript(roles, size, hour);
    t.equal(c.status, 200, c.body);
    t.equal(c.json().allowed, allowed, `${roles.join('+')} size ${size} at ${hour}h`);
  }
  const notScript = await put('global-plain', 'key: global-plain\nrules:\n  - subjects: ["*"]\n    grant: ["a:b"]\n');
  t.equal(notScript.status, 201);
  const bad = await send({ method: 'POST', url: '/v1/check', payload: { subject: 'u', policy: 'global-plain' } });
  t.equal(bad.status, 400);
});

t.test('script documents return effects, in their place in the path', async (t) => {
  await put('org-base', 'key: org-base\nordinal: 1\nrules:\n  - subjects: ["*"]\n    grant: ["doc:*"]\n');
  const script = [
    'key: org-script',
    'kind: lua',
    'ordinal: 2',
    'script: |',
    '  function can_execute(subject, resource, context)',
    '    if context.frozen then return { revoke = { "doc:write" }, deny = { "doc:purge" }, message = "frozen" } end',
    '    return { grant = { "report:read" } }',
    '  end',
    '',
  ].join('\n');
  t.equal((await put('org-script', script)).status, 201);
  const ev = async (context: object) => (await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'org', context } })).json();
  const frozen = await ev({ frozen: true });
  t.same(frozen.permissions, ['doc:*']);
  t.same(frozen.denied, ['doc:purge', 'doc:write']);
  t.same((await ev({ frozen: false })).permissions, ['doc:*', 'report:read']);
  const c = await send({ method: 'POST', url: '/v1/check', payload: { subject: 'u', namespace: 'org', context: { frozen: true }, permission: 'doc:purge' } });
  t.same(c.json().reason, { text: 'frozen', rule: 'can_execute', document: 'org-script' });
});

t.test('rule-level lua beside when', async (t) => {
  const doc = 'key: team-x\nrules:\n  - subjects: ["*"]\n    when: context.hour >= 9\n    lua: \'return #subject.roles > 1 and resource.attributes.size < 10\'\n    grant: ["team:*"]\n';
  t.equal((await put('team-x', doc)).status, 201);
  const ev = async (roles: string[], hour: number, size: number) =>
    (await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', roles }, namespace: 'team', context: { hour }, resource: { attributes: { size } } } })).json().permissions;
  t.same(await ev(['a', 'b'], 10, 1), ['team:*']);
  t.same(await ev(['a'], 10, 1), []);
  t.same(await ev(['a', 'b'], 8, 1), [], 'when is false: lua does not even run');
  t.same(await ev(['a', 'b'], 10, 50), []);
});

t.test('facts: emitted by scripts, declared in the registry, read by later rules', async (t) => {
  // With a registry every attribute a stored condition reads must be declared.
  const registry = 'key: global-attributes\nkind: registry\ncontext:\n  hour: { type: number }\nresource:\n  size: { type: number }\nfacts:\n  risk: { type: number }\n';
  const reg = await put('global-attributes', registry);
  t.equal(reg.status, 201, reg.body);
  const script = 'key: risk-score\nkind: lua\nordinal: 1\nscript: |\n  function can_execute(subject, resource, context)\n    policy.emit("risk", #subject.roles * 10)\n    return true\n  end\n';
  t.equal((await put('risk-score', script)).status, 201);
  const rule = 'key: risk-rules\nordinal: 2\nrules:\n  - subjects: ["*"]\n    when: facts.risk < 15.0\n    grant: ["low:*"]\n';
  t.equal((await put('risk-rules', rule)).status, 201, 'the condition is typed against the declared fact');
  const ev = async (roles: string[]) => (await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', roles }, namespace: 'risk' } })).json();
  const low = await ev(["a"]);
  t.same(low.permissions, ["low:*"], JSON.stringify(low));
  t.same((await ev(['a', 'b'])).permissions, []);
  const undeclared = 'key: risk-other\nkind: lua\nordinal: 0\nonError: skip\nscript: |\n  function can_execute(subject, resource, context)\n    policy.emit("secret", 1)\n    return true\n  end\n';
  t.equal((await put('risk-other', undeclared)).status, 201);
  const r = await ev(['a']);
  t.match(r.conditionErrors?.[0]?.error, /fact "secret" is not declared/);
  t.same(r.permissions, ['low:*'], 'onError: skip applies nothing');
  await send({ method: 'DELETE', url: '/v1/policies/risk-other' });
});

t.test('write-time checks: syntax and sandbox names with their line', async (t) => {
  const docs: Array<[string, RegExp]> = [
    ['function can_execute(s)\n  return s.x ==\nend\n', /syntax error.*script line 3/],
    ['function can_execute(s)\n  return os.time() > 0\nend\n', /'os' is not available in the sandbox \(script line 2/],
    ['function can_execute(s)\n  return require("x")\nend\n', /'require' is not available/],
    ['function can_execute(s)\n  return ("a"):find("a") ~= nil\nend\n', /string\.find is not available/],
    ['function can_execute(s)\n  return load("return true")()\nend\n', /'load' is not available/],
    ['x = 1\n', /must define can_execute/],
  ];
  for (const [script, message] of docs) {
    const body = `key: bad-script\nkind: lua\nscript: |\n${script.split('\n').map((l) => `  ${l}`).join('\n')}\n`;
    const r = await put('bad-script', body);
    t.equal(r.status, 422, script);
    t.match(r.json().details.map((d: { message: string }) => d.message).join('\n'), message);
  }
  const ruleLua = await put('bad-rule', 'key: bad-rule\nrules:\n  - subjects: ["*"]\n    lua: return debug.traceback()\n    grant: ["a:b"]\n');
  t.equal(ruleLua.status, 422);
  t.match(ruleLua.json().details[0].path, 'rules[0].lua');
});
