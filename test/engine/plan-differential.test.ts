// Query plans against real databases (SPEC §11): for random policy sets, subjects and
// contexts, the rows PostgreSQL's `WHERE plan.sql` and FerretDB's `find(plan.mongo)`
// select are exactly the rows the decision function allows (what /v1/check answers).
// Half of the suite's 10,000 cases (the other half: plan-differential-2.test.ts, another
// seed, so the two files run side by side); every case against both databases and many
// more: scripts/plan-differential.ts.
import t from 'tap';
import { testMongo } from '../helpers/mongo.js';
import { runDifferential } from '../helpers/plan-differential.js';

// about a minute on an idle machine; several on a busy one
t.setTimeout(600_000);

t.test('plans select exactly the rows check allows (PostgreSQL and FerretDB)', async (t) => {
  const { client } = await testMongo(t);
  const cases = Number(process.env.PLAN_CASES ?? 5000);
  const counts = await runDifferential(client.db(), { cases, seed: Number(process.env.PLAN_SEED ?? 20261205) });
  t.ok(counts.cases >= cases, `${counts.cases} cases checked against PostgreSQL`);
  t.ok(counts.mongoCases >= cases / 60, `${counts.mongoCases} cases checked against FerretDB`);
  t.ok(counts.conditional > counts.cases / 4, `${counts.conditional} of the plans were conditional (not always / never)`);
});
