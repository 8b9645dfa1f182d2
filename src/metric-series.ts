// The metrics moved on every request (requests, their durations, downloads), counted in plain
// numbers and handed to prom-client's registry as metrics of its format. prom-client's own
// Counter and Histogram build a string from the label object and return a fresh object on every
// inc or observe: about 1 KB and 3–7% of a small request's time (measured on the 302 with and
// without them). Here a series is found through one Map per label, with no allocation once it
// exists. The text a scrape reads is the same (test/unit/metric-series.test.ts compares it with
// prom-client's for the same observations), and the cluster aggregation reads get() as it reads
// prom-client's.

/** Up to three labels, found without building a key: one Map level per label. */
class SeriesTable<S> {
  private readonly root = new Map<string, Map<string, Map<string, S>>>();
  /** every series, in the order they first appeared (the order prom-client shows them in) */
  readonly all: S[] = [];

  constructor(
    private readonly labelNames: readonly string[],
    private readonly make: (labels: Record<string, string>) => S,
  ) {
    if (labelNames.length > 3) throw new Error('at most three labels');
  }

  at(a: string, b: string, c: string): S {
    let l1 = this.root.get(a);
    if (!l1) this.root.set(a, (l1 = new Map()));
    let l2 = l1.get(b);
    if (!l2) l1.set(b, (l2 = new Map()));
    let series = l2.get(c);
    if (series === undefined) {
      const values = [a, b, c];
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i]!));
      series = this.make(labels);
      l2.set(c, series);
      this.all.push(series);
    }
    return series;
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  /** labels the registry writes after labels (prom-client's histograms: the series' own) */
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/** What prom-client's registry reads from a metric. */
interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: MetricValue[];
}

/** A counter of up to three labels: add(by, a, b, c), label values in labelNames' order. */
export class SeriesCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly table: SeriesTable<{ labels: Record<string, string>; value: number }>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
  ) {
    this.table = new SeriesTable(labelNames, (labels) => ({ labels, value: 0 }));
  }

  add(by: number, a: string, b = '', c = ''): void {
    this.table.at(a, b, c).value += by;
  }

  get(): Promise<MetricData> {
    const values = this.table.all.map((s) => ({ labels: s.labels, value: s.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}

interface HistogramSeries {
  labels: Record<string, string>;
  /** observations per bucket, not cumulative: counts[i] for upper bound i, the last for +Inf */
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram of up to three labels over fixed upper bounds, as prom-client's renders. */
export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly table: SeriesTable<HistogramSeries>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    this.table = new SeriesTable(labelNames, (labels) => ({ labels, counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }));
  }

  observe(value: number, a: string, b = '', c = ''): void {
    const s = this.table.at(a, b, c);
    let i = 0;
    // prom-client's rule: a value on a bound counts in that bound's bucket
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** For the text a scrape reads: le first, then the series' labels, as prom-client writes them. */
  getForPromString(): Promise<MetricData> {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.table.all) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** For the workers' aggregation: each value's labels whole. */
  async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }
}
