// The file relationship store (STORE=file): the conformance suite, then what the journal
// is for: every acknowledged write survives a restart, compaction keeps the state, a
// torn last line (a crash mid-append) is dropped, a corrupt journal is refused, and a
// directory that cannot be written leaves the service on memory, still answering.
import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relationStoreConformance } from '../../src/relations/store/conformance.js';
import { FileRelationStore } from '../../src/relations/store/file-relation-store.js';
import { formatTuple, parseTuple } from '../../src/relations/tuple.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { FileStore } from '../../src/store/file/file-store.js';
import { testApp } from '../helpers/app.js';
import { exampleSchema, exampleTuples } from './example.js';
const tempDir = () => mkdtempSync(join(tmpdir(), 'pe-rel-file-'));
const T = parseTuple;
const batch = (writes, deletes = []) => ({ writes: writes.map(T), deletes: deletes.map(T), preconditions: [] });
relationStoreConformance(t, 'file', async () => {
    const dir = tempDir();
    return { store: new FileRelationStore({ dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
t.test('acknowledged writes survive a restart, compaction included', async (t) => {
    const dir = tempDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const first = new FileRelationStore({ dir, compactEvery: 5 });
    await first.open();
    await first.putSchema('definition: x', 'yaml');
    for (let i = 0; i < 12; i++)
        await first.write(batch([`document:d${i}#reader@user:u${i}`]));
    await first.write(batch([], ['document:d3#reader@user:u3']));
    const before = await first.loadAll();
    await first.close();
    t.ok(readdirSync(dir).includes('snapshot.json'), 'compacted into a snapshot');
    t.ok(readFileSync(join(dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).length < 5, 'the journal restarted');
    const second = new FileRelationStore({ dir, compactEvery: 5 });
    await second.open();
    const after = await second.loadAll();
    t.equal(after.revision, before.revision, 'the same revision');
    t.same(after.tuples.map(formatTuple).sort(), before.tuples.map(formatTuple).sort(), 'the same tuples');
    t.same(await second.getSchema(), { text: 'definition: x', format: 'yaml', revision: '1' });
    t.equal((await second.write(batch(['document:n#reader@user:new']))).revision, String(Number(before.revision) + 1), 'revisions go on');
    await second.close();
});
t.test('a torn last line is dropped; a corrupt line before others is refused', async (t) => {
    const dir = tempDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const store = new FileRelationStore({ dir });
    await store.open();
    await store.write(batch(['document:a#reader@user:x']));
    await store.close();
    appendFileSync(join(dir, 'journal.jsonl'), '{"revision":"2","writes":["document:b#rea');
    const repairs = [];
    const reopened = new FileRelationStore({ dir, onRepair: (m) => repairs.push(m) });
    await reopened.open();
    t.same((await reopened.loadAll()).tuples.map(formatTuple), ['document:a#reader@user:x']);
    t.equal(repairs.length, 1);
    t.equal((await reopened.write(batch(['document:c#reader@user:y']))).revision, '2', 'the torn write never happened');
    await reopened.close();
    writeFileSync(join(dir, 'journal.jsonl'), 'garbage\n{"revision":"1","writes":[],"deletes":[]}\n');
    const corrupt = new FileRelationStore({ dir });
    await t.rejects(corrupt.open(), StoreUnavailableError);
});
t.test('STORE=file: relationships persist across a service restart, beside the policy files', async (t) => {
    const dir = tempDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    {
        const { app } = await testApp(t, { store: new FileStore({ dir }) });
        t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema })).statusCode, 200);
        t.equal((await app.inject({ method: 'POST', url: '/v1/relations/write', payload: { writes: exampleTuples } })).statusCode, 200);
        await app.close();
    }
    t.ok(readdirSync(join(dir, '.relations')).includes('journal.jsonl'));
    const { app } = await testApp(t, { store: new FileStore({ dir }) });
    const ready = (await app.inject({ method: 'GET', url: '/readyz' })).json();
    t.equal(ready.relations.tuples, exampleTuples.length, 'reloaded from the journal');
    const list = await app.inject({ method: 'GET', url: '/v1/policies' });
    t.same(list.json().items, [], 'the relationship files are not read as policies');
});
t.test('a directory that cannot be used: relationships stay in memory, the service answers', async (t) => {
    const dir = tempDir();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    // A file where the directory should be: refused even for root (as a read-only ConfigMap is).
    writeFileSync(join(dir, '.relations'), 'not a directory');
    const { app } = await testApp(t, { store: new FileStore({ dir }) });
    t.equal((await app.inject({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema })).statusCode, 200);
    const ready = (await app.inject({ method: 'GET', url: '/readyz' })).json();
    t.equal(ready.status, 'ready');
    t.equal(ready.relations.loaded, true);
});
