// One MongoDB connection as the stores use it (policies and relationships alike):
// the database from the URL, timeouts that turn a hung server into an error, a
// connect that is retried on the next operation after a failure, driver errors mapped
// to domain errors, and writes from this process made one at a time.

import { MongoClient, type Collection, type Db, type Document } from 'mongodb';
import { watchForChanges } from './change-hint.js';
import { StoreUnavailableError } from '../store.js';
import { mapErrors } from './mongo-errors.js';
import { databaseOfUrl } from '../../config/mongo-url.js';

export { databaseOfUrl };

export interface MongoConnectionOptions {
  url: string;
  /** the database; default: the one named in the URL path */
  dbName?: string;
  /** how long an operation waits for a reachable, answering server before failing (default 2000) */
  serverSelectionTimeoutMS?: number;
  /** a client to share (the owner then closes it) */
  client?: MongoClient;
}


export class MongoConnection {
  readonly client: MongoClient;
  readonly db: Db;
  private readonly ownsClient: boolean;
  private connecting: Promise<void> | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  private readonly hints = new Set<() => void>();
  closed = false;

  constructor(options: MongoConnectionOptions, owner: string) {
    const dbName = options.dbName ?? databaseOfUrl(options.url);
    if (dbName === undefined) {
      throw new Error(`${owner}: no database: name it in the connection string (mongodb://host/<database>) or set dbName`);
    }
    this.ownsClient = options.client === undefined;
    const timeout = options.serverSelectionTimeoutMS ?? 2000;
    this.client = options.client ?? new MongoClient(options.url, {
      serverSelectionTimeoutMS: timeout,
      // A hung server (connection open, no answer) fails writes and syncs instead of
      // holding them: no bytes for this long on a connection, or no connection, is an error.
      socketTimeoutMS: timeout,
      connectTimeoutMS: timeout,
    });
    this.db = this.client.db(dbName);
  }

  /** Run an operation on a connected client, mapping driver errors to domain errors. */
  run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return mapErrors(what, async () => {
      if (this.closed) throw new StoreUnavailableError(`${what}: the store is closed`);
      // A failed connect leaves the driver's client closed for good ("Topology is closed")
      // until connect() is called again: so the next operation tries again, and a server
      // that was down when the process started is picked up when it comes back.
      this.connecting ??= this.client.connect().then(
        () => undefined,
        (err: unknown) => {
          this.connecting = undefined;
          throw err;
        },
      );
      await this.connecting;
      return operation();
    });
  }

  /**
   * Writes from this process go one at a time: they would otherwise race each other for
   * a log's next sequence number and mostly lose and retry (16 concurrent writers on
   * FerretDB fell to 0.5 writes/s). Other processes still race, and retry.
   */
  serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.writing.then(fn, fn);
    this.writing = next.catch(() => undefined);
    return next;
  }

  /**
   * Calls `listener` whenever `collection` (a change log) gets an entry, where the server
   * has change streams, so the caller can poll at once; elsewhere (FerretDB) it never calls
   * it. Returns a function that stops watching; close() stops every watch left.
   */
  watchChanges<T extends Document>(collection: Collection<T>, listener: () => void): () => void {
    if (this.closed) return () => {};
    const stop = watchForChanges(collection, listener);
    this.hints.add(stop);
    return () => {
      stop();
      this.hints.delete(stop);
    };
  }

  async ping(): Promise<void> {
    await this.run('ping MongoDB', async () => {
      await this.db.command({ ping: 1 });
    });
  }

  async close(): Promise<void> {
    for (const stop of this.hints) stop();
    this.hints.clear();
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.client.close();
  }
}
