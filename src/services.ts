// Everything a request handler needs, built once at start and handed down explicitly. Every
// piece of state that lives longer than a request is one of these named services, never a
// module-level variable.
import type { Logger } from 'pino';
import type { LRUCache } from 'lru-cache';
import type { Config } from './config.ts';
import type { FerryError } from './errors.ts';
import type { DerivativeRecord, MetaStore } from './meta/meta-store.ts';
import type { ByteStore } from './bytes/byte-store.ts';
import type { AppRegistry } from './auth/app-registry.ts';
import type { MediaTools } from './media/tools.ts';
import type { SingleFlight } from './primitives/single-flight.ts';
import type { InFlight } from './primitives/in-flight.ts';
import type { Turns } from './primitives/turns.ts';
import type { PublicUrls } from './public-urls.ts';
import type { Membership } from './membership/membership.ts';
import type { FerryMetrics } from './metrics.ts';
import type { ReadinessCheck } from './health.ts';
import type { RateLimits } from './rate-limits.ts';
import type { DownloadCaches } from './pipelines/download-caches.ts';
import type { SettingsCache } from './pipelines/app-settings.ts';

export interface Services {
  config: Readonly<Config>;
  /** the URLs handed to clients (upload_url, download_url, blob URLs) */
  urls: PublicUrls;
  meta: MetaStore;
  bytes: ByteStore;
  apps: AppRegistry;
  log: Logger;
  /** aborts every upload still streaming; graceful shutdown pulls it after its grace period */
  uploads: AbortController;
  /** uploads still running (or still cleaning up); shutdown waits for them before closing the stores */
  uploadsInFlight: InFlight;
  /** uploads running per user of an app on this node (FERRY_UPLOADS_PER_USER) */
  uploadTurns: Turns;
  /** limits, work queue and scratch space for thumbnails, covers and voice conversion */
  media: MediaTools;
  /** one piece of work per derivative, however many requests ask for it at once */
  derivativeFlights: SingleFlight;
  /**
   * Derivative records never change once written, so the hot ones are kept here: a cached
   * thumbnail then costs what an original download costs, with no metadata query.
   */
  knownDerivatives: LRUCache<string, DerivativeRecord>;
  /**
   * Files are immutable, so a file found too large or damaged to make a derivative of stays so:
   * the verdict is kept and repeated requests for it (a retrying client, someone hammering a
   * bomb) cost nothing.
   */
  mediaRefusals: LRUCache<string, FerryError>;
  /** per-object headers and redirect locations, so a repeated download rebuilds neither */
  downloadCaches: DownloadCaches;
  /** apps' settings as the quota checks last read them (reused for up to a second) */
  settings: SettingsCache;
  /** per-IP and per-user limits on slots, uploads and downloads (counted on this node) */
  rateLimits: RateLimits;
  /** this Ferry's Prometheus registry and named metrics (GET /metrics) */
  metrics: FerryMetrics;
  /** whether the database and store answer and the node is not draining (GET /readyz) */
  readiness: ReadinessCheck;
  /** who belongs to which group: Ferry's table first, then the operator's IM server (docs/membership.md) */
  membership: Membership;
  /**
   * File deletion for message.recalled, user.deleted and group.dismissed with purge_files.
   * Unset: those events are recorded (meta.listRecordedEvents) and answered "recorded".
   */
  lifecycle?: LifecycleHooks;
}

/** What the events hook does to files (the lifecycle pipeline provides it). */
export interface LifecycleHooks {
  /** message.recalled: the download_urls (or file_signs) of the recalled message */
  recall(appId: string, urls: string[], at: number): Promise<void>;
  /** user.deleted: everything the user sent */
  eraseUser(appId: string, userId: string, at: number): Promise<void>;
  /** group.dismissed with purge_files: true: every file sent to the group */
  purgeGroupFiles(appId: string, groupId: string, at: number): Promise<void>;
}
