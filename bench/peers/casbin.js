// node-casbin (in process): RBAC with domains and the priority effect.
//
// Model: a request is (subject, namespace path, permission). Roles come from casbin's own
// `g` lines (subject, role, path). A policy line is (priority, subject, namespace,
// permission pattern, effect); a rule naming several subjects or patterns becomes
// several lines with one priority. `priority(p.eft) || deny` lets the first matching line
// (lowest priority number) decide, which expresses our ordered semantics exactly:
//   - every deny line comes first (a matching deny refuses for good);
//   - then grants (allow) and revokes (deny) in reverse run order, so the last matching
//     grant or revoke decides; inside one rule the revoke runs after the grant, so it
//     comes first here.
// Permission patterns are matched by a custom function with our pattern semantics
// (`*` one segment; a trailing `*` one or more), compiled once per pattern; the path
// test is a custom function too. Priorities are static, which holds for paths whose
// namespaces keep one order (global, then org, then the tenant), as ours do.
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { matches, mustParsePattern } from '../../src/core/pattern.js';
import { rulesInOrder, subjectStrings, SUBJECTS } from './model.js';
export const CASBIN_MODEL = `
[request_definition]
r = sub, dom, act

[policy_definition]
p = priority, sub, dom, act, eft

[role_definition]
g = _, _, _

[policy_effect]
e = priority(p.eft) || deny

[matchers]
m = (p.sub == "*" || g(r.sub, p.sub, r.dom)) && inPath(r.dom, p.dom) && permMatch(r.act, p.act)
`;
/** Policy and grouping lines of one path; priorities start at `first`. */
export function casbinPolicyLines(policies, path, subjects = SUBJECTS, first = 1) {
    const rules = rulesInOrder(policies);
    const denyLines = [];
    const events = [];
    for (const { namespace, rule } of rules) {
        const subjects = subjectStrings(rule);
        if (rule.grant.length)
            events.push({ eft: 'allow', subjects, namespace, patterns: rule.grant.map((p) => p.text) });
        if (rule.revoke.length)
            events.push({ eft: 'deny', subjects, namespace, patterns: rule.revoke.map((p) => p.text) });
        for (const p of rule.deny)
            for (const s of subjects)
                denyLines.push([s, namespace, p.text]);
    }
    const lines = [];
    let priority = first;
    for (const [s, ns, p] of denyLines)
        lines.push(`p, ${priority++}, ${s}, ${ns}, ${p}, deny`);
    for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i];
        for (const s of e.subjects)
            for (const p of e.patterns)
                lines.push(`p, ${priority}, ${s}, ${e.namespace}, ${p}, ${e.eft}`);
        priority++;
    }
    for (const s of subjects) {
        for (const role of s.roles)
            lines.push(`g, ${s.id}, role:${role}, ${path}`);
        for (const group of s.groups ?? [])
            lines.push(`g, ${s.id}, group:${group}, ${path}`);
    }
    return { lines, next: priority };
}
/**
 * One enforcer for several paths (their namespaces distinct): each path's lines keep
 * their relative priorities, and a request only matches lines of its own path.
 */
export async function casbinEnforcer(sets) {
    const lines = [];
    let next = 1;
    for (const set of sets) {
        const r = casbinPolicyLines(set.policies, set.path, set.subjects, next);
        lines.push(...r.lines);
        next = r.next;
    }
    for (const l of lines)
        if (/[,"]/.test(l.split(', ').slice(1).join('')))
            throw new Error(`casbin line needs quoting: ${l}`);
    const enforcer = await newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(lines.join('\n')));
    const pathSets = new Map();
    enforcer.addFunction('inPath', (requestPath, ns) => {
        let set = pathSets.get(requestPath);
        if (!set)
            pathSets.set(requestPath, (set = new Set(requestPath.split('.'))));
        return set.has(ns);
    });
    enforcer.addFunction('permMatch', (permission, pattern) => matches(mustParsePattern(pattern), permission));
    return { enforcer, lines: lines.length };
}
export function casbinDecide(enforcer, r) {
    return enforcer.enforceSync(r.subject.id, r.path, r.permission);
}
