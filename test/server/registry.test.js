// The attribute registry end to end (issue 3 item 2): conditions typed when written,
// requests validated, registry changes that would break stored policies refused.
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { injectSender } from '../helpers/http.js';
const { app } = await testApp(t);
const send = injectSender(app);
const yaml = { 'content-type': 'application/yaml' };
const put = (key, payload) => send({ method: 'PUT', url: `/v1/policies/${key}`, headers: yaml, payload });
const REGISTRY = `key: global-attributes
kind: registry
description: What requests carry
subject:
  mfa: { type: bool }
  department: { type: string, maxLength: 32, required: true }
  clearances: { type: string_list, maxItems: 3 }
context:
  ip: { type: ip }
  hour: { type: number }
  since: { type: datetime }
resource:
  size: { type: number }
`;
t.test('without a registry conditions are untyped', async (t) => {
    const r = await put('global-free', 'key: global-free\nrules:\n  - subjects: ["*"]\n    when: context.anything == "x"\n    grant: ["free:*"]\n');
    t.equal(r.status, 201, r.body);
    t.equal((await send({ method: 'DELETE', url: '/v1/policies/global-free' })).status, 204);
});
t.test('a registry is stored, never run, and types conditions', async (t) => {
    const r = await put('global-attributes', REGISTRY);
    t.equal(r.status, 201, r.body);
    const ev = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', attributes: { department: 'ops' } }, namespace: 'global' } });
    t.equal(ev.json().default, true, 'the registry is not a policy of the path');
    const ok = await put('global-mfa', 'key: global-mfa\nrules:\n  - subjects: ["*"]\n    when: subject.attributes.mfa && inCidr(context.ip, "10.0.0.0/8") && context.hour >= 9.0\n    grant: ["doc:*"]\n');
    t.equal(ok.status, 201, ok.body);
    const unknown = await put('global-bad', 'key: global-bad\nrules:\n  - subjects: ["*"]\n    when: subject.attributes.nope == true\n    grant: ["doc:*"]\n');
    t.equal(unknown.status, 422);
    t.match(unknown.json().details[0].message, /No such key: nope/);
    t.equal(unknown.json().details[0].path, 'rules[0].when');
    const wrongType = await put('global-bad', 'key: global-bad\nrules:\n  - subjects: ["*"]\n    when: subject.attributes.mfa == "yes"\n    grant: ["doc:*"]\n');
    t.equal(wrongType.status, 422);
    t.match(wrongType.json().details[0].message, /overload/);
});
t.test('requests are validated against the registry', async (t) => {
    const body = (attributes, context = {}) => ({ subject: { id: 'u', attributes }, namespace: 'global', context });
    const good = await send({ method: 'POST', url: '/v1/evaluate', payload: body({ department: 'ops', mfa: true }, { ip: '10.1.1.1', hour: 10, since: '2026-01-01T00:00:00Z' }) });
    t.equal(good.status, 200, good.body);
    t.same(good.json().permissions, ['doc:*']);
    const cases = [
        [{ department: 'ops', mfa: 'yes' }, {}, /subject\.attributes\.mfa must be a boolean/],
        [{ mfa: true }, {}, /subject\.attributes\.department is required/],
        [{ department: 'x'.repeat(33) }, {}, /at most 32 characters/],
        [{ department: 'ops', clearances: ['a', 'b', 'c', 'd'] }, {}, /at most 3 items/],
        [{ department: 'ops' }, { ip: '999.1.1.1' }, /context\.ip must be an IPv4 or IPv6 address/],
        [{ department: 'ops' }, { since: 'yesterday' }, /context\.since must be an ISO-8601/],
        [{ department: 'ops' }, { hour: '10' }, /context\.hour must be a number/],
    ];
    for (const [attributes, context, message] of cases) {
        const r = await send({ method: 'POST', url: '/v1/evaluate', payload: body(attributes, context) });
        t.equal(r.status, 400, JSON.stringify(attributes));
        t.equal(r.json().code, 'ATTRIBUTE_INVALID');
        t.match(r.json().message, message);
    }
    const noMfa = await send({ method: 'POST', url: '/v1/evaluate', payload: body({ department: 'ops' }, { ip: '10.1.1.1', hour: 10 }) });
    t.same(noMfa.json().permissions, [], 'an absent optional attribute makes the condition fail closed');
});
t.test('registry changes that would break a stored policy are refused', async (t) => {
    const narrowed = REGISTRY.replace('  mfa: { type: bool }\n', '');
    const r = await put('global-attributes', narrowed);
    t.equal(r.status, 422);
    t.equal(r.json().details[0].document, 'global-mfa');
    const second = await put('global-other', REGISTRY.replace('global-attributes', 'global-other'));
    t.equal(second.status, 409);
    t.equal(second.json().code, 'REGISTRY_CONFLICT');
    const elsewhere = await put('org-attributes', REGISTRY.replace('global-attributes', 'org-attributes'));
    t.equal(elsewhere.status, 422);
    const widened = await put('global-attributes', REGISTRY.replace('  hour: { type: number }\n', '  hour: { type: number }\n  tenant: { type: string }\n'));
    t.equal(widened.status, 200, widened.body);
});
t.test('deleting the registry makes conditions untyped again', async (t) => {
    t.equal((await send({ method: 'DELETE', url: '/v1/policies/global-attributes' })).status, 204);
    const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: { id: 'u', attributes: { mfa: true } }, namespace: 'global', context: { ip: '10.0.0.1', hour: 10 } } });
    t.equal(r.status, 200, r.body);
    t.same(r.json().permissions, ['doc:*']);
});
