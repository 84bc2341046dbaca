// Two service instances over one database (FerretDB): an entity written through one is
// merged into the other's decisions within the policies' propagation bound (2 s at the
// default 1 s poll), and once it has arrived, the other never serves the decision it had
// cached from before (its entries of that subject are dropped, and the key changed).
import t, { type Test } from 'tap';
import { mongoReplicas } from '../helpers/app.js';
import { httpSender, type Send } from '../helpers/http.js';

const { a, b } = await mongoReplicas(t);
const sendA = await httpSender(a.app);
const sendB = await httpSender(b.app);

const policy = 'key: global-base\nrules:\n  - subjects: ["role:editor"]\n    grant: ["doc:edit"]\n  - subjects: ["*"]\n    deny: ["doc:edit"]\n    when: has(subject.attributes.suspended) && subject.attributes.suspended\n';
t.equal((await sendA({ method: 'PUT', url: '/v1/policies/global-base', headers: { 'content-type': 'application/yaml' }, payload: policy })).status, 201);

const check = async (send: Send) => {
  const r = await send({ method: 'POST', url: '/v1/check', payload: { subject: 'user:alice', namespace: 'global.org', permission: 'doc:edit' } });
  t.equal(r.status, 200, r.body);
  return r.json() as { allowed: boolean; cached: boolean; revision: string };
};

/** Write an entity on A; wait until B's directory has it, asking B all the while; then B must answer from it. */
async function propagate(t: Test, body: object | 'delete', want: boolean): Promise<number> {
  const w = body === 'delete'
    ? await sendA({ method: 'DELETE', url: '/v1/entities/user:alice' })
    : await sendA({ method: 'PUT', url: '/v1/entities/user:alice', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  t.ok(w.status === 200 || w.status === 201 || w.status === 204, w.body);
  const written = Number((await sendA({ method: 'GET', url: '/v1/entities?limit=1' })).json().items[0]?.revision ?? (await a.services.entities.manager.store.revision()));
  t.equal((await check(sendA)).allowed, want, 'A answers with its own write at once');
  const start = Date.now();
  const manager = b.services.entities.manager;
  while (Number(manager.revision) < written) {
    if (Date.now() - start > 2000) throw new Error(`B did not reach directory revision ${written} within 2 s (at ${manager.revision})`);
    await check(sendB); // keeps B's cache warm with the old state meanwhile
    await new Promise((r) => setTimeout(r, 20));
  }
  const took = Date.now() - start;
  // From here on every answer is the new one, cached or not: its revision names the
  // entity's new version (a check in the loop above may already have cached it).
  for (let i = 0; i < 3; i++) {
    const r = await check(sendB);
    t.equal(r.allowed, want, 'B answers from the new entity once it has arrived');
    if (body === 'delete') t.notMatch(r.revision, /\+e/, 'no entity merged any more: never an entry cached before the delete');
    else t.match(r.revision, new RegExp(`\\+e${written}$`), 'the entity version it was computed from: never an entry cached before the change');
  }
  t.equal((await check(sendB)).cached, true, 'and caches the new answer');
  return took;
}

t.test('an entity change on A reaches B within 2 s; B never serves its stale cached entry', async (t) => {
  // B first learns the policy (until then its default grants everything).
  const start = Date.now();
  while ((await check(sendB)).allowed) {
    if (Date.now() - start > 2000) throw new Error('B did not load the policy within 2 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  t.equal((await check(sendB)).cached, true, 'B has the answer cached');
  const times = [
    await propagate(t, { roles: ['editor'] }, true),
    await propagate(t, { roles: ['editor'], attributes: { suspended: true } }, false),
    await propagate(t, { roles: ['editor'], attributes: { suspended: false } }, true),
    await propagate(t, 'delete', false),
  ];
  t.comment(`directory propagation A → B: ${times.join(', ')} ms`);
});

t.test('an import on B reaches A; an entity change drops exactly that subject\'s entries', async (t) => {
  const bob = async (send: Send) => (await send({ method: 'POST', url: '/v1/check', payload: { subject: 'user:bob', namespace: 'global.org', permission: 'doc:edit' } })).json() as { allowed: boolean; cached: boolean };
  t.equal((await bob(sendA)).allowed, false);
  await check(sendA);
  t.equal((await bob(sendA)).cached, true);
  const r = await sendB({ method: 'POST', url: '/v1/entities', headers: { 'content-type': 'application/yaml' }, payload: 'ref: user:bob\nroles: [editor]\n---\nref: doc:1\nattributes: {x: 1}\n' });
  t.equal(r.status, 200, r.body);
  const rev = Number(r.json().revision);
  const start = Date.now();
  while (Number(a.services.entities.manager.revision) < rev) {
    if (Date.now() - start > 2000) throw new Error('A did not catch up within 2 s');
    await new Promise((res) => setTimeout(res, 20));
  }
  t.equal((await check(sendA)).cached, true, "alice's entry is untouched by bob's change");
  const after = await bob(sendA);
  t.same(after, { ...after, allowed: true, cached: false });
});
