// FERRY_WORKERS > 1: several Ferry processes serve one port (node:cluster; the primary accepts
// connections and hands them out in turn), so one Ferry uses every core. They share the data
// folder and the database like nodes of a scale-out setup share theirs: SQLite in WAL mode
// across processes, single flight through leases in the database.
//
// The primary serves nothing. It does once what must happen once per start (the admin key,
// migrations, giving back dead upload claims, emptying the staging folders: server.ts
// prepareDataFolder), then starts the workers, starts a worker again when one dies, and on
// SIGTERM/SIGINT passes the signal on and waits for every worker's graceful shutdown.
// Worker 1 runs the janitor; the others only serve. A scrape of /metrics, whichever worker takes
// it, asks the primary for every worker's metrics together (cluster-metrics.ts).
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { prepareDataFolder } from '../server.ts';
import { workerEnv, workerExecArgv } from './node-flags.ts';
import { gatherWorkerMetrics } from './cluster-metrics.ts';

/** The environment variable through which the primary tells a worker its number (1…N). */
export const WORKER_INDEX_ENV = 'FERRY_WORKER_INDEX';

/** This process's worker number, or null when it is not a cluster worker. */
export function workerIndex(): number | null {
  if (!cluster.isWorker) return null;
  const n = Number(process.env[WORKER_INDEX_ENV]);
  return Number.isInteger(n) && n >= 1 ? n : null;
}

/** A worker that dies this soon after it started is broken (bad settings, a port in use): stop. */
const START_FAILURE_MS = 5_000;

/**
 * Runs the primary until every worker has stopped; resolves with the exit code. onListening
 * hears the URL once the first worker listens (for the first-start help).
 */
export async function runPrimary(config: Readonly<Config>, log: Logger, onListening: (url: string, adminKey: string, created: boolean) => void): Promise<number> {
  const { adminKey, adminKeyCreated } = await prepareDataFolder(config, log);
  const started = new Map<Worker, { index: number; at: number; listening: boolean }>();
  let stopping = false;
  let failed = false;
  let announced = false;

  gatherWorkerMetrics();
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
  const fork = (index: number) => {
    const w = cluster.fork({ ...workerEnv(process.env), [WORKER_INDEX_ENV]: String(index) });
    started.set(w, { index, at: Date.now(), listening: false });
  };

  cluster.on('listening', (w, address) => {
    const info = started.get(w);
    if (info) info.listening = true;
    if (!announced) {
      announced = true;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      onListening(`http://${host}:${address.port}`, adminKey, adminKeyCreated);
    }
  });

  const allExited = new Promise<void>((resolve) => {
    cluster.on('exit', (w, code, signal) => {
      const info = started.get(w);
      started.delete(w);
      // A worker still starting when the SIGTERM came ends by the signal itself: nothing was in
      // flight there. Any other way out while stopping is a failed shutdown.
      if (stopping && !(code === 0 || (code === null && signal === 'SIGTERM'))) failed = true;
      if (!stopping && info) {
        const early = !info.listening || Date.now() - info.at < START_FAILURE_MS;
        if (early) {
          log.error({ worker: info.index, code, signal }, 'a worker failed as it started: stopping Ferry');
          failed = true;
          stopAll();
        } else {
          log.error({ worker: info.index, code, signal }, 'a worker died: starting it again');
          fork(info.index);
        }
      }
      if (started.size === 0 && (stopping || failed)) resolve();
    });
  });

  const stopAll = () => {
    stopping = true;
    // Each worker shuts down gracefully on SIGTERM (in-flight uploads get their grace period).
    for (const w of started.keys()) w.process.kill('SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    log.info({ signal, workers: started.size }, 'shutting down the workers');
    stopAll();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  for (let i = 1; i <= config.workers; i++) fork(i);
  await allExited;
  return failed ? 1 : 0;
}
