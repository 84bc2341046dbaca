// How in-memory state follows a store, for policies and relationships alike: one sync at
// a time (callers asking meanwhile share it), a poll every `pollIntervalMs`, an earlier
// poll when the store hints that something changed, longer pauses while syncs keep
// failing (so a broken store is not hammered; the pause is capped, so recovery stays
// within a few poll intervals), a full reload every `resyncIntervalMs`, and the time of
// the last successful sync, from which staleness is judged. The state itself (what a
// sync does) belongs to the caller's `run`.

/** What the managers log through (pino fits). */
export interface ManagerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SyncLoopOptions {
  /** One sync: a full reload when `full`, else whatever brings the state up to date. Throws on failure. */
  run(full: boolean): Promise<void>;
  /** what the log lines name, e.g. 'policy store' */
  what: string;
  /** said in the log while syncs fail, e.g. 'serving the last good policies' */
  whileFailing: string;
  logger: ManagerLogger;
  pollIntervalMs: number;
  /** Whether to poll now (asked before each poll is scheduled; default: always). */
  shouldPoll?: () => boolean;
  /** a full reload this often, as a safety net behind the change feed (0 or absent = never) */
  resyncIntervalMs?: number;
  /** after this long without a successful sync, `isStale()` (absent = only while failing) */
  staleAfterMs?: number;
  /** longest pause between polls while syncs fail (default: 4 × pollIntervalMs, at most 30 s) */
  maxBackoffMs?: number;
  /** "something changed": subscribe, returning an unsubscribe function */
  hints?: (wake: () => void) => () => void;
  /** fields for the "reachable again" log line, e.g. the revision reached */
  logContext?: () => object;
  now?: () => number;
}

const MAX_BACKOFF_CAP_MS = 30_000;

export class SyncLoop {
  private readonly now: () => number;
  private readonly maxBackoffMs: number;
  private running: { promise: Promise<boolean>; full: boolean } | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private unhint: (() => void) | undefined;
  private started = false;
  private stopped = false;
  private failures = 0;
  private lastSuccess = 0;
  private lastErrorValue: string | undefined;

  constructor(private readonly options: SyncLoopOptions) {
    this.now = options.now ?? Date.now;
    this.maxBackoffMs = Math.max(options.pollIntervalMs, options.maxBackoffMs ?? Math.min(4 * options.pollIntervalMs, MAX_BACKOFF_CAP_MS));
  }

  /** The first sync (its outcome), then polling, hints and the periodic full reload. */
  async start(): Promise<boolean> {
    if (this.started || this.stopped) return false;
    this.started = true;
    this.unhint = this.options.hints?.(() => void this.sync());
    const ok = await this.sync();
    this.schedulePoll();
    const every = this.options.resyncIntervalMs ?? 0;
    if (every > 0 && !this.stopped) {
      this.resyncTimer = setInterval(() => void this.sync(true), every);
      this.resyncTimer.unref();
    }
    return ok;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearInterval(this.resyncTimer);
    this.pollTimer = undefined;
    this.resyncTimer = undefined;
    this.unhint?.();
    this.unhint = undefined;
  }

  /**
   * One sync at a time; resolves to whether it succeeded. A full reload asked while a
   * plain sync runs follows it (rather than being answered by it).
   */
  sync(full = false): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    const current = this.running;
    if (current) return full && !current.full ? current.promise.then(() => this.sync(true)) : current.promise;
    const promise = this.attempt(full).finally(() => {
      this.running = undefined;
    });
    this.running = { promise, full };
    return promise;
  }

  /** A sync that starts after now, so it sees every write made so far (waits out one in flight). */
  async syncAfter(): Promise<boolean> {
    if (this.running) await this.running.promise;
    return this.sync();
  }

  /** When the last sync succeeded (0: never). */
  get lastSyncAt(): number {
    return this.lastSuccess;
  }

  /** Why the last sync failed; undefined once one succeeds. */
  get lastError(): string | undefined {
    return this.lastErrorValue;
  }

  /** Never synced, failing now (without `staleAfterMs`), or no success for longer than `staleAfterMs`. */
  isStale(): boolean {
    if (this.lastSuccess === 0) return true;
    const bound = this.options.staleAfterMs;
    if (bound === undefined) return this.lastErrorValue !== undefined;
    return this.now() - this.lastSuccess > bound;
  }

  private async attempt(full: boolean): Promise<boolean> {
    const { logger, what } = this.options;
    try {
      await this.options.run(full);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.lastErrorValue === undefined) logger.error({ err: message }, `${what} sync failed; ${this.options.whileFailing}`);
      this.lastErrorValue = message;
      this.failures++;
      return false;
    }
    this.lastSuccess = this.now();
    if (this.lastErrorValue !== undefined) logger.info(this.options.logContext?.() ?? {}, `${what} reachable again`);
    this.lastErrorValue = undefined;
    this.failures = 0;
    return true;
  }

  /** The pause before the next poll: the interval, doubled per consecutive failure up to the cap. */
  private pollDelay(): number {
    const interval = this.options.pollIntervalMs;
    if (this.failures === 0) return interval;
    return Math.min(this.maxBackoffMs, interval * 2 ** Math.min(this.failures - 1, 20));
  }

  private schedulePoll(): void {
    if (this.stopped || (this.options.shouldPoll && !this.options.shouldPoll())) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.sync().finally(() => this.schedulePoll());
    }, this.pollDelay());
    this.pollTimer.unref();
  }
}
