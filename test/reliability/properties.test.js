// Properties of the whole service (HTTP inject over a shared MemoryStore): fast-check
// builds policy sets spread over three namespaces, subjects and namespace paths, writes
// them through the REST API, asks, changes one document (replace, delete or add) through
// either instance, and asks again. Checked on every answer:
//   - the cache never changes an answer: the first (computed) answer, the cached answer,
//     and a second service with CACHE_MAX=0 agree, before and after the write;
//   - evaluation is deterministic (explain, repeated, and cached answers agree);
//   - POST /v1/check agrees with the reference evaluator (test/reference) on every
//     permission of a universe that separates all the generated patterns.
import t from 'tap';
import fc from 'fast-check';
import { testApp } from '../helpers/app.js';
import { injectSender } from '../helpers/http.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { concretePermissions, refAllowed, refAllowedByLists } from '../reference/reference-evaluator.js';
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
/** Patterns over {a, b, *} with ≤ 3 segments are told apart by permissions over {a, b, z} with ≤ 4. */
const UNIVERSE = concretePermissions(['a', 'b', 'z'], 4);
const NS = ['a', 'b', 'c'];
/** Namespace paths by namespace letter; `e` never holds a document (the default answers). */
const PATHS = [['a'], ['a', 'b'], ['a', 'b', 'c'], ['b', 'c'], ['c'], ['a', 'e'], ['e'], ['c', 'a']];
const patternArb = fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));
const matcherArb = fc.constantFrom('*', '*', 'alice', 'bob', 'id:alice', 'role:admin', 'role:editor', 'group:team', 'group:ops', 'id:role:admin');
const listArb = (weight) => fc.oneof({ weight, arbitrary: fc.array(patternArb, { minLength: 1, maxLength: 2 }) }, { weight: 4 - weight, arbitrary: fc.constant(undefined) });
const ruleArb = fc
    .record({ subjects: fc.array(matcherArb, { minLength: 1, maxLength: 2 }), grant: listArb(3), revoke: listArb(1), deny: listArb(1) })
    .map(({ subjects, grant, revoke, deny }) => {
    const r = { subjects };
    if (grant)
        r.grant = grant;
    if (revoke)
        r.revoke = revoke;
    if (deny)
        r.deny = deny;
    if (!grant && !revoke && !deny)
        r.grant = ['a:*'];
    return r;
});
const docArb = fc
    .record({
    ns: fc.nat({ max: 2 }),
    ordinal: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    disabled: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    rules: fc.array(ruleArb, { minLength: 1, maxLength: 3 }),
})
    .map(({ ns, ordinal, disabled, rules }) => ({ ns, rules, ...(ordinal !== undefined ? { ordinal } : {}), ...(disabled ? { disabled } : {}) }));
const subjectArb = fc.record({
    id: fc.constantFrom('alice', 'bob', 'carol', 'role:admin'),
    roles: fc.subarray(['admin', 'editor']),
    groups: fc.subarray(['team', 'ops']),
});
const queryArb = fc.record({ subject: subjectArb, path: fc.nat({ max: PATHS.length - 1 }) });
const changeArb = fc.oneof(fc.record({ kind: fc.constant('replace'), at: fc.nat(), doc: docArb }), fc.record({ kind: fc.constant('delete'), at: fc.nat() }), fc.record({ kind: fc.constant('add'), doc: docArb }));
const scenarioArb = fc.record({
    docs: fc.array(docArb, { minLength: 1, maxLength: 6 }),
    queries: fc.array(queryArb, { minLength: 1, maxLength: 5 }),
    change: changeArb,
    writeThroughB: fc.boolean(),
});
// ------------------------------------------------------------------ the services
const store = new MemoryStore();
// Two services on one store: A caches, B does not. A write through either reaches both.
const a = await testApp(t, { store });
const b = await testApp(t, { store, env: { CACHE_MAX: '0' } });
const sendA = injectSender(a.app);
const sendB = injectSender(b.app);
let run = 0;
const counts = { cachedWithCacheMax0: 0, runs: 0, evaluations: 0, cachedAnswers: 0, checks: 0, permissionsChecked: 0, defaults: 0, writes: 0 };
function documentOf(s) {
    return { key: s.key, rules: s.doc.rules, ...(s.doc.ordinal !== undefined ? { ordinal: s.doc.ordinal } : {}), ...(s.doc.disabled ? { disabled: true } : {}) };
}
/** SPEC §2 run order: namespaces left to right; inside one, by ordinal (absent last), then key. */
function refDocuments(stored, path) {
    const out = [];
    for (const ns of path) {
        const here = stored.filter((s) => s.ns === ns).sort((x, y) => {
            const ox = x.doc.ordinal;
            const oy = y.doc.ordinal;
            if (ox !== oy)
                return ox === undefined ? 1 : oy === undefined ? -1 : ox - oy;
            return x.key < y.key ? -1 : x.key > y.key ? 1 : 0;
        });
        for (const s of here)
            out.push({ key: s.key, disabled: s.doc.disabled === true, rules: s.doc.rules });
    }
    return out;
}
const summaryOf = (r) => JSON.stringify([r.permissions, r.denied, r.default, r.exact, r.policies, r.namespaces]);
async function post(send, url, payload) {
    const r = await send({ method: 'POST', url, payload });
    if (r.status !== 200)
        throw new Error(`${url} ${JSON.stringify(payload)} → ${r.status} ${r.body}`);
    return r.json();
}
async function ask(stored, queries, names, phase) {
    for (const q of queries) {
        const path = PATHS[q.path].map(names);
        const body = { subject: { id: q.subject.id, roles: [...q.subject.roles], groups: [...q.subject.groups] }, namespace: path.join('.') };
        const docs = refDocuments(stored, path);
        const where = `${phase}: ${JSON.stringify(body)}\ndocuments: ${JSON.stringify(docs)}`;
        const first = await post(sendA, '/v1/evaluate', body);
        const again = await post(sendA, '/v1/evaluate', body);
        const uncached = await post(sendB, '/v1/evaluate', body);
        const explained = await post(sendB, '/v1/evaluate', { ...body, explain: true });
        counts.evaluations += 4;
        if (again.cached === true)
            counts.cachedAnswers++;
        else if (first.cached !== true)
            throw new Error(`the second identical call was not served from the cache\n${where}`);
        // Counted, not thrown: the comparison below is what matters for correctness.
        if (uncached.cached !== false || explained.cached !== false)
            counts.cachedWithCacheMax0++;
        const s = summaryOf(first);
        if (summaryOf(again) !== s)
            throw new Error(`cached answer differs: ${summaryOf(again)} vs ${s}\n${where}`);
        if (summaryOf(uncached) !== s)
            throw new Error(`CACHE_MAX=0 answer differs: ${summaryOf(uncached)} vs ${s}\n${where}`);
        if (summaryOf(explained) !== s)
            throw new Error(`explain changes the answer: ${summaryOf(explained)} vs ${s}\n${where}`);
        if ((first.default === true) !== (docs.length === 0))
            throw new Error(`default is ${first.default} with ${docs.length} documents\n${where}`);
        if (first.default === true)
            counts.defaults++;
        const checkBody = { ...body, permissions: UNIVERSE };
        const results = [await post(sendA, '/v1/check', checkBody), await post(sendA, '/v1/check', checkBody), await post(sendB, '/v1/check', checkBody)];
        counts.checks += 3;
        const [c0, c1, c2] = results.map((r) => r.results);
        if (JSON.stringify(c1) !== JSON.stringify(c0) || JSON.stringify(c2) !== JSON.stringify(c0))
            throw new Error(`check answers differ between cached, cached again and uncached\n${where}`);
        for (const x of UNIVERSE) {
            counts.permissionsChecked++;
            const want = refAllowed(docs, q.subject, x, ['*']);
            if (c0[x] !== want)
                throw new Error(`check(${x}) = ${c0[x]}, the reference says ${want}\n${where}\nanswer: ${s}`);
            const byLists = refAllowedByLists(first.permissions, first.denied, x);
            if (first.exact === true ? byLists !== want : byLists && !want)
                throw new Error(`the lists read ${x} as ${byLists}, the reference says ${want}\n${where}\nanswer: ${s}`);
        }
    }
}
async function write(send, s) {
    const r = await send({ method: 'PUT', url: `/v1/policies/${s.key}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(documentOf(s)) });
    if (r.status !== 200 && r.status !== 201)
        throw new Error(`PUT ${s.key}: ${r.status} ${r.body}`);
    counts.writes++;
}
t.test('the cache never changes an answer; evaluation is deterministic; check agrees with the reference', async (t) => {
    const started = Date.now();
    await fc.assert(fc.asyncProperty(scenarioArb, async ({ docs, queries, change, writeThroughB }) => {
        // Fresh namespaces per run: runs (and fast-check's shrinking re-runs) never see each other.
        const id = ++run;
        const names = (l) => `r${id}${l}`;
        const stored = docs.map((doc, i) => ({ key: `${names(NS[doc.ns])}-d${i}`, ns: names(NS[doc.ns]), doc }));
        const imported = await sendA({ method: 'POST', url: '/v1/policies', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(stored.map(documentOf)) });
        if (imported.status !== 200)
            throw new Error(`import: ${imported.status} ${imported.body}`);
        counts.writes += stored.length;
        await ask(stored, queries, names, 'after the import');
        // One change through either instance; cached answers of A must follow it at once.
        const via = writeThroughB ? sendB : sendA;
        if (change.kind === 'replace') {
            const target = stored[change.at % stored.length];
            target.doc = { ...change.doc, ns: target.doc.ns };
            await write(via, target);
        }
        else if (change.kind === 'delete') {
            const [gone] = stored.splice(change.at % stored.length, 1);
            const r = await via({ method: 'DELETE', url: `/v1/policies/${gone.key}` });
            if (r.status !== 204)
                throw new Error(`DELETE ${gone.key}: ${r.status} ${r.body}`);
            counts.writes++;
        }
        else {
            const added = { key: `${names(NS[change.doc.ns])}-d9`, ns: names(NS[change.doc.ns]), doc: change.doc };
            stored.push(added);
            await write(via, added);
        }
        await ask(stored, queries, names, `after ${change.kind} through ${writeThroughB ? 'B' : 'A'}`);
        counts.runs++;
    }), { numRuns: NUM_RUNS });
    const ms = Date.now() - started;
    t.ok(counts.cachedAnswers > 0 && counts.defaults > 0, 'the runs exercised cached answers and the default');
    // README: "CACHE_MAX … (0 disables it)". DecisionCache keeps max(1, CACHE_MAX) entries.
    t.equal(counts.cachedWithCacheMax0, 0, 'a service with CACHE_MAX=0 never answers from a cache');
    t.pass(`${counts.runs} scenarios`);
    t.comment(`${counts.runs} scenarios (${NUM_RUNS} runs), ${counts.writes} writes, ${counts.evaluations} evaluations (${counts.cachedAnswers} cached answers compared, ` +
        `${counts.defaults} default answers), ${counts.checks} check calls, ${counts.permissionsChecked} permissions compared with the reference, in ${ms} ms`);
});
