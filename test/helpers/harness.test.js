// Proves the test-database harness works: testMongo() gives a private database
// on a server that enforces unique indexes, and a separately started FerretDB
// can be stopped and restarted (same port, same data dir) with its data intact.
import net from 'node:net';
import { MongoClient, MongoServerError } from 'mongodb';
import t from 'tap';
import { startFerretDB } from './ferretdb.js';
import { testMongo, withDatabase } from './mongo.js';
function portOpen(port) {
    return new Promise(resolve => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => (s.destroy(), resolve(false)));
    });
}
t.test('withDatabase', async (t) => {
    t.equal(withDatabase('mongodb://127.0.0.1:1234/', 'x'), 'mongodb://127.0.0.1:1234/x');
    t.equal(withDatabase('mongodb://127.0.0.1:1234', 'x'), 'mongodb://127.0.0.1:1234/x');
    t.equal(withDatabase('mongodb://h:1/old?replicaSet=rs0&w=majority', 'x'), 'mongodb://h:1/x?replicaSet=rs0&w=majority');
    t.equal(withDatabase('mongodb://a:1,b:2/?directConnection=false', 'x'), 'mongodb://a:1,b:2/x?directConnection=false');
    t.equal(withDatabase('mongodb+srv://u:p@c.example.net/app', 'x'), 'mongodb+srv://u:p@c.example.net/x?authSource=app');
    t.equal(withDatabase('mongodb://u:p@h/?tls=true', 'x'), 'mongodb://u:p@h/x?tls=true&authSource=admin');
    t.equal(withDatabase('mongodb://u:p@h/app?authSource=other', 'x'), 'mongodb://u:p@h/x?authSource=other');
    t.throws(() => withDatabase('http://h/', 'x'));
});
t.test('testMongo: private database with a unique compound index', async (t) => {
    const { url, dbName, client } = await testMongo(t);
    t.match(dbName, /^pe_test_[0-9a-f]+$/);
    t.equal(new URL(url).pathname, `/${dbName}`, 'url names the database');
    t.equal(client.db().databaseName, dbName, 'client default database is dbName');
    const coll = client.db(dbName).collection('policies');
    await coll.createIndex({ namespace: 1, ordinal: 1 }, { unique: true, name: 'ns_ordinal' });
    await coll.insertOne({ namespace: 'a', ordinal: 1 });
    await coll.insertOne({ namespace: 'a', ordinal: 2 });
    await coll.insertOne({ namespace: 'b', ordinal: 1 });
    const err = await coll.insertOne({ namespace: 'a', ordinal: 1 }).then(() => undefined, (e) => e);
    t.ok(err instanceof MongoServerError, 'duplicate insert is rejected by the server');
    t.equal(err?.code, 11000, 'with duplicate key code 11000');
    t.equal(await coll.countDocuments(), 3, 'duplicate was not stored');
    // a second client on the returned url sees the same data
    const other = new MongoClient(url);
    t.teardown(() => other.close());
    t.equal(await other.db().collection('policies').countDocuments(), 3);
});
t.test('separate FerretDB: data survives stop/start on the same port and dir', async (t) => {
    const server = await startFerretDB();
    t.teardown(() => server.stop());
    t.match(server.url, /^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    const { port, dir } = server;
    const client = new MongoClient(server.url, { serverSelectionTimeoutMS: 15_000 });
    t.teardown(() => client.close());
    const coll = client.db('harness').collection('docs');
    await coll.createIndex({ key: 1 }, { unique: true });
    await coll.insertMany([{ key: 'a', v: 1 }, { key: 'b', v: 2 }]);
    const stopStarted = Date.now();
    await server.stop();
    t.ok(Date.now() - stopStarted < 4000, 'stop() is quick even with a client connected');
    t.notOk(await portOpen(port), 'port is closed after stop()');
    await server.stop(); // second stop is a no-op
    await server.start();
    t.equal(server.port, port, 'same port after restart');
    t.equal(server.dir, dir, 'same data dir after restart');
    t.ok(await portOpen(port), 'port is open after start()');
    // the client that was open across the outage reconnects by itself
    const docs = await coll.find({}, { projection: { _id: 0 } }).sort({ key: 1 }).toArray();
    t.same(docs, [{ key: 'a', v: 1 }, { key: 'b', v: 2 }], 'data persisted across the restart');
    await t.rejects(coll.insertOne({ key: 'a', v: 3 }), { code: 11000 }, 'unique index persisted too');
    // and a new server on the same data dir sees the data as well
    await server.stop();
    const again = await startFerretDB({ dir });
    t.teardown(() => again.stop());
    t.not(again.port, port, 'a fresh port was picked');
    const c2 = new MongoClient(again.url);
    t.teardown(() => c2.close());
    t.equal(await c2.db('harness').collection('docs').countDocuments(), 2);
});
t.test('startFerretDB fails loudly when the port is taken', async (t) => {
    const blocker = net.createServer();
    await new Promise(r => blocker.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise(r => blocker.close(() => r())));
    const port = blocker.address().port;
    await t.rejects(startFerretDB({ port }), /FerretDB did not start.*exited with code 1[\s\S]*address already in use/);
});
