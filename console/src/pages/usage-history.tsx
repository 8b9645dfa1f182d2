// Usage over time on the Usage and health page: bytes added per UTC day by kind over the last
// 30 days, from the `history` of GET /admin/apps/:app_id/usage, as stacked SVG bars, with the
// same numbers as a table (screen readers and exact values read the table; the chart is a picture).
import { formatBytes } from '../api.ts';

export const HISTORY_DAYS = 30;

/** One row of the API's history: what an app added and removed of one kind on one UTC day. */
export interface UsageDay {
  day: string;
  kind: string;
  bytes_added: number;
  files_added: number;
  bytes_removed: number;
  files_removed: number;
}

// Stacking order and colours (classes in style.css) are fixed, so a kind keeps its colour.
const KINDS = ['chat', 'voice', 'image', 'video', 'shared', 'avatar'];
const DAY_MS = 86_400_000;

/** The last `n` UTC days, oldest first, as the API names them ('YYYY-MM-DD'). */
function lastDays(n: number, now = Date.now()): string[] {
  return Array.from({ length: n }, (_, i) => new Date(now - (n - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

/** Exact below 1 KiB; above, the rounded size and the exact count (the table is the precise view). */
const exactBytes = (n: number) => (n < 1024 ? `${n} B` : `${formatBytes(n)} (${n} B)`);

export function UsageHistory({ history }: { history: UsageDay[] | undefined }) {
  if (!history) {
    return <p class="notice">Usage history is not available on this Ferry (its usage answer has no history: the server is older than this console).</p>;
  }
  const days = lastDays(HISTORY_DAYS);
  const added = new Map<string, Map<string, number>>();
  for (const h of history) {
    if (h.bytes_added <= 0) continue;
    const byKind = added.get(h.day) ?? new Map<string, number>();
    byKind.set(h.kind, (byKind.get(h.kind) ?? 0) + h.bytes_added);
    added.set(h.day, byKind);
  }
  // the kinds with bytes added in the window, in stacking order (the API names no others)
  const kinds = KINDS.filter((k) => days.some((d) => added.get(d)?.has(k)));
  const totalOf = (day: string) => [...(added.get(day)?.values() ?? [])].reduce((a, b) => a + b, 0);
  const busiest = Math.max(0, ...days.map(totalOf));
  const max = Math.max(1, busiest);
  const W = 330;
  const H = 100;
  const slot = W / days.length;
  const rows = [...history].sort((a, b) => b.day.localeCompare(a.day) || a.kind.localeCompare(b.kind));
  return (
    <>
      <figure class="chart-box" aria-labelledby="usage-history-caption">
        <figcaption id="usage-history-caption">
          <strong>Bytes added per day by kind</strong>, last {HISTORY_DAYS} days (UTC); the busiest day added {formatBytes(busiest)}
        </figcaption>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          class="chart usage-history"
          preserveAspectRatio="none"
          role="img"
          aria-label={`Bytes added per day by kind from ${days[0]} to ${days[days.length - 1]}; the table below has the numbers`}
        >
          {days.map((day, i) => {
            let y = H;
            return kinds.map((kind) => {
              const b = added.get(day)?.get(kind) ?? 0;
              if (b === 0) return null;
              const h = Math.max(1, (b / max) * (H - 4));
              y -= h;
              return (
                <rect key={`${day}-${kind}`} class={`bar kind-${kind}`} x={(i * slot + 1).toFixed(1)} y={y.toFixed(1)} width={(slot - 2).toFixed(1)} height={h.toFixed(1)} data-day={day} data-kind={kind}>
                  <title>{`${day} ${kind}: ${exactBytes(b)}`}</title>
                </rect>
              );
            });
          })}
        </svg>
        <small class="hint axis">
          <span>{days[0]}</span>
          <span>{days[days.length - 1]} (today)</span>
        </small>
        {kinds.length > 0 ? (
          <ul class="legend" aria-label="Kinds in the chart">
            {kinds.map((k) => (
              <li key={k}>
                <span class={`swatch kind-${k}`} aria-hidden="true" /> {k}
              </li>
            ))}
          </ul>
        ) : null}
      </figure>
      {rows.length === 0 ? (
        <p class="hint">Nothing was uploaded or removed in the last {HISTORY_DAYS} days.</p>
      ) : (
        <div class="scroll">
          <table class="usage-history-table">
            <caption>Added and removed per day (UTC), newest first</caption>
            <thead>
              <tr>
                <th scope="col">day</th>
                <th scope="col">kind</th>
                <th scope="col">files added</th>
                <th scope="col">bytes added</th>
                <th scope="col">files removed</th>
                <th scope="col">bytes removed</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((h) => (
                <tr key={`${h.day}-${h.kind}`}>
                  <td>{h.day}</td>
                  <td>{h.kind}</td>
                  <td>{h.files_added}</td>
                  <td>{exactBytes(h.bytes_added)}</td>
                  <td>{h.files_removed}</td>
                  <td>{exactBytes(h.bytes_removed)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
