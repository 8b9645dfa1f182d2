// SeriesCounter and SeriesHistogram against prom-client's own Counter and Histogram: for any
// sequence of the same increments and observations, a scrape reads the same text, and the
// workers' aggregation (AggregatorRegistry.aggregate over get()) gives the same text too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AggregatorRegistry, Counter, Histogram, Registry, type Metric } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from '../../src/metric-series.ts';

const BOUNDS = [0.005, 0.01, 0.025, 0.1, 1, 5];
const route = fc.constantFrom('/file/download/chat', '/file/upload/chat', '(unmatched)', 'a "quoted" \\ route');
const method = fc.constantFrom('GET', 'HEAD', 'POST');
const status = fc.constantFrom('2xx', '3xx', '4xx');
// bounds themselves included: a value on a bound counts in that bound's bucket
const seconds = fc.oneof(fc.constantFrom(...BOUNDS, 0, 7), fc.double({ min: 0, max: 10, noNaN: true }));

const register = (r: Registry, m: SeriesCounter | SeriesHistogram) => r.registerMetric(m as unknown as Metric);

function both() {
  const theirs = new Registry();
  const ours = new Registry();
  const counter = new Counter({ name: 'x_requests_total', help: 'requests', labelNames: ['route', 'method', 'status'], registers: [theirs] });
  const bytes = new Counter({ name: 'x_bytes_total', help: 'bytes', labelNames: ['endpoint'], registers: [theirs] });
  const histogram = new Histogram({ name: 'x_seconds', help: 'time "taken"\nin s', labelNames: ['route', 'method'], buckets: BOUNDS, registers: [theirs] });
  const myCounter = new SeriesCounter('x_requests_total', 'requests', ['route', 'method', 'status']);
  const myBytes = new SeriesCounter('x_bytes_total', 'bytes', ['endpoint']);
  const myHistogram = new SeriesHistogram('x_seconds', 'time "taken"\nin s', ['route', 'method'], BOUNDS);
  for (const m of [myCounter, myBytes, myHistogram]) register(ours, m);
  return { theirs, ours, counter, bytes, histogram, myCounter, myBytes, myHistogram };
}

test('the same requests read the same: text, and aggregated across two workers', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(route, method, status, seconds, fc.nat(1 << 20)), { maxLength: 60 }),
      fc.array(fc.tuple(route, method, status, seconds, fc.nat(1 << 20)), { maxLength: 20 }),
      async (first, second) => {
        const workers = [both(), both()];
        for (const [w, events] of [[workers[0]!, first], [workers[1]!, second]] as const) {
          for (const [r, m, st, s, n] of events) {
            w.counter.inc({ route: r, method: m, status: st });
            w.myCounter.add(1, r, m, st);
            w.histogram.observe({ route: r, method: m }, s);
            w.myHistogram.observe(s, r, m);
            w.bytes.inc({ endpoint: m }, n);
            w.myBytes.add(n, m);
          }
        }
        const w0 = workers[0]!;
        assert.equal(await w0.ours.metrics(), await w0.theirs.metrics());
        const aggregate = async (side: 'ours' | 'theirs') =>
          AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w[side].getMetricsAsJSON()))).metrics();
        assert.equal(await aggregate('ours'), await aggregate('theirs'));
      },
    ),
    { numRuns: 200 },
  );
});

test('nothing counted yet: no series, as prom-client shows a labelled metric before its first inc', async () => {
  const { ours, theirs } = both();
  assert.equal(await ours.metrics(), await theirs.metrics());
});
