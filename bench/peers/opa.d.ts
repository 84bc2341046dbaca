import type { CompiledPolicy } from '../../src/core/compile/types.js';
import type { Pattern } from '../../src/core/pattern.js';
import { type PeerRequest } from './model.js';
export declare const OPA_VERSION = "v1.22.3";
export declare const REGO = "package authz\n\n# Answer for input {subject: {id, roles, groups}, namespace: \"a.b.c\", permission: \"x:y\"}.\n\ndefault allow := false\n\nnamespaces := split(input.namespace, \".\")\n\ntokens contains \"*\"\n\ntokens contains input.subject.id\n\ntokens contains concat(\":\", [\"role\", r]) if some r in input.subject.roles\n\ntokens contains concat(\":\", [\"group\", g]) if some g in input.subject.groups\n\n# the permission's first segment, and \"*\" for patterns whose first segment is a wildcard\nheads := {split(input.permission, \":\")[0], \"*\"}\n\n# rules whose subjects match and that name a pattern which may match the permission,\n# as [position of the namespace in the path, position of the rule]\napplicable contains [i, j] if {\n\tsome i, ns in namespaces\n\tsome t in tokens\n\tsome h in heads\n\tsome j in data.policy.index[ns][t][h]\n}\n\nmatches(patterns) if {\n\tsome p in patterns\n\tglob.match(p, [\":\"], input.permission)\n}\n\nrule(a) := data.policy.rules[namespaces[a[0]]][a[1]]\n\ndenied if {\n\tsome a in applicable\n\tmatches(rule(a).deny)\n}\n\ngranted contains a if {\n\tsome a in applicable\n\tmatches(rule(a).grant)\n}\n\nrevoked contains a if {\n\tsome a in applicable\n\tmatches(rule(a).revoke)\n}\n\n# a revoke in a later rule, or in the same rule (it runs after the grant), undoes a grant\nundone(g) if {\n\tsome r in revoked\n\tr[0] > g[0]\n}\n\nundone(g) if {\n\tsome r in revoked\n\tr[0] == g[0]\n\tr[1] >= g[1]\n}\n\nallow if {\n\tnot denied\n\tsome g in granted\n\tnot undone(g)\n}\n";
export declare function globOf(p: Pattern): string;
export declare function opaData(policies: readonly CompiledPolicy[]): unknown;
export declare function writeOpaBundle(dir: string, policies: readonly CompiledPolicy[]): {
    rego: string;
    data: string;
};
export declare function opaInput(r: PeerRequest): string;
export declare const OPA_PATH = "/v1/data/authz/allow";
export declare function opaAllowed(json: any): boolean;
