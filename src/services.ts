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
import type { PublicUrls } from './public-urls.ts';
import type { DownloadCaches } from './pipelines/download-caches.ts';

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
}
