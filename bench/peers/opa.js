// Open Policy Agent as an HTTP server (`opa run --server`), with a data-driven Rego
// policy: the rules are data (per namespace, in run order, with an index from subject
// string and first permission segment to rule positions, much as our plan indexes rules
// by subject and our summary buckets patterns by head), and the policy states the
// meaning directly: refuse when an applicable deny matches; allow when an applicable
// grant matches and no applicable revoke at or after it does. Patterns are globs with
// `:` as the delimiter (`*` one segment; a trailing `*` becomes `**`, one or more).
//
// This is the "indexed" form (rules looked up by the subject's tokens and the permission's
// first segment); a plain scan of every rule is much slower (see
// /work/shared/notes/peers.md; measured with `opa bench` here: ~1 ms per decision indexed
// by subject only).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { rulesInOrder, subjectStrings } from './model.js';
export const OPA_VERSION = 'v1.22.3';
export const REGO = `package authz

# Answer for input {subject: {id, roles, groups}, namespace: "a.b.c", permission: "x:y"}.

default allow := false

namespaces := split(input.namespace, ".")

tokens contains "*"

tokens contains input.subject.id

tokens contains concat(":", ["role", r]) if some r in input.subject.roles

tokens contains concat(":", ["group", g]) if some g in input.subject.groups

# the permission's first segment, and "*" for patterns whose first segment is a wildcard
heads := {split(input.permission, ":")[0], "*"}

# rules whose subjects match and that name a pattern which may match the permission,
# as [position of the namespace in the path, position of the rule]
applicable contains [i, j] if {
	some i, ns in namespaces
	some t in tokens
	some h in heads
	some j in data.policy.index[ns][t][h]
}

matches(patterns) if {
	some p in patterns
	glob.match(p, [":"], input.permission)
}

rule(a) := data.policy.rules[namespaces[a[0]]][a[1]]

denied if {
	some a in applicable
	matches(rule(a).deny)
}

granted contains a if {
	some a in applicable
	matches(rule(a).grant)
}

revoked contains a if {
	some a in applicable
	matches(rule(a).revoke)
}

# a revoke in a later rule, or in the same rule (it runs after the grant), undoes a grant
undone(g) if {
	some r in revoked
	r[0] > g[0]
}

undone(g) if {
	some r in revoked
	r[0] == g[0]
	r[1] >= g[1]
}

allow if {
	not denied
	some g in granted
	not undone(g)
}
`;
export function globOf(p) {
    if (p.text === '*')
        return '**';
    return p.rest ? p.text.replace(/\*$/, '**') : p.text;
}
export function opaData(policies) {
    const rules = {};
    const index = {};
    for (const { namespace, position, rule } of rulesInOrder(policies)) {
        (rules[namespace] ??= []).push({
            id: `${rule.policy}#${rule.id}`,
            grant: rule.grant.map(globOf),
            revoke: rule.revoke.map(globOf),
            deny: rule.deny.map(globOf),
        });
        const byToken = (index[namespace] ??= {});
        const heads = new Set([...rule.grant, ...rule.revoke, ...rule.deny].map((p) => (p.head === '' ? '*' : p.head)));
        for (const s of subjectStrings(rule)) {
            const byHead = (byToken[s] ??= {});
            for (const h of heads)
                (byHead[h] ??= []).push(position);
        }
    }
    return { policy: { rules, index } };
}
export function writeOpaBundle(dir, policies) {
    mkdirSync(dir, { recursive: true });
    const rego = path.join(dir, 'authz.rego');
    const data = path.join(dir, 'data.json');
    writeFileSync(rego, REGO);
    writeFileSync(data, JSON.stringify(opaData(policies)));
    return { rego, data };
}
export function opaInput(r) {
    return JSON.stringify({ input: { subject: { id: r.subject.id, roles: r.subject.roles, groups: r.subject.groups ?? [] }, namespace: r.path, permission: r.permission } });
}
export const OPA_PATH = '/v1/data/authz/allow';
export function opaAllowed(json) {
    return json?.result === true;
}
