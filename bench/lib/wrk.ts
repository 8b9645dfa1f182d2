// wrk runs and what we read from its report. Both sides of a comparison get the same threads,
// connections and duration; errors wrk saw travel with the number so a fast error page can
// never pass for a fast server.
import { run, type Pin } from './proc.ts';
import { interleaved } from './stats.ts';
import type { BenchOptions } from './types.ts';

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  latencyAvg: string;
  non2xx: number;
  socketErrors: number;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`could not read wrk output:\n${out}`);
  const total = /(\d+) requests in/.exec(out);
  const lat = /Latency\s+(\S+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSec: Number(rps[1]),
    requests: total ? Number(total[1]) : 0,
    latencyAvg: lat ? lat[1]! : '?',
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
  };
}

export async function wrk(url: string, opts: Pick<BenchOptions, 'threads' | 'connections'> & { durationS: number; pin?: Pin }): Promise<WrkResult> {
  const args = ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.durationS}s`, '--latency', url];
  const res = await run('wrk', args, { timeoutMs: (opts.durationS + 30) * 1000, pin: opts.pin ?? 'client' });
  if (res.code !== 0) throw new Error(`wrk failed (${res.code}): ${res.stderr || res.stdout}`);
  return parseWrk(res.stdout);
}

/** wrk rates for both sides plus the error counts, ready for a Measured's notes. */
export function wrkNotes(side: string, results: WrkResult[]): string[] {
  const non2xx = results.reduce((n, r) => n + r.non2xx, 0);
  const sock = results.reduce((n, r) => n + r.socketErrors, 0);
  const notes = [`${side}: avg latency ${results.map((r) => r.latencyAvg).join(' / ')}`];
  if (non2xx > 0) notes.push(`${side}: ${non2xx} non-2xx/3xx responses during the runs`);
  if (sock > 0) notes.push(`${side}: ${sock} socket errors during the runs`);
  return notes;
}

/**
 * Requests/s of two URLs under identical wrk settings: a short warm-up of each (JIT, caches,
 * SQLite pages), then reps runs each in ABBA order.
 */
export async function wrkPair(
  opts: BenchOptions,
  log: (line: string) => void,
  ferryUrl: string,
  peerUrl: string,
): Promise<{ ferry: WrkResult[]; peer: WrkResult[] }> {
  const settings = { threads: opts.threads, connections: opts.connections };
  const warm = Math.min(3, opts.durationS);
  log(`  warm-up ${warm}s each`);
  await wrk(ferryUrl, { ...settings, durationS: warm });
  await wrk(peerUrl, { ...settings, durationS: warm });
  let i = 0;
  const { a, b } = await interleaved(
    opts.reps,
    async () => {
      const r = await wrk(ferryUrl, { ...settings, durationS: opts.durationS });
      log(`  ferry run ${++i}: ${r.requestsPerSec.toFixed(0)} req/s`);
      return r;
    },
    async () => {
      const r = await wrk(peerUrl, { ...settings, durationS: opts.durationS });
      log(`  peer  run: ${r.requestsPerSec.toFixed(0)} req/s`);
      return r;
    },
  );
  return { ferry: a, peer: b };
}
