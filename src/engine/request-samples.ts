// Request samples (issue 11): a bounded ring of distinct recent evaluate / check inputs,
// redacted by the decision log's rules, that impact previews re-evaluate under a
// proposed policy state. Evaluations are recorded when their decision is computed (a
// cache miss), so the evaluate hit path pays nothing: a hit is an input already seen.
// Checks are recorded on hits too, once per cached decision and permission list (the
// permission asked is part of the sample): see DecisionService.sampleCheck.

import { createHash } from 'node:crypto';
import type { CheckRequest, SubjectInput } from '../core/request.js';
import type { RequestSample } from '../store/store.js';
import { boundedCopy } from '../observability/decision-log.js';
import { KeyRedactor } from '../observability/redaction.js';

export type { RequestSample };

export interface SampleRecorder {
  /** false when the input was not looked at (not a namespace path, or over the rate) */
  record(endpoint: 'evaluate' | 'check', req: CheckRequest): boolean;
}

export interface RequestSamplesOptions {
  /** most samples kept; the least recently seen goes first */
  max: number;
  /** most bytes kept, by `sampleBytes`; the least recently seen goes first (absent: count only) */
  maxBytes?: number;
  /** keys (any depth) whose values are replaced, on top of the built-in list, as in decision logs */
  redact: readonly string[];
  /** false drops attributes and the context, as in decision logs */
  attributes: boolean;
  /** most inputs looked at per second (0: no limit): bounds what sampling costs a busy sidecar */
  perSecond?: number;
  /** ms clock, injectable for tests */
  now?: () => number;
}

/** A sample's identity from its JSON text: equal inputs, equal ids (what replicas share samples by). */
export function sampleId(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** Per sample beyond its text: the Set's slot and the string's header. */
const SAMPLE_OVERHEAD = 48;

/** What one sample costs, in bytes: its JSON text (one byte a character, two when V8 must keep it as two-byte) and a fixed overhead. */
export function sampleBytes(text: string): number {
  // Any character beyond Latin-1 makes V8 keep the whole string as two-byte.
  return SAMPLE_OVERHEAD + (/[^\u0000-\u00ff]/.test(text) ? text.length * 2 : text.length);
}

export class RequestSamples implements SampleRecorder {
  /**
   * Each sample as its JSON text (its identity, and half the memory of keeping the
   * object too); insertion order is recency order: re-seeing one moves it to the end.
   */
  private readonly samples = new Set<string>();
  private heldBytes = 0;
  private readonly redactKeys: KeyRedactor;
  private readonly listeners: Array<(id: string, sample: RequestSample) => void> = [];
  private windowStart = 0;
  private inWindow = 0;
  private readonly now: () => number;

  constructor(private readonly options: RequestSamplesOptions) {
    this.redactKeys = new KeyRedactor(options.redact);
    this.now = options.now ?? (() => performance.now());
  }

  /** Within the rate? A one-second window from its first input: one clock read per call only once it is spent. */
  private admit(): boolean {
    const limit = this.options.perSecond ?? 0;
    if (limit <= 0) return true;
    if (this.inWindow < limit) {
      if (this.inWindow === 0) this.windowStart = this.now();
      this.inWindow++;
      return true;
    }
    const t = this.now();
    if (t - this.windowStart < 1000) return false;
    this.windowStart = t;
    this.inWindow = 1;
    return true;
  }

  get size(): number {
    return this.samples.size;
  }

  get max(): number {
    return this.options.max;
  }

  /** bytes held, by `sampleBytes` */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Told of every new sample (the shared store flushes them). */
  onSample(listener: (id: string, sample: RequestSample) => void): void {
    this.listeners.push(listener);
  }

  /** Only namespace-path requests are sampled: a preview changes stored documents, which other modes do not read. */
  record(endpoint: 'evaluate' | 'check', req: CheckRequest): boolean {
    if (req.namespace === undefined || !this.admit()) return false;
    const sample = this.toSample(endpoint, req);
    const key = JSON.stringify(sample);
    if (this.samples.has(key)) {
      this.samples.delete(key);
      this.samples.add(key);
      return true;
    }
    this.add(key);
    if (this.listeners.length > 0) {
      const id = sampleId(key);
      for (const l of this.listeners) l(id, sample);
    }
    return true;
  }

  /** Samples from elsewhere (other replicas), kept as if seen: they count against `max`. */
  merge(samples: readonly RequestSample[]): void {
    for (const s of samples) {
      const key = JSON.stringify(s);
      if (!this.samples.has(key)) this.add(key);
    }
  }

  private add(key: string): void {
    const size = sampleBytes(key);
    const maxBytes = this.options.maxBytes ?? Infinity;
    // A sample larger than the whole budget is not kept (it would push out every other).
    if (size > maxBytes) return;
    this.samples.add(key);
    this.heldBytes += size;
    while (this.samples.size > this.options.max || this.heldBytes > maxBytes) {
      const oldest = this.samples.values().next().value;
      if (oldest === undefined) break;
      this.samples.delete(oldest);
      this.heldBytes -= sampleBytes(oldest);
    }
  }

  /** Every sample as its JSON text (its identity), least recently seen first. */
  texts(): string[] {
    return [...this.samples];
  }

  /** Every sample, least recently seen first. */
  list(): RequestSample[] {
    return this.texts().map((text) => JSON.parse(text) as RequestSample);
  }

  clear(): void {
    this.samples.clear();
    this.heldBytes = 0;
  }

  private clean<T>(value: T): T {
    return boundedCopy(value, this.redactKeys, 0) as T;
  }

  private toSample(endpoint: 'evaluate' | 'check', req: CheckRequest): RequestSample {
    const withAttributes = this.options.attributes;
    let subject: SubjectInput;
    if (typeof req.subject === 'string') subject = req.subject;
    else {
      const s = req.subject;
      subject = { id: s.id };
      if (s.roles && s.roles.length > 0) subject.roles = [...s.roles];
      if (s.groups && s.groups.length > 0) subject.groups = [...s.groups];
      if (withAttributes && s.attributes !== undefined) subject.attributes = this.clean(s.attributes);
    }
    const sample: RequestSample = { endpoint, subject, namespace: req.namespace! };
    if (req.resource !== undefined) {
      const r: NonNullable<RequestSample['resource']> = {};
      if (req.resource.type !== undefined) r.type = req.resource.type;
      if (req.resource.id !== undefined) r.id = req.resource.id;
      if (withAttributes && req.resource.attributes !== undefined) r.attributes = this.clean(req.resource.attributes);
      sample.resource = r;
    }
    if (withAttributes && req.context !== undefined) sample.context = this.clean(req.context);
    if (endpoint === 'check') {
      const perms = req.permission !== undefined ? [req.permission] : req.permissions;
      if (perms && perms.length > 0) sample.permissions = [...perms];
    }
    return sample;
  }
}
