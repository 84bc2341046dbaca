// A small, obviously-correct reference for SPEC §2 "Evaluation", written straight from
// the text and sharing no code with src/: a concrete permission is decided by replaying
// every applied effect in order; the summary lists are read as the SPEC says callers
// read them. Slow on purpose — it is what the real evaluator is compared against.
/** SPEC §2 "Subjects": `*`, `role:<r>`, `group:<g>`, `id:<x>`, else the id exactly. */
export function refSubjectMatches(matcher, subject) {
    if (matcher === '*')
        return true;
    if (matcher.startsWith('role:'))
        return subject.roles.includes(matcher.slice('role:'.length));
    if (matcher.startsWith('group:'))
        return subject.groups.includes(matcher.slice('group:'.length));
    if (matcher.startsWith('id:'))
        return subject.id === matcher.slice('id:'.length);
    return subject.id === matcher;
}
/**
 * SPEC §2 "Permission patterns": a `*` segment matches exactly one segment, except as
 * the last segment, where it matches one or more.
 */
export function refMatches(pattern, permission) {
    const ps = pattern.split(':');
    const xs = permission.split(':');
    const last = ps.length - 1;
    if (ps[last] === '*') {
        if (xs.length < ps.length)
            return false;
    }
    else if (xs.length !== ps.length) {
        return false;
    }
    for (let i = 0; i < last; i++)
        if (ps[i] !== '*' && ps[i] !== xs[i])
            return false;
    return ps[last] === '*' || ps[last] === xs[last];
}
/** The effects applied for `subject`, in run order: documents, rules, grant → revoke → deny. */
export function refEffects(documents, subject) {
    const out = [];
    for (const doc of documents) {
        if (doc.disabled === true)
            continue;
        for (const rule of doc.rules) {
            if (!rule.subjects.some((m) => refSubjectMatches(m, subject)))
                continue;
            for (const pattern of rule.grant ?? [])
                out.push({ kind: 'grant', pattern });
            for (const pattern of rule.revoke ?? [])
                out.push({ kind: 'revoke', pattern });
            for (const pattern of rule.deny ?? [])
                out.push({ kind: 'deny', pattern });
        }
    }
    return out;
}
/**
 * SPEC "The meaning, exactly": a grant that matches allows the permission unless a
 * deny has blocked it; a revoke that matches disallows it; a deny that matches
 * disallows it and blocks it for good. With zero documents (disabled ones count as
 * present) the default patterns decide.
 */
export function refAllowed(documents, subject, permission, defaultPermissions = ['*']) {
    if (documents.length === 0)
        return defaultPermissions.some((p) => refMatches(p, permission));
    let allowed = false;
    let blocked = false;
    for (const e of refEffects(documents, subject)) {
        if (!refMatches(e.pattern, permission))
            continue;
        if (e.kind === 'grant') {
            if (!blocked)
                allowed = true;
        }
        else {
            allowed = false;
            if (e.kind === 'deny')
                blocked = true;
        }
    }
    return allowed;
}
/**
 * How a caller that matches locally reads the summary lists: allowed when some pattern
 * in `permissions` matches and none in `denied` does.
 */
export function refAllowedByLists(permissions, denied, permission) {
    return permissions.some((p) => refMatches(p, permission)) && !denied.some((d) => refMatches(d, permission));
}
/** Every concrete permission over `letters` with 1..maxSegments segments. */
export function concretePermissions(letters, maxSegments) {
    const out = [];
    let layer = [''];
    for (let n = 1; n <= maxSegments; n++) {
        layer = layer.flatMap((prefix) => letters.map((l) => (prefix === '' ? l : `${prefix}:${l}`)));
        out.push(...layer);
    }
    return out;
}
