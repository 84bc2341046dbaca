// Conditions: compile-time checks with positions, predicates, run-time semantics
// (fail closed), helpers, and the properties the language issue asks for.
import t from 'tap';
import fc from 'fast-check';
import { loadDocument } from '../../src/core/compile/load-document.js';
import { evaluatePolicies } from '../../src/core/evaluate/evaluate.js';
import { buildPlan, evaluatePlan } from '../../src/core/evaluate/plan.js';
import { checkPermission } from '../../src/core/evaluate/check.js';
import { inCidr, inTimeWindow, timeOfDay } from '../../src/core/condition/helpers.js';
function compile(doc) {
    const r = loadDocument(JSON.stringify(doc), 'json');
    if (!r.ok)
        throw new Error(JSON.stringify(r.errors));
    return r.loaded.policy;
}
function errorsOf(doc) {
    const r = loadDocument(JSON.stringify(doc), 'json');
    return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
}
const subject = (attributes = {}, roles = []) => ({ id: 'user:alice', roles, groups: [], attributes });
const opts = (now = new Date('2026-11-26T10:30:00Z')) => ({ defaultPermissions: ['*'], now });
t.test('conditions are checked when written, with their position', async (t) => {
    const rule = (when) => ({ key: 'global-c', rules: [{ subjects: ['*'], when, grant: ['a:read'] }] });
    t.same(errorsOf(rule('subject.attributes.mfa == true && context.hour >= 9')), []);
    t.match(errorsOf(rule('context.hour >= ')), [/^rules\[0\]\.when: .*\(expression line 1, column \d+\)$/]);
    t.match(errorsOf(rule('user.id == "x"')), [/Unknown variable: user \(expression line 1, column 1\)/]);
    t.match(errorsOf(rule('"a" + 1')), [/no such overload|not defined/i]);
    t.match(errorsOf(rule('"just a string"')), [/must be a bool/]);
    t.match(errorsOf(rule('[1,2].exists(x, [3].exists(y, y == x))')), [/may not be nested/]);
    t.match(errorsOf(rule('inCidr(context.ip)')), [/rules\[0\]\.when/]);
    const deep = '('.repeat(60) + 'true' + ')'.repeat(60);
    t.match(errorsOf(rule(deep)), [/rules\[0\]\.when/], 'depth is bounded');
    const long = Array.from({ length: 150 }, (_, i) => `context.k${i} == 1`).join(' || ');
    t.ok(long.length < 4096);
    t.match(errorsOf(rule(long)), [/rules\[0\]\.when/], 'size is bounded');
});
t.test('named predicates: references, unknown names, cycles, reserved names', async (t) => {
    const base = { key: 'global-p', rules: [{ subjects: ['*'], when: 'is_owner || is_admin', grant: ['doc:*'] }] };
    t.same(errorsOf({ ...base, predicates: { is_owner: 'resource.attributes.owner == subject.id', is_admin: '"admin" in subject.roles' } }), []);
    t.match(errorsOf({ ...base, predicates: { is_owner: 'true' } }), [/Unknown variable: is_admin/]);
    t.match(errorsOf({ ...base, predicates: { is_owner: 'is_admin', is_admin: 'is_owner' } }), [/cycle: .*is_owner.*is_admin|cycle: .*is_admin.*is_owner/]);
    t.match(errorsOf({ ...base, predicates: { is_owner: 'is_owner', is_admin: 'true' } }), [/cycle/]);
    t.match(errorsOf({ ...base, predicates: { subject: 'true', is_owner: 'true', is_admin: 'true' } }), [/reserved/]);
    t.match(errorsOf({ ...base, predicates: { 'Bad-Name': 'true' } }).join('\n'), /lower_snake_case/);
});
t.test('a rule applies only when its condition is true', async (t) => {
    const p = compile({
        key: 'global-hours',
        rules: [
            { id: 'base', subjects: ['*'], grant: ['doc:read'] },
            { id: 'office', subjects: ['*'], when: 'context.hour >= 9 && context.hour < 17', grant: ['doc:write'] },
            { id: 'mfa', subjects: ['*'], when: 'subject.attributes.mfa == true', grant: ['doc:delete'] },
            { id: 'lan', subjects: ['*'], when: 'inCidr(context.ip, "10.0.0.0/8")', grant: ['admin:*'] },
        ],
    });
    const run = (ctx, attrs = {}) => evaluatePolicies([p], { subject: subject(attrs), context: ctx, namespaces: ['global'] }, opts());
    t.same(run({ hour: 10, ip: '10.1.2.3' }, { mfa: true }).permissions, ['admin:*', 'doc:delete', 'doc:read', 'doc:write']);
    t.same(run({ hour: 8, ip: '192.168.0.1' }, { mfa: false }).permissions, ['doc:read']);
    // Missing inputs are errors: the rule does not apply, and the failure is reported.
    const missing = run({});
    t.same(missing.permissions, ['doc:read']);
    t.same(missing.conditionErrors?.map((e) => e.rule), ['office', 'mfa', 'lan']);
    // An integer in JSON is a CEL int: equality with an int literal holds.
    const eq = compile({ key: 'global-eq', rules: [{ subjects: ['*'], when: 'context.level == 3', grant: ['x:y'] }] });
    t.same(evaluatePolicies([eq], { subject: subject(), context: { level: 3 }, namespaces: ['global'] }, opts()).permissions, ['x:y']);
    // The plan path agrees with the walk.
    const plan = buildPlan([p]);
    for (const ctx of [{ hour: 10, ip: '10.0.0.1' }, { hour: 20 }, {}]) {
        const a = evaluatePolicies([p], { subject: subject({ mfa: true }), context: ctx, namespaces: ['global'] }, opts());
        const b = evaluatePlan(plan, { subject: subject({ mfa: true }), context: ctx, namespaces: ['global'] }, opts());
        t.same(b.permissions, a.permissions);
        t.same(b.conditionErrors, a.conditionErrors);
    }
});
t.test('ns, now, resource and the helpers', async (t) => {
    const p = compile({
        key: 'org-x',
        predicates: { working_hours: 'inTimeWindow(now, "09:00", "17:00", "Europe/Berlin")', owner: 'resource.attributes.owner == subject.id' },
        rules: [
            { id: 'in-org', subjects: ['*'], when: 'ns.name == "org" && ns.path.size() == 2', grant: ['org:read'] },
            { id: 'owner-hours', subjects: ['*'], when: 'owner && working_hours', grant: ['doc:edit'] },
            { id: 'small', subjects: ['*'], when: 'resource.attributes.size < 1024 && resource.type == "document"', grant: ['doc:delete'] },
            { id: 'lists', subjects: ['*'], when: 'hasAny(subject.roles, ["a", "b"]) && hasAll(subject.roles, ["a"])', grant: ['lists:ok'] },
        ],
    });
    const input = (now, owner = 'user:alice') => ({
        subject: subject({}, ['a']),
        resource: { type: 'document', id: 'd1', attributes: { owner, size: 512 } },
        namespaces: ['global', 'org'],
    });
    const morning = evaluatePolicies([p], input('x'), opts(new Date('2026-11-26T09:30:00Z')));
    t.same(morning.permissions, ['doc:delete', 'doc:edit', 'lists:ok', 'org:read'], '10:30 in Berlin');
    const night = evaluatePolicies([p], input('x'), opts(new Date('2026-11-26T22:00:00Z')));
    t.same(night.permissions, ['doc:delete', 'lists:ok', 'org:read']);
    const explained = evaluatePolicies([p], input('x', 'user:bob'), { ...opts(), explain: true });
    t.same(explained.trace?.[0]?.predicates, { owner: { value: false } }, 'owner evaluated once, working_hours short-circuited');
    t.same(explained.trace?.[0]?.rules[1]?.condition, { value: false });
    t.equal(timeOfDay(new Date('2026-06-01T12:00:00Z'), 'America/New_York'), '08:00');
    t.ok(inTimeWindow(new Date('2026-06-01T23:30:00Z'), '22:00', '06:00', 'UTC'), 'windows wrap midnight');
    t.ok(inCidr('2001:db8::1', '2001:db8::/32'));
    t.notOk(inCidr('10.0.0.1', '192.168.0.0/16'));
    t.throws(() => inCidr('nope', '10.0.0.0/8'));
    t.throws(() => timeOfDay(new Date(), 'Mars/Olympus'));
});
t.test('hostile inputs to conditions fail closed', async (t) => {
    const p = compile({ key: 'global-h', rules: [{ subjects: ['*'], when: 'context.items.exists(i, i == "x")', grant: ['a:b'] }] });
    const huge = Array.from({ length: 30_000 }, () => 'y');
    const d = evaluatePolicies([p], { subject: subject(), context: { items: huge }, namespaces: ['global'] }, opts());
    t.same(d.permissions, []);
    t.match(d.conditionErrors?.[0]?.error, /larger than/);
    let nested = 'x';
    for (let i = 0; i < 40; i++)
        nested = [nested];
    const d2 = evaluatePolicies([p], { subject: subject(), context: { items: nested }, namespaces: ['global'] }, opts());
    t.same(d2.permissions, []);
});
// Properties (issue 3): a false condition changes nothing; a throwing one never adds.
const pattern = fc.constantFrom('a:read', 'a:*', 'b:*', '*', 'b:x:*', 'a:write');
const ruleArb = fc.record({
    subjects: fc.constant(['*']),
    grant: fc.array(pattern, { maxLength: 2 }),
    revoke: fc.array(pattern, { maxLength: 1 }),
    deny: fc.array(pattern, { maxLength: 1 }),
}).filter((r) => r.grant.length + r.revoke.length + r.deny.length > 0);
t.test('properties: false conditions change nothing; failing ones never add a permission', async (t) => {
    let runs = 0;
    const perms = ['a:read', 'a:write', 'b:read', 'b:x:y'];
    fc.assert(fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 4 }), ruleArb, fc.nat(4), fc.constantFrom('false', 'context.missing == 1', '1 / context.zero == 1'), (rules, extra, at, when) => {
        runs++;
        const base = compile({ key: 'global-base', rules });
        const withRule = [...rules];
        withRule.splice(Math.min(at, rules.length), 0, { ...extra, when });
        const changed = compile({ key: 'global-base', rules: withRule });
        const input = { subject: subject(), context: { zero: 0 }, namespaces: ['global'] };
        const a = evaluatePolicies([base], input, opts());
        const b = evaluatePolicies([changed], input, opts());
        for (const p of perms) {
            const before = checkPermission(a, p).allowed;
            const after = checkPermission(b, p).allowed;
            // A false condition: exactly the same answer. A failing one: never more allowed
            // (its revoke and deny still apply, its grant never does).
            if (when === 'false' ? before !== after : after && !before)
                return false;
        }
        if (when === 'false' && JSON.stringify([a.permissions, a.denied]) !== JSON.stringify([b.permissions, b.denied]))
            return false;
        return true;
    }), { numRuns: 3000 });
    t.comment(`${runs} generated policy pairs`);
    t.pass('property held');
});
