// Shipping decision-log records besides stdout (docs/audit.md): to NATS JetStream and/or
// an HTTP endpoint. A decision never waits for a sink: `offer` appends to a bounded
// buffer in O(1) and returns; a background loop sends batches, retries a failed batch
// with exponential back-off (the batch stays at the head, so order is kept), and when
// the buffer is full new records are dropped and counted — the decision path stays as
// fast with the sink down as with it up. The records are the decision-log lines,
// sampled and redacted exactly as the stdout ones.

/** Where batches go; throws when a batch was not accepted (it is retried). */
export interface ShipTransport {
  readonly name: string;
  send(batch: readonly Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

/** A batch the receiver refuses for good (HTTP 4xx): dropped and counted, never retried. */
export class RejectedBatchError extends Error {}

export interface ShipperOptions {
  /** most records in one batch */
  batch: number;
  /** longest a record waits for its batch */
  flushMs: number;
  /** most records held; past it new ones are dropped */
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

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the sink did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  p.catch(() => {}); // a send given up on may still fail later: nobody waits for it
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class DecisionShipper {
  private queue: Record<string, unknown>[] = [];
  private shipped = 0;
  private dropped = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private closed = false;
  private delay: number;
  private up = true;
  private readonly base: number;
  private readonly maxBackoff: number;

  constructor(private readonly transport: ShipTransport, private readonly options: ShipperOptions) {
    this.base = options.backoffMs ?? 100;
    this.maxBackoff = options.maxBackoffMs ?? 5000;
    this.delay = 0;
  }

  get name(): string {
    return this.transport.name;
  }

  /** Queue one record; never blocks, never throws. */
  offer(record: Record<string, unknown>): void {
    if (this.closed) return;
    if (this.queue.length >= this.options.buffer) {
      this.dropped++;
      return;
    }
    this.queue.push(record);
    // Sending, or backing off after a failure: the running loop or the retry timer takes it.
    if (this.sending || this.delay > 0) return;
    if (this.queue.length >= this.options.batch) this.schedule(0);
    else if (this.timer === undefined) this.schedule(this.options.flushMs);
  }

  stats(): ShipperStats {
    return { sink: this.transport.name, queued: this.queue.length, shipped: this.shipped, dropped: this.dropped, failures: this.failures };
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, ms);
    this.timer.unref();
  }

  /** Send batches until the queue is empty or a send fails (then wait and try again). */
  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.options.batch);
        try {
          // A client can leave a send hanging through a reconnect: never wait on it forever.
          await withTimeout(this.transport.send(batch), this.options.sendTimeoutMs ?? 5000);
        } catch (err) {
          if (err instanceof RejectedBatchError) {
            this.queue.splice(0, batch.length);
            this.dropped += batch.length;
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
        this.queue.splice(0, batch.length);
        this.shipped += batch.length;
        this.delay = 0;
        if (!this.up) {
          this.up = true;
          this.options.onStateChange?.(true);
        }
        // Below a full batch, wait for more (or the flush timer) instead of sending small ones.
        if (this.queue.length < this.options.batch && !this.closed) {
          if (this.queue.length > 0) this.schedule(this.options.flushMs);
          return;
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** Send what is queued (one try, bounded by `timeoutMs`), then close the transport. */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      const batch = this.queue.splice(0, this.options.batch);
      try {
        await withTimeout(this.transport.send(batch), Math.max(1, deadline - Date.now()));
        this.shipped += batch.length;
      } catch {
        this.dropped += batch.length + this.queue.length;
        this.queue = [];
      }
    }
    await this.transport.close().catch(() => {});
  }
}
