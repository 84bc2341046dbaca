// A fresh database for one test:
//
//   t.test('...', async t => {
//     const { url, dbName, client } = await testMongo(t)
//     ...
//   })
//
// Uses the server in MONGO_URL when set (npm test sets it to the FerretDB it
// starts; it may also be a real MongoDB), otherwise starts a FerretDB for this
// test and stops it in t.teardown. Each call gets its own database
// `pe_test_<random hex>`, dropped in t.teardown, where the client is also closed.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { startFerretDB } from './ferretdb.js';
export async function testMongo(t) {
    let server;
    let base = process.env.MONGO_URL;
    if (!base) {
        server = await startFerretDB();
        base = server.url;
    }
    const dbName = `pe_test_${randomBytes(6).toString('hex')}`;
    const url = withDatabase(base, dbName);
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 15_000 });
    // One teardown, in this order: drop the database, close the client, stop the server.
    t.teardown(async () => {
        try {
            await client.db(dbName).dropDatabase();
        }
        catch {
            // the test may have stopped the server or closed the client itself
        }
        try {
            await client.close();
        }
        finally {
            await server?.stop();
        }
    });
    try {
        await client.connect();
    }
    catch (err) {
        const where = server ? `the FerretDB started for this test (${server.url})` : `MONGO_URL=${redact(base)}`;
        throw new Error(`testMongo: cannot connect to ${where}: ${err.message}`, { cause: err });
    }
    return { url, dbName, client };
}
/**
 * Replace the database in a MongoDB connection string (`mongodb://` or
 * `mongodb+srv://`, one or several hosts), keeping credentials and query string.
 * The path database is also the default authSource, so when the string has
 * credentials and no authSource/authMechanism, the original default is pinned.
 */
export function withDatabase(connectionString, dbName) {
    const m = /^(mongodb(?:\+srv)?:\/\/)([^/?]*)(\/[^?]*)?(\?.*)?$/.exec(connectionString.trim());
    if (!m)
        throw new Error(`not a MongoDB connection string: ${redact(connectionString)}`);
    const [, scheme, authority = '', path = '', query = ''] = m;
    let qs = query; // kept verbatim
    const params = new URLSearchParams(query.slice(1));
    if (authority.includes('@') && !params.has('authSource') && !params.has('authMechanism')) {
        const original = decodeURIComponent(path.slice(1)) || 'admin';
        qs += `${qs.length > 1 ? '&' : qs ? '' : '?'}authSource=${encodeURIComponent(original)}`;
    }
    return `${scheme}${authority}/${encodeURIComponent(dbName)}${qs}`;
}
function redact(connectionString) {
    return connectionString.replace(/\/\/[^@/]*@/, '//***@');
}
