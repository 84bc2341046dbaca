// Query plans over two replicas on one FerretDB database (docs/plans.md, "Cached answers"):
// B keeps its plan answers in its answer cache; after a policy write through A, B answers
// the new plan within the propagation bound (POLL_INTERVAL_MS 1 s + one query: 2 s here,
// as the other replica tests), and once it has, never the old one again.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { mongoReplicas, putYaml } from '../helpers/app.js';

const { a, b } = await mongoReplicas(t);

const policy = (status: string) => [
  'key: global-docs', 'namespace: global', 'rules:',
  '  - subjects: ["*"]', '    grant: ["doc:read"]', `    when: resource.attributes.status == '${status}'`,
  '',
].join('\n');

const REQUEST = { subject: 'user:alice', namespace: 'global', permission: 'doc:read', resource: { type: 'doc' } };

async function plan(app: FastifyInstance): Promise<{ filter: unknown; revision: string }> {
  const r = await app.inject({ method: 'POST', url: '/v1/plan', payload: REQUEST });
  t.equal(r.statusCode, 200, r.body);
  return r.json();
}

async function hits(app: FastifyInstance): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(/^policy_engine_plan_results_hits_total (\S+)$/m.exec(text)?.[1] ?? NaN);
}

const filterFor = (status: string) => ({ op: 'eq', field: 'attributes.status', value: status });

/** Asks B until its plan is `want`; the time it took (throws past the bound). */
async function until(want: unknown, bound = 2000): Promise<number> {
  const start = Date.now();
  while (JSON.stringify((await plan(b.app)).filter) !== JSON.stringify(want)) {
    if (Date.now() - start > bound) throw new Error(`B still plans ${JSON.stringify((await plan(b.app)).filter)} after ${bound} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

t.test("a policy write on A reaches B's plans; B's cached plan is not served past the bound", async (t) => {
  await putYaml(t, a.app, 'global-docs', policy('published'));
  await until(filterFor('published'), 5000); // B has loaded the first version
  const before = await hits(b.app);
  t.same((await plan(b.app)).filter, filterFor('published'));
  t.ok((await hits(b.app)) > before, "B answers from its plan cache");

  const times: number[] = [];
  for (const status of ['archived', 'draft', 'published']) {
    await putYaml(t, a.app, 'global-docs', policy(status));
    const onA = await plan(a.app);
    t.same(onA.filter, filterFor(status), 'A plans from its own write at once');
    times.push(await until(filterFor(status)));
    for (let i = 0; i < 3; i++) {
      const onB = await plan(b.app);
      t.same(onB.filter, filterFor(status), 'and B keeps planning from the new version');
      t.equal(onB.revision, onA.revision, 'at the revision A wrote');
    }
  }
  t.comment(`policy write on A → B's plan: ${times.join(', ')} ms`);
});
