// Reads Prometheus text (GET /metrics) into samples, and turns two readings into the rates the
// Usage and health page charts. Metric names are matched loosely (any ferry_ counter of HTTP
// requests, any ferry_ duration histogram, any ferry_ gauge about the derivative queue), so the
// page keeps working when a metric gains a label.

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

const isRequests = (s: Sample) => /^ferry_.*requests_total$/.test(s.name) && /http|request/.test(s.name);
const statusOf = (s: Sample) => s.labels.status ?? s.labels.status_code ?? s.labels.code ?? '';
const isError = (s: Sample) => /^5/.test(statusOf(s));

export interface Reading {
  at: number;
  requests: number;
  errors: number;
  latencySum: number;
  latencyCount: number;
  queue: number | null;
}

export function reading(samples: Sample[], at: number): Reading {
  let requests = 0;
  let errors = 0;
  let latencySum = 0;
  let latencyCount = 0;
  let queue: number | null = null;
  for (const s of samples) {
    if (isRequests(s)) {
      requests += s.value;
      if (isError(s)) errors += s.value;
    } else if (/^ferry_.*(duration|latency)_seconds_sum$/.test(s.name) && /http|request/.test(s.name)) latencySum += s.value;
    else if (/^ferry_.*(duration|latency)_seconds_count$/.test(s.name) && /http|request/.test(s.name)) latencyCount += s.value;
    else if (/^ferry_.*(derivative|media).*(queue|waiting|pending|in_flight|running)/.test(s.name) && !s.name.endsWith('_total')) queue = (queue ?? 0) + s.value;
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
