// Request samples shared through the store (SAMPLES_SHARED): new local samples are
// flushed every `flushMs`, and a preview reads the newest `max` of every replica's,
// merged with this replica's own. A store that fails leaves previews on local samples.

import type { SampleStore } from '../store/store.js';
import type { ManagerLogger } from './policy-manager.js';
import type { RequestSample, RequestSamples } from './request-samples.js';
import type { SampleSource } from './preview/impact-preview.js';

export interface SharedSamplesOptions {
  local: RequestSamples;
  store: SampleStore;
  flushMs: number;
  logger: ManagerLogger;
  /** trims run at most this often (default 30 s) */
  trimEveryMs?: number;
}

export class SharedSamples implements SampleSource {
  private pending = new Map<string, RequestSample>();
  private timer: NodeJS.Timeout | undefined;
  private lastTrim = 0;
  private failing = false;

  constructor(private readonly options: SharedSamplesOptions) {
    options.local.onSample((id, sample) => {
      // Bounded like the ring: a store that is down cannot grow this without limit.
      if (this.pending.size < options.local.max) this.pending.set(id, sample);
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => undefined);
  }

  /** Write the samples seen since the last flush (and now and then trim the collection). */
  async flush(): Promise<void> {
    const { store, local, logger } = this.options;
    const batch = this.pending;
    if (batch.size === 0) return;
    this.pending = new Map();
    const seenAt = new Date();
    try {
      await store.save([...batch].map(([id, sample]) => ({ id, sample, seenAt })));
      if (Date.now() - this.lastTrim > (this.options.trimEveryMs ?? 30_000)) {
        this.lastTrim = Date.now();
        await store.trim(local.max);
      }
      if (this.failing) logger.info({}, 'request samples are shared again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) logger.warn({ err: (err as Error).message }, 'could not share request samples; previews use this replica\'s own until the store answers');
      this.failing = true;
    }
  }

  /** Every replica's newest samples, with this replica's own (which may not be flushed yet). */
  async samples(): Promise<RequestSample[]> {
    const { local, store } = this.options;
    let shared: RequestSample[] = [];
    try {
      shared = await store.load(local.max);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'could not read shared request samples; previewing this replica\'s own');
    }
    // Deduplicated by JSON text, as the local ring keeps them (its texts need no re-encoding).
    const seen = new Set(local.texts());
    for (const s of shared) {
      if (seen.size >= local.max) break;
      seen.add(JSON.stringify(s));
    }
    return [...seen].map((text) => JSON.parse(text) as RequestSample);
  }
}
