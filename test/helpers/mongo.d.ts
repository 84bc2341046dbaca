import { MongoClient } from 'mongodb';
import type { Test } from 'tap';
export type TestMongo = {
    /** connection string whose path names `dbName` (query string of MONGO_URL kept) */
    url: string;
    dbName: string;
    /** connected client; `client.db()` is `dbName` */
    client: MongoClient;
};
export declare function testMongo(t: Test): Promise<TestMongo>;
/**
 * Replace the database in a MongoDB connection string (`mongodb://` or
 * `mongodb+srv://`, one or several hosts), keeping credentials and query string.
 * The path database is also the default authSource, so when the string has
 * credentials and no authSource/authMechanism, the original default is pinned.
 */
export declare function withDatabase(connectionString: string, dbName: string): string;
