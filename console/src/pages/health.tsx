// Usage and health: the app's usage by kind and its heaviest users; readiness of database and
// store; request rate, error rate, latency and the derivative queue from /metrics, charted and
// refreshed every few seconds.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, formatBytes, type Api } from '../api.ts';
import { ErrorBox, Unavailable, useAction } from '../ui.tsx';
import { parseMetrics, point, reading, type Point, type Reading } from '../metrics.ts';
import type { PageProps } from '../main.tsx';

const EVERY_MS = 3000;
const KEEP = 60;

interface Usage {
  bytes: number;
  files: number;
  by_kind: Record<string, { bytes: number; files: number }>;
  heaviest_users: { user_id: string; bytes: number; files: number }[];
}

export function HealthPage({ api, appId }: PageProps) {
  return (
    <>
      <h1>Usage and health</h1>
      <div class="grid">
        <Readiness api={api} />
        <Live api={api} />
      </div>
      {appId ? <UsageCard key={appId} api={api} appId={appId} /> : <p class="notice">Choose an app on the Apps page to see its usage.</p>}
    </>
  );
}

function Readiness({ api }: { api: Api }) {
  const [ready, setReady] = useState<{ ok: boolean; text: string } | null>(null);
  const [missing, setMissing] = useState(false);
  const load = useAction(async () => {
    const r = await api.plain('/readyz');
    if (r.status === 404) return setMissing(true);
    let text = r.text.trim();
    try {
      text = JSON.stringify(JSON.parse(r.text), null, 1);
    } catch {
      // plain text answer: shown as it is
    }
    setReady({ ok: r.status === 200, text });
  });
  useEffect(() => {
    void load.run();
    const t = setInterval(() => void load.run(), EVERY_MS * 3);
    return () => clearInterval(t);
  }, []);
  return (
    <section class="card" aria-labelledby="readiness">
      <h2 id="readiness">Readiness</h2>
      <ErrorBox error={load.error} />
      {missing ? <Unavailable what="The readiness check (GET /readyz)" /> : null}
      {ready ? (
        <>
          <p role="status">
            <strong class={ready.ok ? 'state state-live' : 'state state-deleted'}>{ready.ok ? 'Ready' : 'Not ready'}</strong>: database and store {ready.ok ? 'reachable' : 'not all reachable'}
          </p>
          <pre class="mono">{ready.text}</pre>
        </>
      ) : null}
    </section>
  );
}

function Live({ api }: { api: Api }) {
  const [points, setPoints] = useState<Point[]>([]);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const last = useRef<Reading | null>(null);
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const r = await api.plain('/metrics');
        if (stopped) return;
        if (r.status === 404) {
          setMissing(true);
          return;
        }
        if (r.status !== 200) throw new ApiError(r.status, r.text.slice(0, 300));
        const cur = reading(parseMetrics(r.text), Date.now());
        if (last.current) {
          const p = point(last.current, cur);
          setPoints((old) => [...old.slice(-(KEEP - 1)), p]);
        }
        last.current = cur;
        setError(null);
      } catch (err) {
        if (!stopped) setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
      }
    };
    void tick();
    const t = setInterval(() => void tick(), EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, []);
  const latest = points[points.length - 1];
  return (
    <section class="card" aria-labelledby="live">
      <h2 id="live">Traffic (live, every {EVERY_MS / 1000} s)</h2>
      {missing ? <Unavailable what="Metrics (GET /metrics)" /> : null}
      <ErrorBox error={error} />
      {!missing ? (
        <>
          <dl class="facts" aria-live="polite">
            <dt>Requests</dt>
            <dd>{latest ? `${latest.rate.toFixed(2)} /s` : 'measuring…'}</dd>
            <dt>Errors (5xx)</dt>
            <dd>{latest ? `${(latest.errorRate * 100).toFixed(1)} %` : '—'}</dd>
            <dt>Mean latency</dt>
            <dd>{latest?.latency != null ? `${(latest.latency * 1000).toFixed(1)} ms` : '—'}</dd>
            <dt>Derivative queue</dt>
            <dd>{latest?.queue != null ? String(latest.queue) : '—'}</dd>
          </dl>
          <Chart points={points} />
        </>
      ) : null}
    </section>
  );
}

/** Requests per second (line) and the error share (bars), last few minutes, as inline SVG. */
function Chart({ points }: { points: Point[] }) {
  const W = 320;
  const H = 100;
  const max = Math.max(1, ...points.map((p) => p.rate));
  const x = (i: number) => (points.length <= 1 ? W : (i / (KEEP - 1)) * W);
  const line = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${(H - (p.rate / max) * (H - 10)).toFixed(1)}`).join(' ');
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-label={`Requests per second over the last ${points.length} readings, at most ${max.toFixed(1)}`}>
        {points.map((p, i) => (p.errorRate > 0 ? <rect key={`e${i}`} x={x(i) - 2} y={H - p.errorRate * H} width={4} height={p.errorRate * H} class="errbar" /> : null))}
        <path d={line} class="rate" />
      </svg>
      <figcaption>Line: requests/s (top = {max.toFixed(1)}). Red bars: share of 5xx answers.</figcaption>
    </figure>
  );
}

function UsageCard({ api, appId }: { api: Api; appId: string }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const load = useAction(async () => {
    setUsage(await api.admin<Usage>('GET', `/admin/apps/${encodeURIComponent(appId)}/usage`));
  });
  useEffect(() => {
    void load.run();
  }, []);
  const maxBytes = usage ? Math.max(1, ...Object.values(usage.by_kind).map((k) => k.bytes)) : 1;
  return (
    <section class="card" aria-labelledby="usage">
      <h2 id="usage">
        Usage of <code>{appId}</code>
      </h2>
      <ErrorBox error={load.error} what="Usage (GET …/usage)" />
      {usage ? (
        <>
          <p>
            {formatBytes(usage.bytes)} in {usage.files} files
          </p>
          <table>
            <caption>By kind</caption>
            <thead>
              <tr>
                <th scope="col">kind</th>
                <th scope="col">files</th>
                <th scope="col">bytes</th>
                <th scope="col">
                  <span class="sr">share</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(usage.by_kind).map(([kind, k]) => (
                <tr key={kind}>
                  <td>{kind}</td>
                  <td>{k.files}</td>
                  <td>{formatBytes(k.bytes)}</td>
                  <td>
                    <meter min={0} max={maxBytes} value={k.bytes} aria-label={`${kind} share`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <table>
            <caption>Heaviest users</caption>
            <thead>
              <tr>
                <th scope="col">user_id</th>
                <th scope="col">files</th>
                <th scope="col">bytes</th>
              </tr>
            </thead>
            <tbody>
              {usage.heaviest_users.map((u) => (
                <tr key={u.user_id}>
                  <td>{u.user_id}</td>
                  <td>{u.files}</td>
                  <td>{formatBytes(u.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
