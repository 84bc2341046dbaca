// The client's plan() and its helpers against a real engine, a real FerretDB collection
// and a real PostgreSQL table: pages hold exactly the authorized rows, in order, for an
// exact plan (the database filters) and for a partial one (candidates re-checked).
import t from 'tap';
import pg from 'pg';
import { PolicyEngineClient, authorizedFind, authorizedQuery } from '../../src/client/index.js';
import { runningEngine, ADMIN_TOKEN } from './engine.js';
import { putYaml } from '../helpers/app.js';
import { testMongo } from '../helpers/mongo.js';

const POLICY = `key: global-docs
rules:
  - id: published
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.status == 'published'"
  - id: own
    subjects: ["*"]
    grant: ["document:read"]
    when: "resource.attributes.owner == subject.id"
  - id: named
    subjects: ["user:partial"]
    grant: ["document:read"]
    when: "resource.attributes.title.startsWith('b')"
`;

interface Doc { _id: string; owner: string; status: string; title: string }
const docs: Doc[] = Array.from({ length: 60 }, (_, i) => ({
  _id: `d${String(i).padStart(2, '0')}`, owner: ['user:alice', 'user:bob', 'user:partial'][i % 3]!, status: ['draft', 'published'][i % 2 === 0 && i % 4 === 0 ? 1 : 0]!, title: ['alpha', 'beta', 'gamma'][i % 5 % 3]!,
}));
const toResource = (d: Doc) => ({ id: d._id, attributes: { owner: d.owner, status: d.status, title: d.title } });

t.test('authorizedFind and authorizedQuery page through exactly the allowed rows', async (t) => {
  const engine = await runningEngine(t);
  await putYaml(t, engine.app, 'global-docs', POLICY, { authorization: `Bearer ${ADMIN_TOKEN}` });
  const client = new PolicyEngineClient({ baseUrl: engine.url });
  const { client: mongo } = await testMongo(t);
  const collection = mongo.db().collection<Doc>('docs');
  await collection.insertMany(docs.map((d) => ({ ...d })));
  const sql = new pg.Client({ host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER ?? 'postgres' });
  await sql.connect();
  const table = `plan_client_${process.pid}`;
  t.teardown(async () => {
    await sql.query(`DROP TABLE IF EXISTS "${table}"`);
    await sql.end();
  });
  await sql.query(`CREATE TABLE "${table}" (_id text PRIMARY KEY, owner text, status text, title text)`);
  for (const d of docs) await sql.query(`INSERT INTO "${table}" VALUES ($1, $2, $3, $4)`, [d._id, d.owner, d.status, d.title]);

  for (const subject of ['user:alice', 'user:partial']) {
    const plan = { subject, namespace: 'global', permission: 'document:read', resource: { type: 'document' }, fields: { id: '_id' }, allowPartial: true };
    const expected: string[] = [];
    for (const d of docs) {
      const r = await client.check({ subject, namespace: 'global', permission: 'document:read', resource: { type: 'document', ...toResource(d) } });
      if (r.allowed) expected.push(d._id);
    }
    t.ok(expected.length > 10, `${subject}: ${expected.length} allowed rows`);
    const viaMongo: string[] = [];
    const viaSql: string[] = [];
    let offset: number | null = 0;
    let exact: boolean | undefined;
    while (offset !== null) {
      const p: { rows: Doc[]; next: number | null; plan: { exact: boolean } } = await authorizedFind(client, collection, { plan, limit: 7, offset, sort: { _id: 1 }, toResource });
      t.ok(p.rows.length <= 7);
      viaMongo.push(...p.rows.map((r) => r._id));
      exact = p.plan.exact;
      offset = p.next;
    }
    offset = 0;
    while (offset !== null) {
      const p: { rows: Doc[]; next: number | null } = await authorizedQuery<Doc>(client, sql as never, { plan, limit: 7, offset, select: `SELECT * FROM "${table}"`, orderBy: '_id', toResource });
      viaSql.push(...p.rows.map((r: Doc) => r._id));
      offset = p.next;
    }
    t.same(viaMongo, expected, `${subject}: MongoDB pages (exact: ${exact})`);
    t.same(viaSql, expected, `${subject}: PostgreSQL pages`);
    t.equal(exact, subject === 'user:alice', 'alice gets an exact plan, partial a re-checked one');
  }
});
