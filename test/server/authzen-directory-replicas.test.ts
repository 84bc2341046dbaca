// The Todo scenario's directory over two replicas on one FerretDB database: the PEP sends
// only {type, id}; a role or email changed through A changes B's AuthZEN answer within
// the propagation bound (2 s at the default 1 s poll), although B had the old answer
// cached, and once the change has arrived B never answers from before it.
import t from 'tap';
import { mongoReplicas, putYaml } from '../helpers/app.js';
import { httpSender, type Send } from '../helpers/http.js';
import { DIRECTORY, TODO_POLICY, USERS } from '../helpers/authzen-todo.js';

const { a, b } = await mongoReplicas(t);
const sendA = await httpSender(a.app);
const sendB = await httpSender(b.app);

const mortyRef = `user:${encodeURIComponent(USERS.morty.pid)}`;
const updateOwn = async (send: Send) => {
  const r = await send({
    method: 'POST', url: '/access/v1/evaluation',
    payload: { subject: { type: 'user', id: USERS.morty.pid }, action: { name: 'can_update_todo' }, resource: { type: 'todo', id: 't1', properties: { ownerID: USERS.morty.email } } },
  });
  t.equal(r.status, 200, r.body);
  return r.json().decision as boolean;
};

async function until(send: Send, want: boolean): Promise<number> {
  const start = Date.now();
  while ((await updateOwn(send)) !== want) {
    if (Date.now() - start > 2000) throw new Error(`B still answers ${!want} after 2 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

t.test("a directory change on A reaches B's AuthZEN answers; B's cached answer is not served", async (t) => {
  await putYaml(t, a.app, 'global-todo', TODO_POLICY);
  t.equal((await sendA({ method: 'POST', url: '/v1/entities', payload: DIRECTORY })).status, 200);
  await until(sendB, true); // B has the policy and the directory
  t.equal(await updateOwn(sendB), true);
  const check = await sendB({ method: 'POST', url: '/v1/check', payload: { subject: `user:${USERS.morty.pid}`, namespace: 'global', permission: 'can_update_todo', resource: { type: 'todo', id: 't1', attributes: { ownerID: USERS.morty.email } } } });
  t.equal(check.json().cached, true, "B's answer is cached");

  const times: number[] = [];
  const put = async (body: object, want: boolean) => {
    const w = await sendA({ method: 'PUT', url: `/v1/entities/${mortyRef}`, payload: body });
    t.equal(w.status, 200, w.body);
    t.equal(await updateOwn(sendA), want, 'A answers from its own write at once');
    times.push(await until(sendB, want));
    for (let i = 0; i < 3; i++) t.equal(await updateOwn(sendB), want, 'and B keeps answering from the new entity');
  };
  await put({ roles: ['viewer'], attributes: { email: USERS.morty.email } }, false);
  await put({ roles: ['editor'], attributes: { email: USERS.morty.email } }, true);
  await put({ roles: ['editor'], attributes: { email: 'morty@elsewhere.example' } }, false);
  t.comment(`directory → AuthZEN on B: ${times.join(', ')} ms`);
});
