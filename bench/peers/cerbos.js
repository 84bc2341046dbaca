// Cerbos (v0.55.0, built from source per /work/shared/notes/peers.md) as an HTTP server,
// with two translations of the same policy set; one server holds both (two resource kinds).
//
// "native" (kind perm_native): the idiomatic mapping. One resource policy per namespace,
// scopes standing for namespaces (global → no scope, org → `org`, the tenant →
// `org.<tenant>`), scopePermissions OVERRIDE_PARENT (the default); a grant is an ALLOW
// rule for the rule's roles, a deny a DENY rule, and a revoke (which Cerbos lacks) a DENY
// rule; rules naming a user id use roles ["*"] and `P.id == "<id>"`. Cerbos semantics
// differ from ours (per role, allow if any role allows; the most specific scope that
// decides wins; no order inside a scope, DENY overrides), so disagreements are expected:
// they are counted and reported, and this variant is benchmarked only for reference.
//
// "exact" (kind perm_exact_<first namespace>, no scope): our meaning compiled into CEL
// conditions. For each action class (every action the application uses and every
// concrete permission a pattern names; "any other action" under each wildcard pattern),
// the allow condition is the order-respecting fold of the
// applicable grants and revokes (the last one that applies decides) guarded by "no
// applicable deny", written over P.roles / P.id, so every role of the principal reaches
// the same answer and Cerbos's per-role evaluation cannot change it. Named actions get
// an ALLOW rule with the condition and a DENY rule with its negation (so a wildcard
// ALLOW meant for other actions cannot leak onto them).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { matches, mustParsePattern } from '../../src/core/pattern.js';
import { globOf } from './opa.js';
import { rulesInOrder } from './model.js';
export const CERBOS_VERSION = 'v0.55.0';
function scopeName(ns) {
    return ns.replace(/[^0-9A-Za-z_-]/g, '_');
}
/** Our path → Cerbos scope: the first namespace (global) is the base policy. */
export function scopeOf(namespaces) {
    return namespaces.slice(1).map(scopeName).join('.');
}
function cel(s) {
    return JSON.stringify(s);
}
function matcherExpr(rule) {
    const m = rule.subjects;
    if (m.any)
        return 'true';
    const parts = [
        ...m.ids.map((id) => `P.id == ${cel(id)}`),
        ...m.roles.map((r) => `${cel(r)} in P.roles`),
        ...m.groups.map((g) => `(has(P.attr.groups) && ${cel(g)} in P.attr.groups)`),
    ];
    return parts.length === 1 ? parts[0] : `(${parts.join(' || ')})`;
}
/** The allow condition for one concrete permission (the class representative). */
export function allowCondition(policies, permission) {
    const rules = rulesInOrder(policies).map((r) => r.rule);
    const denies = [];
    // grant / revoke events that match, in order; consecutive ones of one kind merged
    const events = [];
    const push = (grant, expr) => {
        const last = events[events.length - 1];
        if (last && last.grant === grant)
            last.exprs.push(expr);
        else
            events.push({ grant, exprs: [expr] });
    };
    for (const rule of rules) {
        const m = matcherExpr(rule);
        if (rule.grant.some((p) => matches(p, permission)))
            push(true, m);
        if (rule.revoke.some((p) => matches(p, permission)))
            push(false, m);
        if (rule.deny.some((p) => matches(p, permission)))
            denies.push(m);
    }
    let acc = 'false';
    for (const e of events) {
        const any = e.exprs.length === 1 ? e.exprs[0] : `(${[...new Set(e.exprs)].join(' || ')})`;
        acc = e.grant ? (acc === 'false' ? any : `(${any} || ${acc})`) : acc === 'false' ? 'false' : `(!(${any}) && ${acc})`;
    }
    if (denies.length === 0 || acc === 'false')
        return acc;
    return `!(${[...new Set(denies)].join(' || ')}) && ${acc}`;
}
function resourcePolicy(kind, scope, rules) {
    return {
        apiVersion: 'api.cerbos.dev/v1',
        resourcePolicy: { version: 'default', resource: kind, ...(scope ? { scope } : {}), rules },
    };
}
/**
 * `actions`: the application's action vocabulary (Cerbos policies name actions). Each gets
 * an exact ALLOW / DENY pair, as does every concrete pattern; wildcard patterns only
 * answer actions outside that list (approximately where wildcard classes overlap).
 */
export function exactPolicy(policies, kind, actions) {
    const all = rulesInOrder(policies).map((r) => r.rule);
    const patterns = new Map();
    for (const r of all)
        for (const p of [...r.grant, ...r.revoke, ...r.deny])
            patterns.set(p.text, p);
    for (const a of actions)
        if (!patterns.has(a))
            patterns.set(a, mustParsePattern(a));
    const rules = [];
    let classes = 0;
    for (const p of patterns.values()) {
        const wildcard = p.rest || p.segs.some((s) => s === null);
        if (!wildcard) {
            const cond = allowCondition(policies, p.text);
            rules.push({ actions: [p.text], effect: 'EFFECT_ALLOW', roles: ['*'], condition: { match: { expr: cond } } });
            rules.push({ actions: [p.text], effect: 'EFFECT_DENY', roles: ['*'], condition: { match: { expr: `!(${cond})` } } });
        }
        else {
            // a representative of "any other action" this pattern covers
            const representative = [...p.segs.map((x) => x ?? 'zz_other'), ...(p.rest ? ['zz_other'] : [])].join(':');
            rules.push({ actions: [globOf(p)], effect: 'EFFECT_ALLOW', roles: ['*'], condition: { match: { expr: allowCondition(policies, representative) } } });
        }
        classes++;
    }
    return { policy: resourcePolicy(kind, '', rules), classes };
}
export function nativePolicies(policies, namespaces) {
    const byNs = new Map();
    for (const ns of namespaces)
        byNs.set(ns, []);
    for (const { namespace, rule } of rulesInOrder(policies)) {
        const out = byNs.get(namespace);
        if (!out)
            continue;
        const m = rule.subjects;
        const targets = [];
        if (m.any)
            targets.push({ roles: ['*'] });
        else {
            if (m.roles.length)
                targets.push({ roles: [...m.roles] });
            for (const id of m.ids)
                targets.push({ roles: ['*'], condition: { match: { expr: `P.id == ${cel(id)}` } } });
        }
        for (const t of targets) {
            if (rule.grant.length)
                out.push({ actions: rule.grant.map(globOf), effect: 'EFFECT_ALLOW', ...t });
            if (rule.revoke.length)
                out.push({ actions: rule.revoke.map(globOf), effect: 'EFFECT_DENY', ...t });
            if (rule.deny.length)
                out.push({ actions: rule.deny.map(globOf), effect: 'EFFECT_DENY', ...t });
        }
    }
    return namespaces.map((ns, i) => resourcePolicy('perm_native', scopeOf(namespaces.slice(0, i + 1)), byNs.get(ns)));
}
/** The resource kind of a path's exact translation. */
export function exactKind(namespaces) {
    return `perm_exact_${namespaces[0].replace(/[^0-9A-Za-z_]/g, '_')}`;
}
export function writeCerbosConfig(dir, sets, httpPort, grpcPort) {
    const policyDir = path.join(dir, 'policies');
    rmSync(policyDir, { recursive: true, force: true });
    mkdirSync(policyDir, { recursive: true });
    let classes = 0;
    for (const set of sets) {
        const kind = exactKind(set.namespaces);
        const exact = exactPolicy(set.policies, kind, set.actions);
        classes += exact.classes;
        writeFileSync(path.join(policyDir, `${kind}.json`), JSON.stringify(exact.policy, null, 1));
        if (set.native)
            nativePolicies(set.policies, set.namespaces).forEach((p, i) => writeFileSync(path.join(policyDir, `perm_native_${i}.json`), JSON.stringify(p, null, 1)));
    }
    const conf = path.join(dir, 'conf.yaml');
    writeFileSync(conf, [
        'server:',
        `  httpListenAddr: "127.0.0.1:${httpPort}"`,
        `  grpcListenAddr: "127.0.0.1:${grpcPort}"`,
        'storage:',
        '  driver: "disk"',
        '  disk:',
        `    directory: ${JSON.stringify(policyDir)}`,
        '    watchForChanges: false',
        'audit:',
        '  enabled: false',
        '',
    ].join('\n'));
    return { conf, classes };
}
let requestSeq = 0;
export function cerbosBody(r, variant) {
    return JSON.stringify({
        requestId: `r${requestSeq++}`,
        // Cerbos needs at least one role: every principal also has the role "user", named by no rule
        principal: { id: r.subject.id, roles: ['user', ...r.subject.roles], ...(r.subject.groups?.length ? { attr: { groups: r.subject.groups } } : {}) },
        resources: [{
                resource: { kind: variant === 'native' ? 'perm_native' : exactKind(r.namespaces), id: 'x', ...(variant === 'native' ? { scope: scopeOf(r.namespaces) } : {}) },
                actions: [r.permission],
            }],
    });
}
export const CERBOS_PATH = '/api/check/resources';
export function cerbosAllowed(json, permission) {
    const effect = json?.results?.[0]?.actions?.[permission];
    return effect === undefined ? undefined : effect === 'EFFECT_ALLOW';
}
