// Usage and health: the app's usage by kind (now and per day) and its heaviest users; readiness of database and
// store; request rate, error rate, latency and the derivative queue from /metrics, charted and
// refreshed every few seconds.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, formatBytes, type Api } from '../api.ts';
import { ErrorBox, Field, Unavailable, useAction } from '../ui.tsx';
import { parseMetrics, point, reading, type Point, type Reading } from '../metrics.ts';
import type { PageProps } from '../main.tsx';
import { HISTORY_DAYS, UsageHistory, type UsageDay } from './usage-history.tsx';

const EVERY_MS = 2000;
const KEEP = 60;

interface Usage {
  bytes: number;
  files: number;
  by_kind: Record<string, { bytes: number; files: number }>;
  heaviest_users: { user_id: string; bytes: number; files: number }[];
  /** absent on a Ferry from before usage history */
  history?: UsageDay[];
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

/** GET /readyz answers {status, database, store, message?} with 200 or 503. */
interface Ready {
  status?: string;
  database?: string;
  store?: string;
  message?: string;
}

function Readiness({ api }: { api: Api }) {
  const [ready, setReady] = useState<{ ok: boolean; body: Ready | null; text: string } | null>(null);
  const [missing, setMissing] = useState(false);
  const load = useAction(async () => {
    const r = await api.plain('/readyz');
    if (r.status === 404) return setMissing(true);
    if (r.status !== 200 && r.status !== 503) throw new ApiError(r.status, r.text.trim().slice(0, 300) || `HTTP ${r.status}`);
    let body: Ready | null = null;
    try {
      body = JSON.parse(r.text) as Ready;
    } catch {
      // not JSON: the text is shown as it is
    }
    setReady({ ok: r.status === 200, body, text: r.text.trim() });
  });
  useEffect(() => {
    void load.run();
    const t = setInterval(() => void load.run(), EVERY_MS * 3);
    return () => clearInterval(t);
  }, []);
  const check = (v: string | undefined) => <strong class={v === 'ok' ? 'state state-live' : 'state state-deleted'}>{v ?? '—'}</strong>;
  return (
    <section class="card" aria-labelledby="readiness">
      <h2 id="readiness">Readiness</h2>
      <ErrorBox error={load.error} />
      {missing ? <Unavailable what="The readiness check (GET /readyz)" /> : null}
      {ready ? (
        <>
          <p role="status">
            <strong class={ready.ok ? 'state state-live' : 'state state-deleted'}>{ready.ok ? 'Ready' : 'Not ready'}</strong>
            {ready.body?.message ? `: ${ready.body.message}` : ready.ok ? ': database and store answer' : ''}
          </p>
          {ready.body ? (
            <dl class="facts">
              <dt>Database</dt>
              <dd>{check(ready.body.database)}</dd>
              <dt>Store</dt>
              <dd>{check(ready.body.store)}</dd>
              <dt>Status</dt>
              <dd>{ready.body.status ?? '—'}</dd>
            </dl>
          ) : (
            <pre class="mono">{ready.text}</pre>
          )}
        </>
      ) : null}
    </section>
  );
}

function Live({ api }: { api: Api }) {
  const [points, setPoints] = useState<Point[]>([]);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  // With FERRY_METRICS_TOKEN set, /metrics wants it as a bearer token: asked for, kept in memory.
  const [metricsToken, setMetricsToken] = useState('');
  const [tokenWanted, setTokenWanted] = useState(false);
  const [draft, setDraft] = useState('');
  const last = useRef<Reading | null>(null);
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const r = await api.plain('/metrics', metricsToken ? { authorization: `Bearer ${metricsToken}` } : {});
        if (stopped) return;
        if (r.status === 404) return setMissing(true);
        if (r.status === 401) {
          setTokenWanted(true);
          throw new ApiError(401, messageOfText(r.text));
        }
        if (r.status !== 200) throw new ApiError(r.status, messageOfText(r.text));
        setTokenWanted(false);
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
  }, [metricsToken]);
  const latest = points[points.length - 1];
  const ms = (v: number | null) => (v === null ? null : v * 1000);
  return (
    <section class="card" aria-labelledby="live">
      <h2 id="live">Traffic (live, every {EVERY_MS / 1000} s)</h2>
      {missing ? <Unavailable what="Metrics (GET /metrics)" /> : null}
      <ErrorBox error={error} />
      {tokenWanted ? (
        <form
          aria-label="Metrics token"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (draft.trim()) setMetricsToken(draft.trim());
          }}
        >
          <Field label="Metrics token (FERRY_METRICS_TOKEN)" name="metrics-token" type="password" value={draft} onInput={setDraft} hint="Kept in this page's memory only." />
          <div class="actions">
            <button type="submit">Use token</button>
          </div>
        </form>
      ) : null}
      {!missing ? (
        <div class="charts">
          <Chart title="Requests" unit="/s" values={points.map((p) => p.rate)} latest={latest ? `${latest.rate.toFixed(2)} /s` : 'measuring…'} />
          <Chart title="Errors (5xx)" unit="%" values={points.map((p) => p.errorRate * 100)} latest={latest ? `${(latest.errorRate * 100).toFixed(1)} %` : '—'} error />
          <Chart title="Mean latency" unit="ms" values={points.map((p) => ms(p.latency))} latest={latest?.latency != null ? `${(latest.latency * 1000).toFixed(1)} ms` : '—'} />
          <Chart title="Derivative queue" unit="jobs" values={points.map((p) => p.queue)} latest={latest?.queue != null ? `${latest.queue} waiting or running` : '—'} />
        </div>
      ) : null}
    </section>
  );
}

const messageOfText = (text: string) => {
  try {
    const b = JSON.parse(text) as { error?: unknown };
    if (typeof b.error === 'string') return b.error;
  } catch {
    // not JSON: the text itself
  }
  return text.trim().slice(0, 300);
};

/** One series of the last readings as a small inline SVG line (no gap filled in for a null). */
function Chart({ title, unit, values, latest, error }: { title: string; unit: string; values: (number | null)[]; latest: string; error?: boolean }) {
  const W = 320;
  const H = 60;
  // at least 1 on the scale (a flat line of zeros sits at the bottom); the newest reading at the
  // right edge, the first ones spread out until the window fills
  const max = Math.max(1, ...values.map((v) => v ?? 0));
  const span = Math.max(values.length, 15) - 1;
  const x = (i: number) => W - ((values.length - 1 - i) / span) * W;
  let line = '';
  let pen = 'M';
  values.forEach((v, i) => {
    if (v === null) return void (pen = 'M');
    line += `${pen}${x(i).toFixed(1)},${(H - 2 - (v / max) * (H - 6)).toFixed(1)} `;
    pen = 'L';
  });
  const top = max >= 10 ? max.toFixed(0) : max.toPrecision(2);
  return (
    <figure class="chart-box">
      <figcaption>
        <strong>{title}</strong>: <span class="latest">{latest}</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-label={`${title} over the last ${values.length} readings, at most ${top} ${unit}`} data-series={title}>
        <path d={line.trim()} class={error ? 'rate err' : 'rate'} />
      </svg>
      <small class="hint">
        top = {top} {unit}
      </small>
    </figure>
  );
}

function UsageCard({ api, appId }: { api: Api; appId: string }) {
  const [usage, setUsage] = useState<Usage | null>(null);
  const load = useAction(async () => {
    setUsage(await api.admin<Usage>('GET', `/admin/apps/${encodeURIComponent(appId)}/usage?days=${HISTORY_DAYS}`));
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
          <UsageHistory history={usage.history} />
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
