// What every peer is given: the realistic policy set (3 namespaces, 50 documents, 5
// rules each), a shared list of (subject, permission) requests on its path, and our
// engine's answers to them, which every peer must reproduce before it is benchmarked.
//
// The meaning to reproduce (SPEC §2), for one concrete permission: run the applied
// rules in order (namespaces left to right, documents by ordinal then key, rules as
// written; inside a rule grant, then revoke, then deny): a matching grant allows unless
// a deny has blocked it, a matching revoke disallows, a matching deny disallows for
// good. Equivalently: allowed ⇔ no applicable deny matches, and among the applicable
// grants and revokes that match, the last one is a grant.
import { buildPlan, evaluatePlan } from '../../src/core/evaluate/plan.js';
import { checkPermission } from '../../src/core/evaluate/check.js';
import { matches, mustParsePattern } from '../../src/core/pattern.js';
import { REALISTIC_NAMESPACES, REALISTIC_PATH, realisticPolicies, subject } from '../lib/sets.js';
import { compileAll } from '../fixtures.js';
export const RESOURCES = ['document', 'folder', 'billing', 'user', 'report', 'project', 'comment', 'invoice'];
/** `write` is named by no rule: it is reached only through `<resource>:*` */
export const ACTIONS = ['read', 'list', 'delete', 'purge', 'write'];
export const SUBJECTS = [
    { id: 'user:alice', roles: ['editor', 'viewer'] },
    { id: 'user:bob', roles: ['admin'] },
    { id: 'user:carol', roles: ['auditor', 'billing'] },
    { id: 'user:dave', roles: ['support'] },
    { id: 'user:erin', roles: [] },
    { id: 'user:frank', roles: ['viewer', 'billing', 'support'] },
    { id: 'user:grace', roles: ['editor', 'admin', 'auditor'] },
    { id: 'user:heidi', roles: ['viewer'] },
];
/** 8 subjects × 7 permissions = 56 requests, spread over resources and actions. */
export function peerRequests() {
    const perms = RESOURCES.flatMap((r) => ACTIONS.map((a) => `${r}:${a}`));
    const out = [];
    SUBJECTS.forEach((s, k) => {
        for (let j = 0; j < 7; j++) {
            out.push({ subject: s, path: REALISTIC_PATH, namespaces: REALISTIC_NAMESPACES, permission: perms[(k * 5 + j * 6 + j) % perms.length] });
        }
    });
    return out;
}
export function toSubject(s) {
    return subject(s.id, s.roles, s.groups ?? []);
}
/** The rules of the path in run order (disabled documents left out). */
export function rulesInOrder(policies) {
    const out = [];
    const perNamespace = new Map();
    for (const p of policies) {
        if (p.disabled)
            continue;
        for (const rule of p.rules) {
            const position = perNamespace.get(p.namespace) ?? 0;
            perNamespace.set(p.namespace, position + 1);
            out.push({ namespace: p.namespace, position, rule });
        }
    }
    return out;
}
/** The subject strings a rule names, as written (`*`, `role:x`, `group:x`, an id). */
export function subjectStrings(rule) {
    const m = rule.subjects;
    return [...(m.any ? ['*'] : []), ...m.ids, ...m.roles.map((r) => `role:${r}`), ...m.groups.map((g) => `group:${g}`)];
}
export function listsAllow(d, permission) {
    return d.permissions.some((p) => matches(mustParsePattern(p), permission)) && !d.denied.some((p) => matches(mustParsePattern(p), permission));
}
/** Our engine's answers (the exact check, and the lists), evaluated in process. */
export function ourAnswers(requests, policies = realisticPolicies()) {
    const plan = buildPlan(policies);
    const opts = { defaultPermissions: ['*'] };
    return requests.map((r) => {
        const d = evaluatePlan(plan, { subject: toSubject(r.subject), namespaces: r.namespaces }, opts);
        return { allowed: checkPermission(d, r.permission).allowed, byLists: listsAllow(d, r.permission), exact: d.exact };
    });
}
/**
 * An independent oracle for the same meaning, written from the SPEC's wording (last
 * matching grant/revoke decides, any matching deny refuses), not from the engine.
 */
export function oracle(policies, r) {
    const s = toSubject(r.subject);
    let allowed = false;
    let blocked = false;
    for (const ns of r.namespaces) {
        for (const p of policies) {
            if (p.namespace !== ns || p.disabled)
                continue;
            for (const rule of p.rules) {
                const m = rule.subjects;
                const applies = m.any || m.ids.includes(s.id) || m.roles.some((x) => s.roles.includes(x)) || m.groups.some((x) => s.groups.includes(x));
                if (!applies)
                    continue;
                if (rule.grant.some((g) => matches(g, r.permission)) && !blocked)
                    allowed = true;
                if (rule.revoke.some((g) => matches(g, r.permission)))
                    allowed = false;
                if (rule.deny.some((g) => matches(g, r.permission))) {
                    allowed = false;
                    blocked = true;
                }
            }
        }
    }
    return allowed;
}
// --- edge cases: checked for agreement only, never loaded ---------------------------------
// A second path whose rules use what the realistic set does not: `*` alone, wildcards in
// the middle and at the head, three-segment permissions, groups, `*` subjects, `id:`,
// revoke then partial or whole re-grant, deny then grant, revoke inside the granting
// rule, a document without an ordinal.
export const EDGE_NAMESPACES = ['edge', 'edge:t1'];
export const EDGE_PATH = EDGE_NAMESPACES.join('.');
export function edgeDocs() {
    return [
        {
            key: 'edge-a', namespace: 'edge', ordinal: 1, rules: [
                { id: 'anyone-reads', subjects: ['*'], grant: ['doc:read'] },
                { id: 'admin-all', subjects: ['role:admin'], grant: ['*'], revoke: ['billing:*'] },
                { id: 'ops-read', subjects: ['group:ops'], grant: ['a:*:read'], revoke: ['a:x:*'] },
                { id: 'editor-docs', subjects: ['role:editor'], grant: ['doc:*'], deny: ['doc:purge'] },
                { id: 'editor-purge', subjects: ['role:editor'], grant: ['doc:purge'] },
                { id: 'zed-export', subjects: ['user:zed', 'id:role:fake'], grant: ['report:*:export'] },
            ],
        },
        {
            key: 'edge-b', namespace: 'edge', ordinal: 2, rules: [
                { id: 'admin-invoices', subjects: ['role:admin'], grant: ['billing:invoice:*'] },
                { id: 'ops-x-read', subjects: ['group:ops'], grant: ['a:x:read'] },
                { id: 'viewer-revoke', subjects: ['role:viewer'], revoke: ['doc:*'] },
                { id: 'viewer-list', subjects: ['role:viewer'], grant: ['doc:list'] },
            ],
        },
        {
            key: 'edge:t1-a', namespace: 'edge:t1', ordinal: 1, rules: [
                { id: 'no-invoice-delete', subjects: ['role:admin'], deny: ['billing:invoice:delete'] },
                { id: 'grant-and-revoke', subjects: ['*'], grant: ['doc:read'], revoke: ['doc:*'] },
                { id: 'ops-xy', subjects: ['group:ops'], grant: ['x:y'], revoke: ['x:*'] },
                { id: 'no-secrets', subjects: ['role:editor'], deny: ['*:secret'] },
                { id: 'vault', subjects: ['role:editor'], grant: ['vault:secret', 'vault:open'] },
            ],
        },
        {
            key: 'edge:t1-b', namespace: 'edge:t1', rules: [
                { id: 'zed-reads', subjects: ['user:zed'], grant: ['doc:read'] },
            ],
        },
    ];
}
export function edgePolicies() {
    return compileAll(edgeDocs());
}
export const EDGE_SUBJECTS = [
    { id: 'user:ann', roles: ['admin'] },
    { id: 'user:ed', roles: ['editor'] },
    { id: 'user:vic', roles: ['viewer'] },
    { id: 'user:ops1', roles: [], groups: ['ops'] },
    { id: 'user:zed', roles: [] },
    { id: 'role:fake', roles: [] },
    { id: 'user:max', roles: ['admin', 'editor', 'viewer'], groups: ['ops'] },
];
export const EDGE_PERMISSIONS = [
    'doc:read', 'doc:list', 'doc:write', 'doc:purge', 'billing:invoice:read', 'billing:invoice:delete', 'billing:pay',
    'a:x:read', 'a:y:read', 'a:x:write', 'report:q1:export', 'report:export', 'x:y', 'x:z', 'vault:secret', 'vault:open',
    'anything', 'a:b:c:d',
];
export function edgeRequests() {
    return EDGE_SUBJECTS.flatMap((s) => EDGE_PERMISSIONS.map((permission) => ({ subject: s, path: EDGE_PATH, namespaces: EDGE_NAMESPACES, permission })));
}
