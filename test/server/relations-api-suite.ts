// The relationship API, end to end on the example, through one `send` (inject on the
// memory store, real HTTP on MongoDB): the same suite runs both ways.

import type { Test } from 'tap';
import type { Send } from '../helpers/http.js';
import { exampleChecks, exampleSchema, exampleTuples } from '../helpers/relations-example.js';

const json = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => ({ method, url, ...(payload ? { payload } : {}) });

export function relationsApiSuite(t: Test, send: Send): Promise<void> {
  return t.test('relationships API on the example', async (t) => {
    const none = await send(json('GET', '/v1/relations/schema'));
    t.equal(none.status, 404);
    t.equal(none.json().code, 'RELATION_SCHEMA_NOT_FOUND');
    const early = await send(json('POST', '/v1/relations/write', { writes: ['document:a#owner@user:x'] }));
    t.equal(early.status, 422, 'no tuple before a schema');

    // Every schema error, each with its place.
    const bad = await send({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: 'user: {}\ndocument:\n  relations: { owner: [usr] }\n  permissions: { read: "ownr | owner" }\n' });
    t.equal(bad.status, 422);
    t.equal(bad.json().code, 'RELATION_SCHEMA_INVALID');
    t.same(bad.json().details.map((d: { path: string }) => d.path), ['document.permissions.read', 'document.relations.owner[0]']);
    t.match(bad.json().details[0].message, /unknown relation or permission 'ownr'/);

    const put = await send({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/yaml' }, payload: exampleSchema });
    t.equal(put.status, 200, put.body);
    const schemaRevision = put.json().revision as string;
    const got = await send({ method: 'GET', url: '/v1/relations/schema', headers: { accept: 'application/yaml' } });
    t.equal(got.body, exampleSchema, 'the schema comes back as written, comments included');
    const asJson = await send({ method: 'GET', url: '/v1/relations/schema' });
    t.same(asJson.json().group, { relations: { member: ['user', 'group#member'] } });

    const write = await send(json('POST', '/v1/relations/write', { writes: exampleTuples }));
    t.equal(write.status, 200, write.body);
    const revision = write.json().revision as string;
    t.ok(Number(revision) > Number(schemaRevision));

    for (const [resource, permission, subject, allowed] of exampleChecks) {
      const r = await send(json('POST', '/v1/relations/check', { resource, permission, subject, consistency: { atLeast: revision } }));
      t.equal(r.status, 200, r.body);
      t.same(r.json(), { allowed, revision }, `${resource}#${permission}@${subject} → ${allowed}`);
    }
    const explained = await send(json('POST', '/v1/relations/check', { resource: 'document:draft', permission: 'read', subject: 'user:alice', explain: true }));
    t.same(explained.json().explain.path, [
      'document:draft#read', 'document:draft#parent@document:specs', 'document:specs#read', 'document:specs#parent@document:root',
      'document:root#read', 'document:root#reader', 'document:root#reader@group:staff#member', 'group:staff#member',
      'group:staff#member@group:eng#member', 'group:eng#member', 'group:eng#member@user:alice',
    ], 'explain: the path of relations that proved it');

    // Never a silent false.
    for (const [body, code] of [
      [{ resource: 'document:root', permission: 'reed', subject: 'user:dave' }, 'RELATION_UNKNOWN'],
      [{ resource: 'doc:root', permission: 'read', subject: 'user:dave' }, 'RELATION_UNKNOWN'],
      [{ resource: 'document:root', permission: 'read', subject: 'usr:dave' }, 'RELATION_UNKNOWN'],
      [{ resource: 'document:root', permission: 'read', subject: 'group:eng#membr' }, 'RELATION_UNKNOWN'],
      [{ resource: 'document', permission: 'read', subject: 'user:dave' }, 'RELATION_INVALID'],
      [{ resource: 'document:root', permission: 'read', subject: 'user:dave', consistency: { atLeast: 'soon' } }, 'RELATION_INVALID'],
    ] as const) {
      const r = await send(json('POST', '/v1/relations/check', body));
      t.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
      t.equal(r.json().code, code);
    }

    // A tuple the schema does not allow; a failed precondition; both write nothing.
    const notAllowed = await send(json('POST', '/v1/relations/write', { writes: ['document:x#owner@user:ok', 'document:x#owner@group:eng#member', { resource: 'document:x', relation: 'read', subject: 'user:a' }] }));
    t.equal(notAllowed.status, 422);
    t.equal(notAllowed.json().code, 'RELATION_TUPLE_INVALID');
    t.same(notAllowed.json().details.map((d: { path: string }) => d.path), ['writes[1]', 'writes[2]']);
    const conflict = await send(json('POST', '/v1/relations/write', {
      writes: ['document:x#owner@user:ok'],
      preconditions: [{ mustExist: 'document:root#owner@user:dave' }, { mustNotExist: { resource: 'document:draft', relation: 'owner', subject: 'user:erin' } }],
    }));
    t.equal(conflict.status, 409);
    t.equal(conflict.json().code, 'RELATION_PRECONDITION_FAILED');
    t.same(conflict.json().details, { mustNotExist: 'document:draft#owner@user:erin' });
    const x = await send(json('GET', '/v1/relations?resource=document:x'));
    t.same(x.json(), { relationships: [], cursor: null }, 'nothing was written');

    // Reads by filter, page by page.
    const readers = await send(json('GET', '/v1/relations?resource=document&relation=reader'));
    t.same(readers.json().relationships, [
      { resource: 'document:handbook', relation: 'reader', subject: 'user:*' },
      { resource: 'document:root', relation: 'reader', subject: 'group:staff#member' },
    ]);
    const pages: string[] = [];
    let url = '/v1/relations?limit=5';
    for (let i = 0; i < 10; i++) {
      const p = (await send(json('GET', url))).json();
      pages.push(...p.relationships.map((r: { resource: string; relation: string; subject: string }) => `${r.resource}#${r.relation}@${r.subject}`));
      if (p.cursor === null) break;
      url = `/v1/relations?limit=5&cursor=${encodeURIComponent(p.cursor)}`;
    }
    t.same(pages, [...exampleTuples].sort(), 'every tuple once, in order');
    const bySubject = await send(json('GET', `/v1/relations?subject=${encodeURIComponent('group:eng#member')}`));
    t.same(bySubject.json().relationships.map((r: { resource: string }) => r.resource), ['group:staff']);
    t.equal((await send(json('GET', '/v1/relations?resource=not%20valid'))).status, 400);
    // A name the schema does not know is a 400, never an empty page.
    for (const q of ['relation=nosuch', 'resource=nosuch:x', 'resource=nosuch', 'subject=nosuch:x', 'resource=document&relation=member', 'resource=document&relation=read']) {
      const r = await send(json('GET', `/v1/relations?${q}`));
      t.equal(r.status, 400, `${q}: ${r.body.slice(0, 120)}`);
      t.equal(r.json().code, 'RELATION_UNKNOWN', q);
    }
    t.equal((await send(json('GET', '/v1/relations?relation=member'))).status, 200, 'a relation of some type, any type asked');

    // Lookups, with cursors.
    const docs = await send(json('POST', '/v1/relations/lookup-resources', { resourceType: 'document', permission: 'read', subject: 'user:alice' }));
    t.same(docs.json(), { resources: ['document:draft', 'document:handbook', 'document:root', 'document:specs'], cursor: null, revision });
    const first = (await send(json('POST', '/v1/relations/lookup-resources', { resourceType: 'document', permission: 'read', subject: 'user:alice', limit: 3 }))).json();
    t.same(first.resources, ['document:draft', 'document:handbook', 'document:root']);
    const second = (await send(json('POST', '/v1/relations/lookup-resources', { resourceType: 'document', permission: 'read', subject: 'user:alice', limit: 3, cursor: first.cursor }))).json();
    t.same([second.resources, second.cursor], [['document:specs'], null]);
    const readersOfDraft = await send(json('POST', '/v1/relations/lookup-subjects', { resource: 'document:draft', permission: 'read', subjectType: 'user' }));
    t.same(readersOfDraft.json().subjects, ['user:alice', 'user:bob', 'user:carol', 'user:dave', 'user:erin']);
    const everyone = await send(json('POST', '/v1/relations/lookup-subjects', { resource: 'document:handbook', permission: 'read', subjectType: 'user' }));
    t.equal(everyone.json().subjects[0], 'user:*', 'a wildcard answers user:* first');
    const unknownLookup = await send(json('POST', '/v1/relations/lookup-subjects', { resource: 'document:draft', permission: 'read', subjectType: 'team' }));
    t.equal(unknownLookup.json().code, 'RELATION_UNKNOWN');

    // Deletes take effect at once on this replica; a schema that would orphan tuples is refused.
    const del = await send(json('POST', '/v1/relations/write', { deletes: ['document:specs#parent@document:root'] }));
    const after = await send(json('POST', '/v1/relations/check', { resource: 'document:draft', permission: 'read', subject: 'user:alice', consistency: { atLeast: del.json().revision } }));
    t.same(after.json(), { allowed: false, revision: del.json().revision });
    const orphaning = await send({ method: 'PUT', url: '/v1/relations/schema', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ user: {}, group: { relations: { member: ['user', 'group#member'] } }, document: { relations: { owner: ['user'], parent: ['document'] } } }) });
    t.equal(orphaning.status, 422);
    t.match(orphaning.json().details.map((d: { path: string }) => d.path), ['document.relations.editor', 'document.relations.reader']);

    // A revision this replica never reaches: 503 after a bounded wait, never a stale answer.
    const future = await send(json('POST', '/v1/relations/check', { resource: 'document:root', permission: 'read', subject: 'user:dave', consistency: { atLeast: '999999' } }));
    t.equal(future.status, 503);
    t.equal(future.json().code, 'RELATIONS_STALE');
    const full = await send(json('POST', '/v1/relations/check', { resource: 'document:root', permission: 'read', subject: 'user:dave', consistency: { fullyConsistent: true } }));
    t.same(full.json(), { allowed: true, revision: del.json().revision });
  }).then(() => undefined);
}
