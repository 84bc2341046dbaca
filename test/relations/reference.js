// A brute-force reference for the relationship engine: every permission of every object
// for one subject, by fixpoint over ALL tuples, stratum by stratum (a definition's
// stratum is above everything it subtracts, so within a stratum the equations are
// monotone: start all false, set true until nothing changes). No indexes, no memo, no
// cycle handling, no shared code with the engine beyond the compiled schema.
//
// The meaning it pins (docs/relationships.md): a relation holds for subject s when a
// tuple names s exactly, or names `type:*` and s is a plain subject of that type, or
// names a userset `t:id#r` for which r holds on t:id. A permission evaluates its rewrite;
// `via->name` holds when name holds on the object of some subject of `via`.
import { formatSubject } from '../../src/relations/tuple.js';
function edges(schema, def) {
    const out = [];
    if (def.kind === 'relation') {
        for (const a of def.allowed) {
            const to = a.kind === 'userset' ? schema.types.get(a.type)?.defs.get(a.relation) : undefined;
            if (to)
                out.push({ to, negative: false });
        }
        return out;
    }
    const walk = (r, negative) => {
        if (r.op === 'ref')
            out.push({ to: r.def, negative });
        else if (r.op === 'arrow')
            for (const t of r.targets.values())
                out.push({ to: t, negative });
        else if (r.op === 'exclusion') {
            walk(r.base, negative);
            walk(r.subtract, true);
        }
        else
            for (const a of r.args)
                walk(a, negative);
    };
    walk(def.rewrite, false);
    return out;
}
export class ReferenceModel {
    schema;
    strata = new Map();
    byResource = new Map();
    /** every object named by a tuple (as resource or subject object), by type; wildcards left out */
    universe = new Map();
    cache = new Map();
    constructor(schema, tuples) {
        this.schema = schema;
        const defs = [...schema.types.values()].flatMap((t) => [...t.defs.values()]);
        for (const d of defs)
            this.strata.set(d, 0);
        for (let changed = true, rounds = 0; changed && rounds <= defs.length + 1; rounds++) {
            changed = false;
            for (const d of defs) {
                for (const e of edges(schema, d)) {
                    const want = this.strata.get(e.to) + (e.negative ? 1 : 0);
                    if (want > this.strata.get(d)) {
                        this.strata.set(d, want);
                        changed = true;
                    }
                }
            }
        }
        for (const t of tuples) {
            const key = `${t.resource.type}:${t.resource.id}#${t.relation}`;
            this.byResource.set(key, [...(this.byResource.get(key) ?? []), t]);
            this.note(t.resource.type, t.resource.id);
            if (t.subject.id !== '*')
                this.note(t.subject.type, t.subject.id);
        }
    }
    note(type, id) {
        const ids = this.universe.get(type) ?? new Set();
        ids.add(id);
        this.universe.set(type, ids);
    }
    /** Does `subject` (a subject string) have `name` on `type:id`? */
    has(type, id, name, subject) {
        return this.solve(subject).get(`${type}:${id}#${name}`) === true;
    }
    lookupResources(type, name, subject) {
        return [...(this.universe.get(type) ?? [])].filter((id) => this.has(type, id, name, subject)).sort();
    }
    /** Known subjects of the type that hold, and `*` first when the wildcard subject does. */
    lookupSubjects(type, id, name, subjectType) {
        const ids = [...(this.universe.get(subjectType) ?? [])].sort();
        return ['*', ...ids].filter((s) => this.has(type, id, name, `${subjectType}:${s}`));
    }
    solve(subject) {
        const known = this.cache.get(subject);
        if (known)
            return known;
        const [subjectObject, subjectRelation] = subject.split('#');
        const subjectType = subjectObject.slice(0, subjectObject.indexOf(':'));
        const values = new Map();
        const value = (objectKey, def) => def !== undefined && values.get(`${objectKey}#${def.name}`) === true;
        const holds = (objectKey, def) => {
            if (def.kind === 'relation') {
                return (this.byResource.get(`${objectKey}#${def.name}`) ?? []).some((t) => {
                    const s = formatSubject(t.subject);
                    if (s === subject)
                        return true;
                    if (t.subject.id === '*' && t.subject.type === subjectType && subjectRelation === undefined)
                        return true;
                    if (t.subject.relation === undefined)
                        return false;
                    return value(`${t.subject.type}:${t.subject.id}`, this.schema.types.get(t.subject.type)?.defs.get(t.subject.relation));
                });
            }
            const run = (r) => {
                switch (r.op) {
                    case 'ref':
                        return value(objectKey, r.def);
                    case 'arrow':
                        return (this.byResource.get(`${objectKey}#${r.via.name}`) ?? []).some((t) => value(`${t.subject.type}:${t.subject.id}`, r.targets.get(t.subject.type)));
                    case 'union':
                        return r.args.some(run);
                    case 'intersection':
                        return r.args.every(run);
                    case 'exclusion':
                        return run(r.base) && !run(r.subtract);
                }
            };
            return run(def.rewrite);
        };
        const maxStratum = Math.max(0, ...this.strata.values());
        for (let k = 0; k <= maxStratum; k++) {
            const nodes = [];
            for (const [type, ids] of this.universe) {
                for (const def of this.schema.types.get(type)?.defs.values() ?? []) {
                    if (this.strata.get(def) === k)
                        for (const id of ids)
                            nodes.push([`${type}:${id}`, def]);
                }
            }
            for (let changed = true; changed;) {
                changed = false;
                for (const [objectKey, def] of nodes) {
                    const key = `${objectKey}#${def.name}`;
                    if (values.get(key) !== true && holds(objectKey, def)) {
                        values.set(key, true);
                        changed = true;
                    }
                }
            }
        }
        this.cache.set(subject, values);
        return values;
    }
}
