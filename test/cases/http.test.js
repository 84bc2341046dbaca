// The language cases (test/cases/evaluation/*.yaml) over real HTTP, against a running
// service on a loopback port: cases without `namespace` through the `policies` mode of
// POST /v1/evaluate and /v1/check; cases with one by storing their documents (PUT),
// evaluating the path, and deleting them again — so store writes, cache invalidation
// and the default for an emptied path are exercised too.
import t from 'tap';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { testApp } from '../helpers/app.js';
import { httpSender } from '../helpers/http.js';
import { CASES_DIR, decisionMismatches, loadCases } from './run-cases.js';
const cases = loadCases(join(CASES_DIR, 'evaluation'));
const { app } = await testApp(t);
const send = await httpSender(app);
function keyOf(doc) {
    if (typeof doc !== 'string')
        return String(doc.key);
    try {
        return String(yaml.load(doc, { schema: yaml.CORE_SCHEMA }).key);
    }
    catch {
        return 'global-unparseable';
    }
}
/** Store the case's documents; the error code of the first refused write, if any. */
async function store(c) {
    for (const doc of c.policies) {
        const r = typeof doc === 'string'
            ? await send({ method: 'PUT', url: `/v1/policies/${encodeURIComponent(keyOf(doc))}`, headers: { 'content-type': 'application/yaml' }, payload: doc })
            : await send({ method: 'PUT', url: `/v1/policies/${encodeURIComponent(keyOf(doc))}`, payload: doc });
        if (r.status >= 400)
            return r.json().code;
    }
    return undefined;
}
async function clear() {
    const list = await send({ method: 'GET', url: '/v1/policies?limit=500' });
    for (const item of list.json().items) {
        const r = await send({ method: 'DELETE', url: `/v1/policies/${encodeURIComponent(item.key)}` });
        if (r.status !== 204)
            throw new Error(`DELETE ${item.key}: ${r.status}`);
    }
}
let checked = 0;
for (const c of cases) {
    t.test(c.name, async (t) => {
        const target = c.namespace !== undefined ? { namespace: c.namespace } : { policies: c.policies };
        try {
            if (c.namespace !== undefined) {
                const refused = await store(c);
                if (refused !== undefined || c.want_error_code === 'POLICY_INVALID') {
                    t.equal(refused, c.want_error_code, `PUT refused with ${c.want_error_code}`);
                    return;
                }
            }
            const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: c.subject, ...target } });
            if (c.want_error_code !== undefined) {
                t.equal(r.json().code, c.want_error_code, `refused with ${c.want_error_code} (${r.status})`);
                t.ok(r.status >= 400 && r.status < 500, 'a client error');
                return;
            }
            t.equal(r.status, 200, r.body.slice(0, 300));
            t.strictSame(decisionMismatches(c.want, r.json()), [], 'the decision is the one wanted');
            const permissions = Object.keys(c.checks ?? {});
            if (permissions.length > 0) {
                const k = await send({ method: 'POST', url: '/v1/check', payload: { subject: c.subject, ...target, permissions } });
                t.equal(k.status, 200, k.body.slice(0, 300));
                t.strictSame(k.json().results, c.checks, 'POST /v1/check answers every check');
                checked += permissions.length;
            }
        }
        finally {
            if (c.namespace !== undefined)
                await clear();
        }
    });
}
t.test('totals', async (t) => {
    t.ok(cases.length >= 50, `${cases.length} cases over HTTP, ${checked} checks`);
});
