// Everything a request handler needs, built once at start and handed down explicitly.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { MetaStore } from './meta/meta-store.ts';
import type { ByteStore } from './bytes/byte-store.ts';
import type { AppRegistry } from './auth/app-registry.ts';
import type { MediaTools } from './media/tools.ts';
import type { SingleFlight } from './media/single-flight.ts';

export interface Services {
  config: Config;
  meta: MetaStore;
  bytes: ByteStore;
  apps: AppRegistry;
  log: Logger;
  /** aborts every upload still streaming; graceful shutdown pulls it after its grace period */
  uploads: AbortController;
  /** limits, work queue and scratch space for thumbnails, covers and voice conversion */
  media: MediaTools;
  /** one piece of work per derivative, however many requests ask for it at once */
  derivativeFlights: SingleFlight;
}
