// Reads Prometheus text (GET /metrics) into samples, and turns two readings into the rates the
// Usage and health page charts: ferry_http_requests_total (its status="5xx" share is the error
// rate), ferry_http_request_duration_seconds (sum/count: the mean latency) and the media queue
// gauges (the derivative queue). Labels are summed over, so a new label changes nothing.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const value = Number(m[4]);
    if (Number.isFinite(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

// The names src/metrics.ts registers (docs/operations.md lists them).
const REQUESTS = 'ferry_http_requests_total';
const LATENCY_SUM = 'ferry_http_request_duration_seconds_sum';
const LATENCY_COUNT = 'ferry_http_request_duration_seconds_count';
const QUEUE = ['ferry_media_queue_waiting', 'ferry_media_queue_running'];

export interface Reading {
  at: number;
  requests: number;
  errors: number;
  latencySum: number;
  latencyCount: number;
  /** derivative jobs waiting plus running; null when the metrics have none */
  queue: number | null;
}

export function reading(samples: Sample[], at: number): Reading {
  let requests = 0;
  let errors = 0;
  let latencySum = 0;
  let latencyCount = 0;
  let queue: number | null = null;
  for (const s of samples) {
    if (s.name === REQUESTS) {
      requests += s.value;
      // status is a class: 2xx, 3xx, 4xx, 5xx
      if (s.labels.status === '5xx') errors += s.value;
    } else if (s.name === LATENCY_SUM) latencySum += s.value;
    else if (s.name === LATENCY_COUNT) latencyCount += s.value;
    else if (QUEUE.includes(s.name)) queue = (queue ?? 0) + s.value;
  }
  return { at, requests, errors, latencySum, latencyCount, queue };
}

export interface Point {
  at: number;
  /** requests per second */
  rate: number;
  /** share of answers that were 5xx, 0–1 */
  errorRate: number;
  /** mean seconds per request in the interval, null when none */
  latency: number | null;
  queue: number | null;
}

export function point(prev: Reading, cur: Reading): Point {
  const secs = Math.max((cur.at - prev.at) / 1000, 0.001);
  const reqs = Math.max(cur.requests - prev.requests, 0);
  const errs = Math.max(cur.errors - prev.errors, 0);
  const n = cur.latencyCount - prev.latencyCount;
  return {
    at: cur.at,
    rate: reqs / secs,
    errorRate: reqs > 0 ? errs / reqs : 0,
    latency: n > 0 ? (cur.latencySum - prev.latencySum) / n : null,
    queue: cur.queue,
  };
}
