// Counters and histograms for the request path. prom-client validates and hashes the
// labels on every inc/observe, even through a bound child (~0.5 µs each); these keep one
// plain record per label set, fetched once by the caller, so counting is a field
// increment. They render through prom-client's registry (`registerMetric`, read at
// scrape time) in the same text format as its own Counter and Histogram.

import type { Metric, Registry } from 'prom-client';

/** One sample as the registry renders it (`metricName` defaults to the metric's name). */
export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

export interface CounterSeries {
  value: number;
}

export interface HistogramSeries {
  count: number;
  sum: number;
  /** per bucket (not cumulative); the last one is +Inf */
  counts: number[];
}

/** A labelled counter; `series(labels)` once per label set, then `series.value++`. */
export class HotCounter<L extends string> {
  private readonly all = new Map<string, { labels: Record<L, string>; series: CounterSeries }>();

  constructor(registry: Registry, name: string, help: string) {
    register(registry, name, help, 'counter', () => this.values(), () => {
      for (const e of this.all.values()) e.series.value = 0;
    });
  }

  series(key: string, labels: Record<L, string>): CounterSeries {
    let e = this.all.get(key);
    if (e === undefined) {
      e = { labels, series: { value: 0 } };
      this.all.set(key, e);
    }
    return e.series;
  }

  private values(): Sample[] {
    return [...this.all.values()].map((e) => ({ labels: e.labels, value: e.series.value }));
  }
}

/** A labelled histogram; `series(labels)` once per label set, then `observe(series, value)`. */
export class HotHistogram<L extends string> {
  private readonly all = new Map<string, { labels: Record<L, string>; series: HistogramSeries }>();

  constructor(registry: Registry, private readonly name: string, help: string, private readonly bounds: readonly number[]) {
    register(registry, name, help, 'histogram', () => this.values(), () => {
      for (const { series } of this.all.values()) {
        series.count = 0;
        series.sum = 0;
        series.counts.fill(0);
      }
    });
  }

  series(key: string, labels: Record<L, string>): HistogramSeries {
    let e = this.all.get(key);
    if (e === undefined) {
      e = { labels, series: { count: 0, sum: 0, counts: new Array<number>(this.bounds.length + 1).fill(0) } };
      this.all.set(key, e);
    }
    return e.series;
  }

  observe(series: HistogramSeries, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    series.counts[i]!++;
    series.count++;
    series.sum += value;
  }

  /** The number of observations of every label set, e.g. to export as a `_total` counter too. */
  counts(): Sample[] {
    return [...this.all.values()].map((e) => ({ labels: e.labels, value: e.series.count }));
  }

  private values(): Sample[] {
    const out: Sample[] = [];
    for (const { labels, series } of this.all.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        out.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      out.push({ labels, value: series.sum, metricName: `${this.name}_sum` });
      out.push({ labels, value: series.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}

/** A counter computed at scrape time from another metric's state. */
export function registerDerivedCounter(registry: Registry, name: string, help: string, values: () => Sample[]): void {
  register(registry, name, help, 'counter', values, () => {});
}

function register(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[], reset: () => void): void {
  const metric = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }), reset };
  // The registry reads only name, help, type, get() and reset(); its parameter type names its own classes.
  registry.registerMetric(metric as unknown as Metric);
}
