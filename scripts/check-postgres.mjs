// CI: the query-plan tests (test/engine/plan-differential*.test.ts) need PostgreSQL on
// loopback (127.0.0.1:5432, trust auth, database `test`; PGHOST, PGPORT, PGUSER and
// PGDATABASE override). Fail early with a clear message when it cannot be used.
import pg from 'pg';

const config = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  database: process.env.PGDATABASE ?? 'test',
  user: process.env.PGUSER ?? 'postgres',
  connectionTimeoutMillis: 10_000,
};
const where = `${config.user}@${config.host}:${config.port}/${config.database}`;
const client = new pg.Client(config);
try {
  await client.connect();
  const table = `ci_check_${process.pid}`;
  await client.query(`CREATE TABLE "${table}" (id text, tags text[])`);
  await client.query(`DROP TABLE "${table}"`);
  const { rows } = await client.query('SHOW server_version');
  console.log(`postgresql: usable at ${where} (server ${rows[0].server_version})`);
} catch (err) {
  console.error(`postgresql: cannot use ${where}: ${err.message}`);
  console.error('The query-plan tests need PostgreSQL on loopback with trust auth and a database `test` the user may create tables in');
  console.error('(Debian: apt-get install postgresql, then createdb test; or set PGHOST/PGPORT/PGUSER/PGDATABASE).');
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
