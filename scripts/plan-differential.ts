// Nightly-style run of the query-plan differential (test/helpers/plan-differential.ts):
// many more cases than the suite, every one queried in FerretDB as well as PostgreSQL.
//
//   MONGO_URL=mongodb://127.0.0.1:27999/ node --import tsx scripts/plan-differential.ts [cases] [seed]
//
// Without MONGO_URL it starts a FerretDB of its own (as the tests do). Exits 1 with the
// shrunk counterexample on a mismatch.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { runDifferential } from '../test/helpers/plan-differential.js';
import { startFerretDB } from '../test/helpers/ferretdb.js';

const cases = Number(process.argv[2] ?? 50_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
const server = process.env.MONGO_URL ? undefined : await startFerretDB();
const client = await MongoClient.connect(process.env.MONGO_URL ?? server!.url);
const db = client.db(`pe_plan_nightly_${randomBytes(4).toString('hex')}`);
const started = Date.now();
try {
  const counts = await runDifferential(db, { cases, seed, mongoEveryCase: true, rows: 300 });
  console.log(`plan differential: ${counts.cases} cases (seed ${seed}), ${counts.mongoCases} in FerretDB, ${counts.conditional} conditional, ${((Date.now() - started) / 1000).toFixed(0)} s: all agree with check`);
} catch (err) {
  console.error(`plan differential FAILED (seed ${seed}):\n${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.dropDatabase().catch(() => {});
  await client.close();
  await server?.stop();
}
