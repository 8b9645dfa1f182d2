// Picks the bytes column from the config: local disk unless FERRY_STORE names a bucket.
import path from 'node:path';
import type { Config } from '../config.ts';
import type { ByteStore } from './byte-store.ts';
import { LocalByteStore } from './local/local-store.ts';
import { CachedByteStore } from './cached-store.ts';

/**
 * sweep: false in a worker, whose primary swept the staging folders before starting it (a
 * worker must not delete what another worker is writing).
 */
export async function openByteStore(config: Readonly<Config>, opts: { sweep?: boolean } = {}): Promise<ByteStore> {
  // The AWS SDK is loaded only when a bucket is configured: it costs ~40 MB a node would carry
  // for nothing in the embedded mode.
  const store = config.store
    ? new (await import('./s3/s3-store.ts')).S3ByteStore({
        ...config.s3,
        bucket: config.store.slice('s3://'.length),
        scratchDir: path.join(config.dataDir, 's3-parts'),
      })
    : new LocalByteStore(config.dataDir, { sweep: opts.sweep ?? true });
  await store.init();
  return CachedByteStore.wrap(store, config.smallReadCacheBytes);
}
