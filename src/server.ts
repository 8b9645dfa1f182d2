// Assembles a running Ferry from a config: stores, app registry, HTTP server, janitor, and a
// graceful close that lets in-flight uploads finish (or cleans them up after the grace period).
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { openMetaStore } from './meta/open.ts';
import { openByteStore } from './bytes/open.ts';
import { AppRegistry } from './auth/app-registry.ts';
import { buildApp } from './http/app.ts';
import { loadOrCreateAdminKey } from './admin-key.ts';
import { startJanitor } from './janitor.ts';
import { boundedCache } from './primitives/bounded-cache.ts';
import { MediaTools } from './media/tools.ts';
import { InFlight } from './primitives/in-flight.ts';
import { Turns } from './primitives/turns.ts';
import { lifecycleHooks } from './pipelines/lifecycle.ts';
import { PublicUrls } from './public-urls.ts';
import type { FerryError } from './errors.ts';
import type { DerivativeRecord, MetaStore } from './meta/meta-store.ts';
import { LocalSingleFlight } from './primitives/single-flight.ts';
import { LeaseSingleFlight } from './cluster/lease-single-flight.ts';
import { clusterMetricsOf } from './cluster/cluster-metrics.ts';
import type { Services } from './services.ts';
import { secureDataDir } from './data-dir.ts';
import { newDownloadCaches } from './pipelines/download-caches.ts';
import { newSettingsCache } from './pipelines/app-settings.ts';
import { Membership } from './membership/membership.ts';
import { createLogger } from './logging.ts';
import { FerryMetrics } from './metrics.ts';
import { ReadinessCheck } from './health.ts';
import { RateLimits } from './rate-limits.ts';

export interface RunningFerry {
  services: Services;
  /** where it listens, e.g. http://127.0.0.1:8080 */
  url: string;
  adminKey: string;
  adminKeyCreated: boolean;
  close(): Promise<void>;
}

/** How this process serves: alone (the default), or as one of FERRY_WORKERS processes on one port. */
export interface StartOptions {
  /**
   * One of several workers: its primary already prepared the data folder (prepareDataFolder),
   * so this process neither migrates nor sweeps nor gives back claims, and only the worker
   * told to runs the janitor.
   */
  worker?: { index: number; janitor: boolean };
}

/**
 * What must happen once per start, before any worker serves: the data folder's modes, the
 * admin key, migrations, giving back the upload claims of a previous run (SQLite: nothing else
 * can be holding them), and emptying the staging and scratch folders.
 */
export async function prepareDataFolder(config: Readonly<Config>, log: Logger): Promise<{ adminKey: string; adminKeyCreated: boolean }> {
  secureDataDir(config.dataDir);
  const { key, created } = loadOrCreateAdminKey(config.dataDir, config.adminKey);
  const meta = await openMetaStore(config);
  try {
    await releaseDeadClaims(meta, log);
  } finally {
    await meta.close();
  }
  const bytes = await openByteStore(config);
  await bytes.close();
  new MediaTools(config.media, config.dataDir);
  return { adminKey: key, adminKeyCreated: created };
}

async function releaseDeadClaims(meta: MetaStore, log: Logger): Promise<void> {
  if (!meta.sharedByNodes) {
    // This process alone owns the store, so an upload still claimed died with the previous run
    // (kill -9, power cut): give its slot back now, not STALE_CLAIM_MS later.
    const released = await meta.releaseClaims(Date.now());
    if (released > 0) log.warn({ released }, 'released upload slots left claimed by a previous run that did not shut down cleanly');
  }
}

export async function startFerry(config: Readonly<Config>, log: Logger = createLogger(config), opts: StartOptions = {}): Promise<RunningFerry> {
  const worker = opts.worker;
  if (!worker) secureDataDir(config.dataDir);
  // A worker finds the key its primary wrote (or the one in FERRY_ADMIN_KEY): one key for all.
  const { key: adminKey, created } = loadOrCreateAdminKey(config.dataDir, config.adminKey);
  const meta = await openMetaStore(config, (err) => log.warn({ err }, 'database connection lost; it reconnects on the next query'), {
    migrate: !worker,
    sharedSqlite: worker !== undefined,
  });
  if (!worker) await releaseDeadClaims(meta, log);
  const bytes = await openByteStore(config, { sweep: !worker });
  const apps = new AppRegistry(meta, config.tokens);
  const media = new MediaTools(config.media, config.dataDir, { sweep: !worker });
  const metrics = new FerryMetrics({ mediaQueue: media.queue, allWorkers: worker ? clusterMetricsOf : undefined });
  const services: Services = {
    config,
    urls: new PublicUrls(config.publicUrl),
    meta,
    bytes,
    apps,
    log,
    uploads: new AbortController(),
    uploadsInFlight: new InFlight(),
    uploadTurns: new Turns(),
    media,
    // Many nodes on one database: the one-derivative-per-request guarantee must hold across them.
    derivativeFlights: meta.sharedByNodes
      ? new LeaseSingleFlight(meta, { ttlMs: 2 * config.media.ffmpegTimeoutMs + 30_000 })
      : new LocalSingleFlight(),
    knownDerivatives: boundedCache<string, DerivativeRecord>(10_000),
    mediaRefusals: boundedCache<string, FerryError>(10_000),
    downloadCaches: newDownloadCaches(),
    settings: newSettingsCache(),
    membership: new Membership(meta, apps, config.membership, log, metrics),
    metrics,
    readiness: ReadinessCheck.of(meta, bytes, (dependency, state, cause) => {
      if (state === 'ok') log.info({ dependency }, `readiness: the ${dependency} answers again`);
      else log.warn({ dependency, state, cause }, `readiness: the ${dependency} is ${state === 'timeout' ? 'not answering' : 'not reachable'}: ${cause ?? ''}`);
    }),
    rateLimits: new RateLimits(config.rateLimits),
  };
  // message.recalled, user.deleted and group.dismissed with purge_files delete files.
  services.lifecycle = lifecycleHooks(services);
  const app = await buildApp(services, adminKey);
  const stopJanitor = !worker || worker.janitor ? startJanitor(services) : () => {};
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  if (!config.publicUrlFromEnv && config.port === 0) services.urls.base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      // /readyz answers 503 from now on, so load balancers stop sending while in-flight work ends.
      services.readiness.drain();
      stopJanitor();
      // In-flight requests get the grace period to finish; then uploads still streaming are
      // aborted, which discards their staged bytes and gives their slots back.
      const grace = setTimeout(() => {
        log.warn('shutdown grace period over: aborting unfinished uploads');
        services.uploads.abort();
        setTimeout(() => app.server.closeAllConnections(), 1000).unref();
      }, config.shutdownGraceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(grace);
        await services.uploadsInFlight.settled();
        await bytes.close();
        await meta.close();
      }
    })();
    return closing;
  };

  return { services, url: `http://${host}:${port}`, adminKey, adminKeyCreated: created && !worker, close };
}
