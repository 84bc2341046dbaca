// "Something changed, poll now": a MongoDB change stream on the change log, where the
// deployment has change streams (replica sets, sharded clusters). It carries no data —
// polling stays the one way changes are read — it only cuts the wait for the next poll.
// Where change streams do not exist (a standalone server, FerretDB) it quietly does
// nothing, and it never lets a stream error reach the process.

import type { ChangeStream, Collection, Document } from 'mongodb';
import { isUnreachable } from './mongo-errors.js';

const RETRY_MS = 5000;

/** Watch `collection` and call `listener` on every change; returns a function that stops. */
export function watchForChanges<T extends Document>(collection: Collection<T>, listener: () => void): () => void {
  let stream: ChangeStream<T> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;

  const start = (): void => {
    retry = undefined;
    if (stopped) return;
    let s: ChangeStream<T>;
    try {
      // Inserts only: each write inserts one change; marking it applied and pruning are noise.
      s = collection.watch([{ $match: { operationType: 'insert' } }], { batchSize: 1 });
    } catch {
      return; // refused before any I/O (e.g. the client is closed): nothing to watch
    }
    stream = s;
    s.on('change', () => {
      try {
        listener();
      } catch {
        // The listener's failure is the listener's business; the stream goes on.
      }
    });
    s.on('error', (err: unknown) => {
      stream = undefined;
      s.close().catch(() => {});
      // The driver already resumes after transient errors. Only a lost connection is worth
      // another try; a server error here means "no change streams" (standalone, FerretDB)
      // and a client error means it was closed: polling alone will do.
      if (stopped || !isUnreachable(err)) return;
      retry = setTimeout(start, RETRY_MS);
      retry.unref();
    });
  };

  start();
  return () => {
    stopped = true;
    clearTimeout(retry);
    stream?.close().catch(() => {});
    stream = undefined;
  };
}
