// Request samples shared by replicas (SAMPLES_SHARED, issue 11): one document per
// distinct sample in `request_samples`, upserted by id with the time it was last seen,
// trimmed to the newest `max`. Every replica previews against the union.

import type { Collection } from 'mongodb';
import type { RequestSample } from '../store.js';
import type { MongoConnection } from './mongo-connection.js';
import type { SampleStore } from '../store.js';

/** most samples deleted by one trim (the next trim takes the rest) */
const TRIM_BATCH = 10_000;

interface SampleDoc {
  _id: string;
  sample: RequestSample;
  seenAt: Date;
}

export class MongoSampleStore implements SampleStore {
  private readonly samples: Collection<SampleDoc>;
  private indexes: Promise<unknown> | undefined;

  constructor(private readonly connection: MongoConnection, collection = 'request_samples') {
    this.samples = connection.db.collection<SampleDoc>(collection);
  }

  private ensureIndexes(): Promise<unknown> {
    this.indexes ??= this.samples.createIndex({ seenAt: -1 });
    this.indexes.catch(() => {
      this.indexes = undefined;
    });
    return this.indexes;
  }

  async save(entries: ReadonlyArray<{ id: string; sample: RequestSample; seenAt: Date }>): Promise<void> {
    if (entries.length === 0) return;
    await this.connection.run('save request samples', async () => {
      await this.ensureIndexes();
      await this.samples.bulkWrite(entries.map((e) => ({
        updateOne: { filter: { _id: e.id }, update: { $set: { sample: e.sample, seenAt: e.seenAt } }, upsert: true },
      })), { ordered: false });
    });
  }

  async load(max: number): Promise<RequestSample[]> {
    return this.connection.run('load request samples', async () => {
      const docs = await this.samples.find({}, { projection: { sample: 1 } }).sort({ seenAt: -1, _id: 1 }).limit(max).toArray();
      return docs.map((d) => d.sample);
    });
  }

  /** Keep the newest `max`: the oldest beyond them are deleted. */
  async trim(max: number): Promise<void> {
    await this.connection.run('trim request samples', async () => {
      // By id, not by time: samples flushed together share their time.
      const beyond = await this.samples.find({}, { projection: { _id: 1 } }).sort({ seenAt: -1, _id: 1 }).skip(max).limit(TRIM_BATCH).toArray();
      if (beyond.length > 0) await this.samples.deleteMany({ _id: { $in: beyond.map((d) => d._id) } });
    });
  }
}
