// The HTTP API behaviour of SPEC §3–§5, as one suite run against every store: the
// in-memory one through inject(), MongoDB (FerretDB) and the file store over real HTTP.
import { editorsPolicy } from '../helpers/policies.js';
const BASE = editorsPolicy({ comment: 'Everyone reads documents; editors manage them but cannot purge', ordinal: 10 });
const ORG = `key: org-admins
rules:
  - subjects: ["role:admin"]
    grant: ["*"]
    revoke: ["billing:*"]
`;
const TENANT_NS = 'org:57af7f6d-f6f7-4af1-b182-3a30440fa781';
const TENANT = JSON.stringify({
    key: `${TENANT_NS}-owners`,
    namespace: TENANT_NS,
    rules: [{ subjects: ['user:alice'], grant: ['billing:read'] }],
});
const PATH = `global.org.${TENANT_NS}`;
const yamlHeaders = { 'content-type': 'application/yaml' };
export function apiSuite(t, send) {
    const evaluate = async (body) => {
        const r = await send({ method: 'POST', url: '/v1/evaluate', payload: body });
        t.equal(r.status, 200, `evaluate ${JSON.stringify(body).slice(0, 120)} → ${r.body.slice(0, 300)}`);
        return r.json();
    };
    return (async () => {
        await t.test('an empty database answers the default', async (t) => {
            const r = await evaluate({ subject: 'user:alice', namespace: PATH });
            t.same(r.permissions, ['*']);
            t.equal(r.default, true);
            t.same(r.namespaces, ['global', 'org', TENANT_NS]);
            t.same(r.policies, []);
        });
        let baseEtag = '';
        await t.test('PUT YAML creates, keeps the original text, answers ETag', async (t) => {
            const r = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: yamlHeaders, payload: BASE });
            t.equal(r.status, 201, r.body);
            baseEtag = r.headers.etag;
            t.match(baseEtag, /^"[^"]+"$/);
            t.equal(r.json().namespace, 'global');
            const y = await send({ method: 'GET', url: '/v1/policies/global-base', headers: { accept: 'application/yaml' } });
            t.equal(y.status, 200);
            t.equal(y.body, BASE, 'byte-for-byte, comment included');
            t.match(y.headers['content-type'], /application\/yaml/);
            t.equal(y.headers.etag, baseEtag);
            const j = await send({ method: 'GET', url: '/v1/policies/global-base' });
            t.equal(j.json().key, 'global-base');
            t.equal(j.json().rules[1].deny[0], 'document:purge');
            const nm = await send({ method: 'GET', url: '/v1/policies/global-base', headers: { 'if-none-match': baseEtag } });
            t.equal(nm.status, 304);
        });
        await t.test('JSON and an explicit namespace holding a "-"', async (t) => {
            const r = await send({ method: 'PUT', url: `/v1/policies/${TENANT_NS}-owners`, headers: { 'content-type': 'application/json' }, payload: TENANT });
            t.equal(r.status, 201, r.body);
            t.equal(r.json().namespace, TENANT_NS);
            const g = await send({ method: 'GET', url: `/v1/policies/${TENANT_NS}-owners` });
            t.equal(g.body, TENANT, 'JSON text kept as sent');
            const y = await send({ method: 'GET', url: `/v1/policies/${TENANT_NS}-owners`, headers: { accept: 'application/yaml' } });
            t.match(y.body, /namespace: ['"]?org:57af7f6d/);
            const o = await send({ method: 'PUT', url: '/v1/policies/org-admins', headers: { 'content-type': 'text/yaml' }, payload: ORG });
            t.equal(o.status, 201, o.body);
        });
        await t.test('evaluate a namespace path, cached on the second call', async (t) => {
            const subject = { id: 'user:alice', roles: ['editor'] };
            const a = await evaluate({ subject, namespace: PATH });
            t.same(a.permissions, ['billing:read', 'document:*']);
            t.same(a.denied, ['document:purge']);
            t.equal(a.default, false);
            t.equal(a.exact, true);
            t.same(a.policies, ['global-base', 'org-admins', `${TENANT_NS}-owners`]);
            t.equal(a.cached, false);
            t.type(a.revision, 'string');
            const b = await evaluate({ subject, namespace: PATH });
            t.equal(b.cached, true);
            t.same(b.permissions, a.permissions);
            const admin = await evaluate({ subject: { id: 'user:bob', roles: ['admin'] }, namespace: 'global.org' });
            t.same(admin.permissions, ['*']);
            t.same(admin.denied, ['billing:*']);
            const nobody = await evaluate({ subject: 'user:zed', namespace: 'org' });
            t.same(nobody.permissions, []);
            t.equal(nobody.default, false);
            const explained = await evaluate({ subject, namespace: 'global', explain: true });
            t.equal(explained.trace[0].document, 'global-base');
            t.same(explained.trace[0].rules.map((r) => r.subjectMatched), [true, true]);
            t.same(explained.trace[0].rules[1].effects, { grant: ['document:*'], deny: ['document:purge'] });
            const legacy = await send({ method: 'POST', url: '/evaluate', payload: { subject, namespace: 'global' } });
            t.equal(legacy.status, 200);
            t.same(legacy.json().permissions, ['document:*']);
        });
        await t.test('check: one permission, several, and the reason of a denial', async (t) => {
            const subject = { id: 'user:alice', roles: ['editor'] };
            const one = await send({ method: 'POST', url: '/v1/check', payload: { subject, namespace: 'global', permission: 'document:purge' } });
            t.equal(one.status, 200, one.body);
            t.equal(one.json().allowed, false);
            t.same(one.json().reason, { text: 'Purging documents needs an admin', rule: 'editors', document: 'global-base' });
            const many = await send({ method: 'POST', url: '/v1/check', payload: { subject, namespace: PATH, permissions: ['document:write', 'billing:read', 'billing:write', 'document:purge'] } });
            t.same(many.json().results, { 'document:write': true, 'billing:read': true, 'billing:write': false, 'document:purge': false });
            t.same(Object.keys(many.json().reasons), ['document:purge']);
            const bad = await send({ method: 'POST', url: '/v1/check', payload: { subject, namespace: 'global', permission: 'document:*' } });
            t.equal(bad.status, 400);
            t.equal(bad.json().code, 'PERMISSION_INVALID');
        });
        await t.test('a write invalidates the cached answer at once', async (t) => {
            const subject = { id: 'user:carol', roles: ['editor'] };
            t.same((await evaluate({ subject, namespace: 'global' })).permissions, ['document:*']);
            t.equal((await evaluate({ subject, namespace: 'global' })).cached, true);
            const changed = BASE.replace('grant: ["document:*"]', 'grant: ["document:write"]');
            const r = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: { ...yamlHeaders, 'if-match': baseEtag }, payload: changed });
            t.equal(r.status, 200, r.body);
            t.not(r.headers.etag, baseEtag);
            const after = await evaluate({ subject, namespace: 'global' });
            t.equal(after.cached, false);
            t.same(after.permissions, ['document:read', 'document:write']);
        });
        await t.test('If-Match and If-None-Match', async (t) => {
            const stale = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: { ...yamlHeaders, 'if-match': baseEtag }, payload: BASE });
            t.equal(stale.status, 412);
            t.equal(stale.json().code, 'PRECONDITION_FAILED');
            const exists = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: { ...yamlHeaders, 'if-none-match': '*' }, payload: BASE });
            t.equal(exists.status, 412);
            const current = await send({ method: 'GET', url: '/v1/policies/global-base' });
            const ok = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: { ...yamlHeaders, 'if-match': current.headers.etag }, payload: BASE });
            t.equal(ok.status, 200, ok.body);
            const y = await send({ method: 'GET', url: '/v1/policies/global-base', headers: { accept: 'application/yaml' } });
            t.equal(y.body, BASE);
            const del = await send({ method: 'DELETE', url: '/v1/policies/global-base', headers: { 'if-match': '"nope"' } });
            t.equal(del.status, 412);
        });
        await t.test('invalid documents: 422 with every error, nothing stored', async (t) => {
            const bad = 'key: global-bad\nrules:\n  - subjects: ["*"]\n    grant: ["a::b"]\n    color: red\n  - subjects: []\n';
            const r = await send({ method: 'PUT', url: '/v1/policies/global-bad', headers: yamlHeaders, payload: bad });
            t.equal(r.status, 422);
            const body = r.json();
            t.equal(body.code, 'POLICY_INVALID');
            t.equal(body.statusCode, 422);
            t.equal(body.error, 'Unprocessable Entity');
            const paths = body.details.map((d) => d.path);
            t.ok(paths.includes('rules[0].grant[0]'), 'bad pattern path');
            t.ok(paths.includes('rules[0].color'), 'unknown field');
            t.ok(paths.includes('rules[1].subjects'), 'empty subjects');
            t.ok(paths.includes('rules[1]'), 'no effect');
            t.ok(body.details.every((d) => typeof d.line === 'number'), 'YAML errors carry lines');
            t.equal((await send({ method: 'GET', url: '/v1/policies/global-bad' })).status, 404);
            const mismatch = await send({ method: 'PUT', url: '/v1/policies/global-other', headers: yamlHeaders, payload: BASE });
            t.equal(mismatch.status, 422);
            t.equal(mismatch.json().code, 'POLICY_KEY_MISMATCH');
            const nsMismatch = await send({ method: 'PUT', url: '/v1/policies/global-x', headers: yamlHeaders, payload: 'key: global-x\nnamespace: org\nrules: []\n' });
            t.equal(nsMismatch.status, 422);
            const noNs = await send({ method: 'PUT', url: '/v1/policies/global', headers: yamlHeaders, payload: 'key: global\nrules: []\n' });
            t.equal(noNs.status, 422);
            const badKey = await send({ method: 'PUT', url: '/v1/policies/global-a%20b', headers: yamlHeaders, payload: BASE });
            t.equal(badKey.status, 400);
            t.equal(badKey.json().code, 'KEY_INVALID');
            const malformed = await send({ method: 'PUT', url: '/v1/policies/global-m', headers: yamlHeaders, payload: 'key: [unclosed\n' });
            t.equal(malformed.status, 400);
            t.equal(malformed.json().code, 'BODY_MALFORMED');
            const bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nkey: global-bomb\nrules: []\n';
            const b = await send({ method: 'PUT', url: '/v1/policies/global-bomb', headers: yamlHeaders, payload: bomb });
            t.equal(b.status, 400);
            t.equal(b.json().code, 'BODY_MALFORMED');
            const tag = await send({ method: 'PUT', url: '/v1/policies/global-tag', headers: yamlHeaders, payload: 'key: !!js/function "x"\nrules: []\n' });
            t.equal(tag.status, 400);
            const media = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'text/plain' }, payload: BASE });
            t.equal(media.status, 415);
            t.equal(media.json().code, 'MEDIA_TYPE_UNSUPPORTED');
            const accept = await send({ method: 'GET', url: '/v1/policies/global-base', headers: { accept: 'text/html' } });
            t.equal(accept.status, 406);
            t.equal(accept.json().code, 'NOT_ACCEPTABLE');
        });
        await t.test('list by namespace, paginated', async (t) => {
            for (let i = 0; i < 5; i++) {
                await send({ method: 'PUT', url: `/v1/policies/list-p${i}`, headers: yamlHeaders, payload: `key: list-p${i}\nordinal: ${i}\nrules: []\n` });
            }
            const seen = [];
            let cursor = null;
            for (let page = 0; page < 5; page++) {
                const r = await send({ method: 'GET', url: `/v1/policies?namespace=list&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` });
                t.equal(r.status, 200, r.body);
                const body = r.json();
                t.ok(body.items.length <= 2);
                seen.push(...body.items.map((i) => i.key));
                cursor = body.cursor;
                if (!cursor)
                    break;
            }
            t.same(seen, ['list-p0', 'list-p1', 'list-p2', 'list-p3', 'list-p4']);
            const badLimit = await send({ method: 'GET', url: '/v1/policies?limit=100000' });
            t.equal(badLimit.status, 400);
            t.equal(badLimit.json().code, 'REQUEST_INVALID');
        });
        await t.test('bulk import: all validated before any is written', async (t) => {
            const stream = 'key: bulk-a\nrules:\n  - subjects: ["*"]\n    grant: ["a:read"]\n---\nkey: bulk-b\nordinal: 1\nrules:\n  - subjects: ["*"]\n    grant: ["b:read"]\n';
            const ok = await send({ method: 'POST', url: '/v1/policies', headers: yamlHeaders, payload: stream });
            t.equal(ok.status, 200, ok.body);
            t.same(ok.json().keys, ['bulk-a', 'bulk-b']);
            t.equal(ok.json().created, 2);
            t.same((await evaluate({ subject: 'x', namespace: 'bulk' })).permissions, ['a:read', 'b:read']);
            const bad = '[{"key":"bulk-c","rules":[]},{"key":"bulk-d","rules":[{"subjects":["*"],"grant":["::"]}]}]';
            const r = await send({ method: 'POST', url: '/v1/policies', headers: { 'content-type': 'application/json' }, payload: bad });
            t.equal(r.status, 422);
            t.match(r.json().details[0].path, /^\[1\]/);
            t.equal((await send({ method: 'GET', url: '/v1/policies/bulk-c' })).status, 404, 'nothing written');
        });
        await t.test('validate compiles without storing', async (t) => {
            const ok = await send({ method: 'POST', url: '/v1/validate', headers: yamlHeaders, payload: 'key: val-x\nrules: []\n' });
            t.same(ok.json(), { valid: true, documents: 1, errors: [], warnings: [] });
            const bad = await send({ method: 'POST', url: '/v1/validate', headers: yamlHeaders, payload: 'key: val-x\nrules:\n  - subjects: ["*"]\n' });
            t.equal(bad.status, 200);
            t.equal(bad.json().valid, false);
            t.equal(bad.json().errors[0].path, 'rules[0]');
            t.equal((await send({ method: 'GET', url: '/v1/policies/val-x' })).status, 404);
        });
        await t.test('policy and policies modes', async (t) => {
            const one = await evaluate({ subject: { id: 'u', roles: ['editor'] }, policy: 'global-base' });
            t.same(one.permissions, ['document:*']);
            t.same(one.policies, ['global-base']);
            const missing = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policy: 'global-missing' } });
            t.equal(missing.status, 404);
            t.equal(missing.json().code, 'POLICY_NOT_FOUND');
            const inline = await evaluate({
                subject: 'u',
                policies: [
                    'key: x-second\nordinal: 2\nrules:\n  - subjects: ["*"]\n    revoke: ["billing:*"]\n',
                    { key: 'x-first', ordinal: 1, rules: [{ subjects: ['*'], grant: ['*'] }] },
                ],
            });
            t.same(inline.permissions, ['*']);
            t.same(inline.denied, ['billing:*']);
            t.same(inline.policies, ['x-first', 'x-second']);
            const invalid = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policies: [{ key: 'x-a', rules: [{ subjects: ['*'] }] }] } });
            t.equal(invalid.status, 422);
            t.equal(invalid.json().code, 'POLICY_INVALID');
            t.match(invalid.json().details[0].path, /^policies\[0\]/);
        });
        await t.test('request errors carry stable codes', async (t) => {
            const cases = [
                [{ subject: 'u', namespace: 'a', policy: 'a-b' }, 400, 'MODE_INVALID'],
                [{ subject: 'u' }, 400, 'MODE_INVALID'],
                [{ subject: 'u', namespace: 'a-b' }, 400, 'NAMESPACE_INVALID'],
                [{ subject: 'u', namespace: 'a..b' }, 400, 'NAMESPACE_INVALID'],
                [{ subject: 'u', namespace: Array(33).fill('a').join('.') }, 400, 'NAMESPACE_INVALID'],
                [{ subject: 'u', namespace: 'x'.repeat(129) }, 400, 'NAMESPACE_INVALID'],
                [{ subject: '', namespace: 'a' }, 400, 'REQUEST_INVALID'],
                [{ namespace: 'a' }, 400, 'REQUEST_INVALID'],
                [{ subject: 'u', namespace: 'a', extra: 1 }, 400, 'REQUEST_INVALID'],
                ['{"subject": "u", "namespace": ', 400, 'BODY_MALFORMED'],
                ['{"subject":"u","namespace":"a","__proto__":{"x":1}}', 400, 'BODY_MALFORMED'],
            ];
            for (const [payload, status, code] of cases) {
                const r = await send({ method: 'POST', url: '/v1/evaluate', headers: { 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
                t.equal(r.status, status, `${JSON.stringify(payload).slice(0, 60)} → ${r.body.slice(0, 200)}`);
                t.equal(r.json().code, code);
            }
            const big = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'a', context: { blob: 'x'.repeat(2 * 1024 * 1024) } } });
            t.equal(big.status, 413);
            t.equal(big.json().code, 'BODY_TOO_LARGE');
            const nf = await send({ method: 'GET', url: '/v1/nothing' });
            t.equal(nf.status, 404);
            t.equal(nf.json().code, 'ROUTE_NOT_FOUND');
        });
        await t.test('disabled documents count as present; delete brings the default back', async (t) => {
            await send({ method: 'PUT', url: '/v1/policies/solo-only', headers: yamlHeaders, payload: 'key: solo-only\ndisabled: true\nrules:\n  - subjects: ["*"]\n    grant: ["*"]\n' });
            const r = await evaluate({ subject: 'u', namespace: 'solo' });
            t.same(r.permissions, []);
            t.equal(r.default, false);
            t.same(r.policies, []);
            const del = await send({ method: 'DELETE', url: '/v1/policies/solo-only' });
            t.equal(del.status, 204);
            t.equal((await send({ method: 'GET', url: '/v1/policies/solo-only' })).status, 404);
            const again = await send({ method: 'DELETE', url: '/v1/policies/solo-only' });
            t.equal(again.status, 404);
            t.equal(again.json().code, 'POLICY_NOT_FOUND');
            const d = await evaluate({ subject: 'u', namespace: 'solo' });
            t.equal(d.default, true);
            t.same(d.permissions, ['*']);
        });
        await t.test('health and readiness', async (t) => {
            t.same((await send({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
            const ready = await send({ method: 'GET', url: '/readyz' });
            t.equal(ready.status, 200);
            t.equal(ready.json().status, 'ready');
        });
    })();
}
