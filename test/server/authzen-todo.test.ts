// Our version of the public AuthZEN "Todo" interop scenario (1.0): five users with
// roles, todos owned by an email, and the decisions of the Todo application's five
// routes for every user. Asked twice: once with roles and email sent as subject
// properties, once as the interop PEP asks (subject = the opaque id from the token's
// `sub`, nothing else), the five users' roles and emails held by the directory
// (/v1/entities) — ownership by email from the directory. A directory change reaches the
// next AuthZEN answer at once, never a stale cached one.

import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { putYaml, testApp } from '../helpers/app.js';
import { DIRECTORY, TODO_POLICY, USERS } from '../helpers/authzen-todo.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are checked field by field

type User = keyof typeof USERS;
const NAMES = Object.keys(USERS) as User[];

// Which user may do what: the scenario's expected decisions.
const mayCreate: User[] = ['rick', 'morty', 'summer'];
/** update a todo owned by `owner` */
const mayUpdate = (u: User, owner: User) => u === 'rick' || (USERS[u].roles.includes('editor' as never) && u === owner);
const mayDelete = (u: User, owner: User) => u === 'rick' || (USERS[u].roles.includes('editor' as never) && u === owner);

type Subject = (u: User) => object;

/** Every decision of the scenario, the subject of each user as `subject` builds it. */
async function scenario(t: Test, app: FastifyInstance, subject: Subject): Promise<void> {
  const evaluate = async (body: object) => {
    const r = await app.inject({ method: 'POST', url: '/access/v1/evaluation', payload: body, headers: { 'x-request-id': 'todo' } });
    t.equal(r.statusCode, 200, r.body);
    return (r.json() as Json).decision as boolean;
  };

  for (const u of NAMES) {
    // GET /users/{userID} and GET /todos: always true.
    for (const other of NAMES) {
      t.equal(await evaluate({ subject: subject(u), action: { name: 'can_read_user' }, resource: { type: 'user', id: USERS[other].email, properties: { userID: USERS[other].email } }, context: {} }), true, `${u} can_read_user ${other}`);
    }
    t.equal(await evaluate({ subject: subject(u), action: { name: 'can_read_todos' }, resource: { type: 'todo', id: 'todo-1' }, context: {} }), true, `${u} can_read_todos`);
    // POST /todos
    t.equal(await evaluate({ subject: subject(u), action: { name: 'can_create_todo' }, resource: { type: 'todo', id: 'todo-1' }, context: {} }), mayCreate.includes(u), `${u} can_create_todo`);
    // PUT and DELETE /todos/{id}, for a todo owned by each user
    for (const owner of NAMES) {
      const resource = { type: 'todo', id: '7240d0db-8ff0-41ec-98b2-34a096273b9f', properties: { ownerID: USERS[owner].email } };
      t.equal(await evaluate({ subject: subject(u), action: { name: 'can_update_todo' }, resource, context: {} }), mayUpdate(u, owner), `${u} can_update_todo owned by ${owner}`);
      t.equal(await evaluate({ subject: subject(u), action: { name: 'can_delete_todo' }, resource, context: {} }), mayDelete(u, owner), `${u} can_delete_todo owned by ${owner}`);
    }
  }

  // The same decisions boxcarred: Morty on his own todo and on Rick's, all semantics.
  const own = { type: 'todo', id: 't1', properties: { ownerID: USERS.morty.email } };
  const ricks = { type: 'todo', id: 't2', properties: { ownerID: USERS.rick.email } };
  const batch = (semantic: string) => app.inject({
    method: 'POST', url: '/access/v1/evaluations',
    payload: { subject: subject('morty'), action: { name: 'can_update_todo' }, evaluations: [{ resource: own }, { resource: ricks }, { action: { name: 'can_delete_todo' }, resource: own }], options: { evaluations_semantic: semantic } },
  }).then((r) => (r.json() as Json).evaluations.map((e: Json) => e.decision));
  t.same(await batch('execute_all'), [true, false, true]);
  t.same(await batch('deny_on_first_deny'), [true, false]);
  t.same(await batch('permit_on_first_permit'), [true]);

  // Which actions Morty has on his own todo, and who may update Rick's.
  const actions = await app.inject({ method: 'POST', url: '/access/v1/search/action', payload: { subject: subject('morty'), resource: own } });
  t.same((actions.json() as Json).results.map((r: Json) => r.name), ['can_create_todo', 'can_delete_todo', 'can_read_todos', 'can_read_user', 'can_update_todo']);
}

t.test('the Todo interop scenario', async (t) => {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-todo', TODO_POLICY);
  // What the PDP knows about each subject, sent as properties (an identity layer in front
  // of the PEP attaching them); the next test has the directory hold them instead.
  await scenario(t, app, (u) => ({ type: 'user', id: USERS[u].pid, properties: { roles: [...USERS[u].roles], email: USERS[u].email } }));
});


async function withDirectory(t: Test) {
  const { app } = await testApp(t);
  await putYaml(t, app, 'global-todo', TODO_POLICY);
  const r = await app.inject({ method: 'POST', url: '/v1/entities', payload: DIRECTORY });
  t.equal(r.statusCode, 200, r.body);
  t.same((r.json() as Json).created, 5);
  return app;
}

t.test('the Todo interop scenario with the directory: the PEP sends only {type, id}', async (t) => {
  const app = await withDirectory(t);
  // As the interop PEP asks: the token's opaque `sub`, nothing else about the user.
  await scenario(t, app, (u) => ({ type: 'user', id: USERS[u].pid }));
});

t.test('a directory change reaches the AuthZEN answer at once (no stale cache entry)', async (t) => {
  const app = await withDirectory(t);
  const morty = { type: 'user', id: USERS.morty.pid };
  const own = { type: 'todo', id: 't1', properties: { ownerID: USERS.morty.email } };
  const ask = async (action: string) => {
    const r = await app.inject({ method: 'POST', url: '/access/v1/evaluation', payload: { subject: morty, action: { name: action }, resource: own, context: {} } });
    t.equal(r.statusCode, 200, r.body);
    return (r.json() as Json).decision as boolean;
  };
  const cachedCheck = async () => ((await app.inject({
    method: 'POST', url: '/v1/check',
    payload: { subject: `user:${USERS.morty.pid}`, namespace: 'global', permission: 'can_update_todo', resource: { type: 'todo', id: 't1', attributes: { ownerID: USERS.morty.email } }, context: {} },
  })).json() as Json).cached as boolean;
  const putMorty = async (body: object) => {
    const r = await app.inject({ method: 'PUT', url: `/v1/entities/user:${encodeURIComponent(USERS.morty.pid)}`, payload: body });
    t.equal(r.statusCode, 200, r.body);
  };

  t.equal(await ask('can_update_todo'), true, 'an editor updates his own todo');
  t.equal(await ask('can_update_todo'), true);
  t.equal(await cachedCheck(), true, 'the answer is cached');

  await putMorty({ roles: ['viewer'], attributes: { email: USERS.morty.email } });
  t.equal(await ask('can_update_todo'), false, 'no longer an editor: refused at once');
  await putMorty({ roles: ['editor'], attributes: { email: 'morty@elsewhere.example' } });
  t.equal(await ask('can_update_todo'), false, 'another email: no longer the owner');
  await putMorty({ roles: ['editor'], attributes: { email: USERS.morty.email } });
  t.equal(await ask('can_update_todo'), true, 'restored');
  const del = await app.inject({ method: 'DELETE', url: `/v1/entities/user:${encodeURIComponent(USERS.morty.pid)}` });
  t.equal(del.statusCode, 204);
  t.equal(await ask('can_read_todos'), true, 'unknown to the directory: everyone may still read');
  t.equal(await ask('can_update_todo'), false, 'but no role, no email: refused');
});
