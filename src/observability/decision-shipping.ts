// Shipping decision-log records besides stdout (docs/audit.md): to NATS JetStream and/or
// an HTTP endpoint. A decision never waits for a sink: `offer` appends the record (and
// its time) to a bounded buffer in O(1) and returns — no JSON, no timer; once per turn of
// the event loop that offered records, after its decisions were answered, the new records
// become lines (JSON), and a background loop groups lines into batches (at most `batch`
// records or `batchBytes` bytes), sends them, retries a failed batch with exponential
// back-off, and when the buffer is full new records are dropped and counted — the decision
// path stays as fast with the sink down as with it up. The records are the decision-log
// lines, sampled and redacted exactly as the stdout ones. Serialising after the turn, not
// in `offer`, keeps JSON work off the request path; serialising then rather than at batch
// time lets a record's object tree die young (a line is one flat string), which is what
// the garbage collector's cost depends on. Safe because a line is a fresh object tree that
// nobody changes after `write`.

import { randomUUID } from 'node:crypto';

/**
 * A batch as it goes out: each record one line of JSON (`time` first), in order. Once
 * formed a batch is frozen — a retry sends the same records under the same `id`, so a
 * sink that de-duplicates by id (JetStream's Nats-Msg-Id) stores it once.
 */
export interface ShipBatch {
  readonly id: string;
  readonly lines: readonly string[];
  /** sum of the lines' lengths in UTF-16 units (a close, cheap stand-in for bytes) */
  readonly size: number;
}

/** Where batches go; throws when a batch was not accepted (it is retried). */
export interface ShipTransport {
  readonly name: string;
  send(batch: ShipBatch): Promise<void>;
  close(): Promise<void>;
}

/** A batch the receiver refuses for good (HTTP 4xx, too large a message): dropped and counted, never retried. */
export class RejectedBatchError extends Error {}

export interface ShipperOptions {
  /** most records in one batch */
  batch: number;
  /** a batch is closed once its serialised records reach this many characters (default 256 KiB); a larger record goes alone */
  batchBytes?: number;
  /** longest a record waits for its batch */
  flushMs: number;
  /** most records held (queued or in the batch being sent); past it new ones are dropped */
  buffer: number;
  /** first retry delay, doubled per failure up to maxBackoffMs (defaults 100, 5000) */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** a send that has not settled after this long counts as failed and is retried (default 5000) */
  sendTimeoutMs?: number;
  /** told of a sink going down or coming back (logged once each, not per batch) */
  onStateChange?: (up: boolean, err?: unknown) => void;
}

export interface ShipperStats {
  sink: string;
  queued: number;
  shipped: number;
  dropped: number;
  failures: number;
}

const DEFAULT_BATCH_BYTES = 256 * 1024;
/** The queue's consumed head is cut off once it is this long (and half the array). */
const COMPACT_AT = 1024;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the sink did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  p.catch(() => {}); // a send given up on may still fail later: nobody waits for it
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// Many records share a millisecond under load: format each millisecond once.
let lastAt = NaN;
let lastTime = '';

/**
 * One record as a line of JSON with its time first: `{"time":"…",<the record's fields>}`.
 * `record` may already be a JSON object's text (the decision log serialises a line once
 * when it also writes it to stdout): then only the time is put in front.
 */
export function recordLine(record: Record<string, unknown> | string, at: number): string {
  const json = typeof record === 'string' ? record : JSON.stringify(record);
  if (at !== lastAt) {
    lastAt = at;
    lastTime = `{"time":"${new Date(at).toISOString()}"`;
  }
  return json.length > 2 ? `${lastTime},${json.slice(1)}` : `${lastTime}}`;
}

export class DecisionShipper {
  // Records waiting, with the time each was offered; `head` is the first not yet batched.
  // Below `ready` a string is a finished line; from `ready` on it is a record's JSON text without its time.
  private records: Array<Record<string, unknown> | string | undefined> = [];
  private times: number[] = [];
  private head = 0;
  /** records before this index are lines already (serialised soon after they were offered) */
  private ready = 0;
  private immediate: NodeJS.Immediate | undefined;
  /** the batch being sent (or waiting to be re-sent): its records left the queue but still count against the buffer */
  private pending: ShipBatch | undefined;
  private shipped = 0;
  private dropped = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** the running send loop, which `close` lets finish before it sends the rest itself */
  private draining: Promise<void> | undefined;
  private sending = false;
  private closed = false;
  private delay: number;
  private up = true;
  private readonly base: number;
  private readonly maxBackoff: number;
  private readonly batchBytes: number;

  constructor(private readonly transport: ShipTransport, private readonly options: ShipperOptions) {
    this.base = options.backoffMs ?? 100;
    this.maxBackoff = options.maxBackoffMs ?? 5000;
    this.batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    this.delay = 0;
  }

  get name(): string {
    return this.transport.name;
  }

  private get waiting(): number {
    return this.records.length - this.head;
  }

  private get held(): number {
    return this.waiting + (this.pending?.lines.length ?? 0);
  }

  /**
   * Queue one record offered at `at` (ms since the epoch); never blocks, never throws. The
   * record (an object, or its JSON text) must not change afterwards.
   */
  offer(record: Record<string, unknown> | string, at: number = Date.now()): void {
    if (this.closed) return;
    if (this.held >= this.options.buffer) {
      this.dropped++;
      return;
    }
    this.records.push(record);
    this.times.push(at);
    // The rest waits for this turn of the event loop to end: no timer, no JSON here.
    this.immediate ??= setImmediate(this.afterOffers);
  }

  /**
   * Once per turn of the event loop in which records were offered, after the decisions
   * that offered them were answered: turn the new records into lines (their object trees
   * then die young, which is what keeps the garbage collector's work small: a line is one
   * flat string), and start a full batch or the flush timer.
   */
  private readonly afterOffers = (): void => {
    this.immediate = undefined;
    const records = this.records;
    const end = records.length;
    for (let i = Math.max(this.ready, this.head); i < end; i++) {
      const r = records[i];
      if (r === undefined) continue;
      try {
        records[i] = recordLine(r, this.times[i]!);
      } catch {
        // Not JSON (a BigInt, a cycle): left for its batch to drop and count.
      }
    }
    this.ready = end;
    // Sending, or backing off after a failure: the running loop or the retry timer takes them.
    if (this.sending || this.delay > 0 || this.closed) return;
    if (this.waiting >= this.options.batch) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.draining = this.drain();
    } else if (this.timer === undefined && this.waiting > 0) {
      this.schedule(this.options.flushMs);
    }
  };

  stats(): ShipperStats {
    return { sink: this.transport.name, queued: this.held, shipped: this.shipped, dropped: this.dropped, failures: this.failures };
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draining = this.drain();
    }, ms);
    this.timer.unref();
  }

  /** Serialise the next records into a batch: up to `batch` records, closed at `batchBytes` (empty only when none could be serialised). */
  private nextBatch(): ShipBatch {
    const lines: string[] = [];
    let size = 0;
    const end = Math.min(this.records.length, this.head + this.options.batch);
    let i = this.head;
    for (; i < end; i++) {
      let line: string;
      try {
        const r = this.records[i]!;
        line = typeof r === 'string' && i < this.ready ? r : recordLine(r, this.times[i]!);
      } catch {
        // Not JSON (a BigInt, a cycle): that record is lost, counted, and the loop goes on.
        this.dropped++;
        this.records[i] = undefined;
        continue;
      }
      if (lines.length > 0 && size + line.length + 1 > this.batchBytes) break;
      lines.push(line);
      size += line.length + 1;
      this.records[i] = undefined; // let the record go as soon as its line exists
    }
    this.head = i;
    if (this.head >= COMPACT_AT && this.head * 2 >= this.records.length) {
      this.records.splice(0, this.head);
      this.times.splice(0, this.head);
      this.ready = Math.max(0, this.ready - this.head);
      this.head = 0;
    }
    return { id: randomUUID(), lines, size };
  }

  /** Send batches until the queue is empty or a send fails (then wait and try again). */
  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.pending !== undefined || this.waiting > 0) {
        const batch = (this.pending ??= this.nextBatch());
        if (batch.lines.length === 0) {
          this.pending = undefined;
          continue;
        }
        try {
          // A client can leave a send hanging through a reconnect: never wait on it forever.
          await withTimeout(this.transport.send(batch), this.options.sendTimeoutMs ?? 5000);
        } catch (err) {
          if (err instanceof RejectedBatchError) {
            this.pending = undefined;
            this.dropped += batch.lines.length;
            continue;
          }
          this.failures++;
          this.delay = this.delay === 0 ? this.base : Math.min(this.maxBackoff, this.delay * 2);
          if (this.up) {
            this.up = false;
            this.options.onStateChange?.(false, err);
          }
          if (!this.closed) this.schedule(this.delay * (0.5 + Math.random() / 2));
          return;
        }
        this.pending = undefined;
        this.shipped += batch.lines.length;
        this.delay = 0;
        if (!this.up) {
          this.up = true;
          this.options.onStateChange?.(true);
        }
        // Below a full batch, wait for more (or the flush timer) instead of sending small ones.
        if (this.waiting < this.options.batch && !this.closed) {
          if (this.waiting > 0) this.schedule(this.options.flushMs);
          return;
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** Send what is held (one try, bounded by `timeoutMs`), then close the transport. */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    const deadline = Date.now() + timeoutMs;
    if (this.draining) await withTimeout(this.draining, timeoutMs).catch(() => {});
    while ((this.pending !== undefined || this.waiting > 0) && Date.now() < deadline) {
      const batch = this.pending ?? this.nextBatch();
      this.pending = undefined;
      if (batch.lines.length === 0) continue;
      try {
        await withTimeout(this.transport.send(batch), Math.max(1, deadline - Date.now()));
        this.shipped += batch.lines.length;
      } catch {
        this.dropped += batch.lines.length + this.waiting;
        this.records = [];
        this.times = [];
        this.head = 0;
        this.ready = 0;
      }
    }
    // Past the deadline, what is still held is lost: counted, like any drop.
    this.dropped += this.held;
    this.pending = undefined;
    this.records = [];
    this.times = [];
    this.head = 0;
    this.ready = 0;
    await this.transport.close().catch(() => {});
  }
}
