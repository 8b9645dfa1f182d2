// Everything a request handler needs, built once at start and handed down explicitly.
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { MetaStore } from './meta/meta-store.ts';
import type { ByteStore } from './bytes/byte-store.ts';
import type { AppRegistry } from './auth/app-registry.ts';

export interface Services {
  config: Config;
  meta: MetaStore;
  bytes: ByteStore;
  apps: AppRegistry;
  log: Logger;
  /** aborts every upload still streaming; graceful shutdown pulls it after its grace period */
  uploads: AbortController;
}
