// A read of the store that a request needs to have *started after it arrived* (so it sees
// every write committed before the request), shared by every request waiting at the same
// time, and started at most once per `minGapMs`. However many requests ask, the store
// sees at most one such read in flight and one queued behind it, and no more than one
// read per gap: a flood of requests cannot turn into a flood of store reads.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Queued<T> {
  promise: Promise<T>;
  /** `started` is set just before its read starts: from then on, a new caller queues the next one */
  state: { started: boolean };
}

export class FreshRead<T> {
  /** reads started so far: a caller's ticket is this count when it arrived */
  private started = 0;
  private running: { seq: number; promise: Promise<T> } | undefined;
  private queued: Queued<T> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly minGapMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Take before deciding to read: reads started after this count as fresh. */
  ticket(): number {
    return this.started;
  }

  /** The result of a read that started after `ticket` was taken (one in flight, or the next). */
  after(ticket: number): Promise<T> {
    if (this.running !== undefined && this.running.seq > ticket) return this.running.promise;
    if (this.queued === undefined || this.queued.state.started) {
      const state = { started: false };
      this.queued = { promise: this.startNext(state), state };
    }
    return this.queued.promise;
  }

  private async startNext(state: { started: boolean }): Promise<T> {
    if (this.running !== undefined) await this.running.promise.catch(() => undefined);
    const wait = this.lastStart + this.minGapMs - this.now();
    if (wait > 0) await sleep(wait);
    state.started = true;
    const seq = ++this.started;
    this.lastStart = this.now();
    const promise = this.read();
    this.running = { seq, promise };
    const clear = () => {
      if (this.running?.seq === seq) this.running = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }
}
