// Schema parsing and validation: the operators and their precedence, the list form,
// and every error reported with its place.
import t from 'tap';
import { compileSchema } from '../../src/relations/schema/compile-schema.js';
import { formatExpression, parseExpression } from '../../src/relations/schema/expression.js';
import { exampleSchema } from './example.js';
const errorsOf = (text, format = 'yaml') => {
    const r = compileSchema(text, format);
    return r.ok ? [] : r.errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`));
};
t.test('precedence: & binds tighter; | and - share a level, left to right', async (t) => {
    const cases = [
        ['a | b - c', '(a | b) - c'],
        ['a - b | c', '(a - b) | c'],
        ['a | b & c', 'a | b & c'],
        ['(a | b) & c', '(a | b) & c'],
        ['a - b - c', '(a - b) - c'],
        ['a - (b - c)', 'a - (b - c)'],
        ['parent->read | owner', 'parent->read | owner'],
        ['(owner | editor | reader | parent->read) - banned', '(owner | editor | reader | parent->read) - banned'],
    ];
    for (const [input, want] of cases)
        t.equal(formatExpression(parseExpression(input)), want, input);
    t.same(parseExpression('a | b - c'), {
        op: 'exclusion',
        base: { op: 'union', args: [{ op: 'name', name: 'a', column: 1 }, { op: 'name', name: 'b', column: 5 }] },
        subtract: { op: 'name', name: 'c', column: 9 },
    });
    t.equal(formatExpression(parseExpression('parent -> read')), 'parent->read', 'spaces around -> are fine');
    for (const bad of ['', 'a |', '| a', 'a + b', '(a', 'a)', 'a->', 'a b', 'a->b->c'])
        t.throws(() => parseExpression(bad), JSON.stringify(bad));
});
t.test('the example compiles, in YAML and as JSON with list unions', async (t) => {
    t.ok(compileSchema(exampleSchema, 'yaml').ok);
    const json = JSON.stringify({
        user: {},
        group: { relations: { member: ['user', 'group#member'] } },
        document: {
            relations: { owner: ['user'], editor: ['user'], reader: ['user', 'group#member', 'user:*'], parent: ['document'], banned: ['user'] },
            permissions: { read: '(owner | editor | reader | parent->read) - banned', write: ['owner', 'editor', 'parent->editor'], delete: 'owner & editor' },
        },
    });
    const r = compileSchema(json, 'json');
    t.ok(r.ok);
    if (r.ok)
        t.same(r.schema.types.get('document').defs.get('write').kind, 'permission');
});
t.test('every error, each naming its place, sorted', async (t) => {
    const text = [
        'user: {}',
        'group:',
        '  relations: { member: [user, "group#membr", usr, "user:*", user] }',
        'document:',
        '  relation: {}',
        '  relations: { owner: [user], parent: [document, "user:*"], editor: [], read: [user] }',
        '  permissions:',
        '    read: owner',
        '    view: "ownr | owner"',
        '    write: "owner | parent->edit"',
        '    up: "editor->read"',
        '    bad: "owner +"',
        '    empty: []',
        '    num: 3',
        '"bad type": {}',
    ].join('\n');
    const errs = errorsOf(text);
    t.same(errs, [
        "bad type: 'bad type' is not a valid type name (^[A-Za-z][A-Za-z0-9_]{0,63}$)",
        "document.permissions.bad: unexpected '+' at column 7 (operators: | & - -> and parentheses)",
        'document.permissions.empty: an empty list grants nothing; write at least one name',
        'document.permissions.num: must be an expression (a string) or a list of them',
        "document.permissions.read: 'read' is both a relation and a permission of document",
        "document.permissions.up: editor->read: unknown relation 'editor' (column 1)",
        "document.permissions.view: unknown relation or permission 'ownr' (column 1)",
        "document.permissions.write: parent->edit: 'parent' allows 'user:*'; an arrow cannot walk through a wildcard",
        "document.permissions.write: parent->edit: type 'document' (allowed by 'parent') has no relation or permission 'edit'",
        'document.relation: unknown field (a type has `relations` and `permissions`)',
        'document.relations.editor: must be a non-empty list of subject types (`user`, `group#member`, `user:*`)',
        "group.relations.member[1]: type 'group' has no relation or permission 'membr'",
        "group.relations.member[2]: unknown type 'usr'",
        "group.relations.member[4]: 'user' is listed twice",
    ]);
    const r = compileSchema(text, 'yaml');
    t.match(!r.ok && r.errors.find((e) => e.path === 'document.permissions.view'), { line: 9, column: 5 }, 'YAML errors carry line and column');
});
t.test('recursion that cannot terminate, and recursion through an exclusion, are refused', async (t) => {
    const base = 'user: {}\ndocument:\n  relations: { owner: [user], parent: [document], banned: [user] }\n  permissions:\n';
    t.match(errorsOf(`${base}    read: read`), ['document.permissions.read: recursion that cannot terminate: read → read refers back without an arrow or a userset in between']);
    t.match(errorsOf(`${base}    a: b | owner\n    b: c\n    c: a`), [/^document\.permissions\.a: recursion that cannot terminate: a → b → c → a/]);
    t.match(errorsOf(`${base}    read: owner - parent->read`), [/^document\.permissions\.read: 'document#read' is subtracted with '-' but depends on this permission again/]);
    t.same(errorsOf(`${base}    read: (owner | parent->read) - banned`), [], 'through an arrow it terminates');
    const usersets = 'user: {}\ngroup:\n  relations: { member: [user, "group#member", "group#ok"], banned: [user] }\n  permissions: { ok: member - banned }\n';
    t.same(errorsOf(usersets), [], 'a userset cycle terminates');
    t.match(errorsOf('user: {}\ngroup:\n  relations: { member: [user, "group#ok"], banned: [user] }\n  permissions: { ok: banned - member }\n'), [/recursion through an exclusion/]);
});
t.test('shape errors', async (t) => {
    t.same(errorsOf('[]', 'json'), ['a schema is a map from type names to { relations, permissions }']);
    t.same(errorsOf('{}', 'json'), ['the schema defines no type']);
    t.same(errorsOf('user: 3'), ['user: must be a map with `relations` and/or `permissions`']);
    t.match(errorsOf('user: {'), [/malformed YAML/]);
    t.same(errorsOf('user:\n'), [], 'a type with nothing after it is a type with no relations');
});
