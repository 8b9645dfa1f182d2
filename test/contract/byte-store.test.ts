// Runs the ByteStore contract against the bytes store of the current test pass: the local disk
// store in the embedded pass, the S3 store on Ceph RGW in the scale-out pass (a fresh bucket
// per case).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config.ts';
import { CachedByteStore } from '../../src/bytes/cached-store.ts';
import { LocalByteStore } from '../../src/bytes/local/local-store.ts';
import { S3ByteStore } from '../../src/bytes/s3/s3-store.ts';
import { isScaleOut, modeEnv, provision, s3ClientFor } from '../helpers/storage-mode.ts';
import { byteStoreContract } from './byte-store.contract.ts';

const env = modeEnv();

/** every file under dir, relative to it */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

if (isScaleOut(env)) {
  assert.ok(env.FERRY_STORE, 'the scale-out pass needs FERRY_TEST_ENV_FERRY_STORE and the FERRY_TEST_ENV_FERRY_S3_* settings');
  const { FERRY_DATABASE_URL: _db, ...s3env } = env;
  byteStoreContract('S3 (Ceph RGW)', async () => {
    const bucket = await provision(s3env);
    const config = loadConfig(bucket.env);
    const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bytes-contract-'));
    const partSize = 5 * 1024 * 1024; // S3's smallest part, so multipart uploads stay quick to test
    const store = new S3ByteStore({
      ...config.s3,
      bucket: config.store!.slice('s3://'.length),
      scratchDir,
      partSize,
    });
    const s3 = s3ClientFor(bucket.env);
    try {
      await store.init();
    } catch (err) {
      s3.destroy();
      await bucket.release();
      throw err;
    }
    return {
      store,
      capabilities: { readSmall: false, presigner: true, directUploads: true, abortStaleUploads: true, locatorPrefix: `${config.store!}/` },
      partBytes: partSize,
      async openUpload(k) {
        await s3.send(new CreateMultipartUploadCommand({ Bucket: config.store!.slice('s3://'.length), Key: k }));
      },
      async staged() {
        const res = await s3.send(new ListMultipartUploadsCommand({ Bucket: config.store!.slice('s3://'.length) }));
        const open = (res.Uploads ?? []).map((u) => `multipart upload of ${u.Key}`);
        return [...open, ...filesUnder(scratchDir).map((f) => `spooled part ${f}`)];
      },
      async dispose() {
        await store.close();
        s3.destroy();
        fs.rmSync(scratchDir, { recursive: true, force: true });
        await bucket.release();
      },
    };
  });
} else {
  const local = (cacheBytes: number) => async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bytes-contract-'));
    const store = CachedByteStore.wrap(new LocalByteStore(dir), cacheBytes);
    await store.init();
    return {
      store,
      capabilities: { readSmall: true, presigner: false, directUploads: false, abortStaleUploads: false, locatorPrefix: 'local:///' },
      staged: async () => filesUnder(path.join(dir, 'objects', '.tmp')),
      async dispose() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  };
  byteStoreContract('local disk', local(0));
  // The small-read cache is a store in front of a store: it must keep the same contract.
  byteStoreContract('local disk behind the small-read cache', local(1024 * 1024));
}
