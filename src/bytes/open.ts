// Picks the bytes column from the config: local disk unless FERRY_STORE names a bucket.
import type { Config } from '../config.ts';
import type { ByteStore } from './byte-store.ts';
import { LocalByteStore } from './local/local-store.ts';

export async function openByteStore(config: Config): Promise<ByteStore> {
  if (config.store) {
    throw new Error('FERRY_STORE=s3://… is not supported yet: unset it to keep files in the data folder');
  }
  const store = new LocalByteStore(config.dataDir);
  await store.init();
  return store;
}
