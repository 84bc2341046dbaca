// The example of examples/relations/ (the py_magister schema and a graph of nested
// groups and parent documents), and what every check on it must answer.
import { readFileSync } from 'node:fs';
const dir = new URL('../../examples/relations/', import.meta.url);
export const exampleSchema = readFileSync(new URL('schema.yaml', dir), 'utf8');
export const exampleTuples = readFileSync(new URL('tuples.txt', dir), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
/** [resource, permission, subject, allowed] */
export const exampleChecks = [
    ['document:root', 'read', 'user:dave', true], // owner
    ['document:root', 'read', 'user:carol', true], // staff member
    ['document:root', 'read', 'user:alice', true], // eng ⊂ staff
    ['document:draft', 'read', 'user:alice', true], // draft > specs > root, through two parents
    ['document:draft', 'read', 'user:erin', true], // owner
    ['document:specs', 'read', 'user:erin', false], // owning a child gives nothing on the parent
    ['document:draft', 'write', 'user:bob', true], // editor of the parent
    ['document:draft', 'write', 'user:alice', false], // reading is not writing
    ['document:root', 'write', 'user:bob', false], // edits specs, not root
    ['document:specs', 'write', 'user:bob', true],
    ['document:handbook', 'read', 'user:zed', true], // user:*: anyone, known or not
    ['document:handbook', 'write', 'user:zed', false],
    ['document:root', 'read', 'user:zed', false],
    ['group:staff', 'member', 'user:alice', true], // a relation can be checked too
    ['group:eng', 'member', 'user:carol', false],
    ['document:root', 'reader', 'group:staff#member', true], // a userset as the subject
];
