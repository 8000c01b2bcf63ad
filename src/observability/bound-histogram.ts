/**
 * A Prometheus histogram for the per-call path: each label set is a series object bound once, and an
 * observation is a bucket search and three additions on plain numbers. prom-client's own Histogram
 * validates and hashes the labels on every observe (a child from labels() does too, and buckets are
 * keyed by the bound turned into a string): about 1-2 µs per observation, several per call.
 *
 * It is registered in a prom-client Registry like any metric (the registry only asks a metric for its
 * name, help, type and values through get()/getForPromString()), and answers with exactly what a
 * prom-client Histogram answers (same sample names, `le` labels and order), so the text exposition and
 * AggregatorRegistry (--workers: summed across workers) treat it as one.
 */
import type { Registry } from "prom-client";

type Labels = Record<string, string>;

/** One label set of a histogram. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative), by index of the bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

interface SampleValue {
  value: number;
  labels: Labels | { le: number | string };
  sharedLabels?: Labels;
  metricName: string;
  exemplar?: null;
}

export class BoundHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registers: readonly Registry[],
  ) {
    for (const registry of registers) registry.registerMetric(this as never);
  }

  /** The series of `labels` (values in the order of labelNames), created at its first use; keep it. */
  series(...values: string[]): HistogramSeries {
    const key = values.join("\u0000");
    let series = this.#series.get(key);
    if (series === undefined) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ""));
      series = new HistogramSeries(labels, this.bounds);
      this.#series.set(key, series);
    }
    return series;
  }

  /** As prom-client's Histogram: `le` as the label, the series labels as shared labels (text exposition). */
  getForPromString(): Promise<{ name: string; help: string; type: string; values: SampleValue[]; aggregator: string }> {
    const values: SampleValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ labels: { le: this.bounds[i]! }, sharedLabels: series.labels, value: cumulative, metricName: bucket, exemplar: null });
      }
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: series.labels, value: series.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** As prom-client's Histogram.get(): the shared labels merged into each sample's labels (JSON, AggregatorRegistry). */
  async get(): Promise<{ name: string; help: string; type: string; values: SampleValue[]; aggregator: string }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } as Labels }));
    return data;
  }

  reset(): void {
    for (const series of this.#series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
