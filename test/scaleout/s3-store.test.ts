// The S3 byte store against the real RGW: streaming in (multipart beyond one part), ranged
// reads, deletes, what an aborted stream leaves (nothing: no object, no open multipart upload),
// presigned GET/PUT, and how a store that is unreachable or misconfigured is reported.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { S3ByteStore, type S3StoreOptions } from '../../src/bytes/s3/s3-store.ts';
import { ObjectNotFoundError, StorageError } from '../../src/bytes/byte-store.ts';
import { createBucket, s3ClientFor } from '../helpers/storage-mode.ts';
import { freePort, scaleOutEnv } from './cluster.ts';

let env: Record<string, string>;
let bucket: { bucket: string; drop(): Promise<void> };
let store: S3ByteStore;

const optionsFor = (e: Record<string, string>, extra: Partial<S3StoreOptions> = {}): S3StoreOptions => ({
  bucket: bucket.bucket,
  endpoint: e.FERRY_S3_ENDPOINT,
  publicEndpoint: undefined,
  region: e.FERRY_S3_REGION || 'us-east-1',
  accessKey: e.FERRY_S3_ACCESS_KEY,
  secretKey: e.FERRY_S3_SECRET_KEY,
  forcePathStyle: true,
  urlTtlSeconds: 600,
  scratchDir: path.join(os.tmpdir(), `ferry-s3-parts-${process.pid}`),
  ...extra,
});

before(async () => {
  env = scaleOutEnv();
  bucket = await createBucket(env);
  store = new S3ByteStore(optionsFor(env));
  await store.init();
});
after(async () => {
  await store.close();
  await bucket.drop();
  fs.rmSync(optionsFor(env).scratchDir, { recursive: true, force: true });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A source that sends `bytes` in 1 MiB pieces, then fails when `failAfter` bytes are out. */
function source(bytes: Buffer, failAfter?: number): Readable {
  return Readable.from(
    (async function* () {
      for (let off = 0; off < bytes.length; off += 1024 * 1024) {
        if (failAfter !== undefined && off >= failAfter) throw new Error('client went away');
        yield bytes.subarray(off, off + 1024 * 1024);
      }
    })(),
  );
}

const openUploads = async () => {
  const s3 = s3ClientFor(env);
  try {
    return (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket.bucket }))).Uploads ?? [];
  } finally {
    s3.destroy();
  }
};

test('a 12 MiB stream lands as one object (multipart), reads back whole and by range, and deletes', async () => {
  const bytes = randomBytes(12 * 1024 * 1024);
  const staged = await store.stage('files/t/big', source(bytes), 'video/mp4');
  await staged.commit();
  assert.deepEqual(await store.head('files/t/big'), { size: bytes.length, contentType: 'video/mp4' });
  const whole = await readAll(await store.read('files/t/big'));
  assert.equal(createHash('sha256').update(whole).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
  assert.deepEqual(await readAll(await store.read('files/t/big', { start: 5 * 1024 * 1024 - 3, end: 5 * 1024 * 1024 + 3 })), bytes.subarray(5 * 1024 * 1024 - 3, 5 * 1024 * 1024 + 4));
  await store.delete('files/t/big');
  await assert.rejects(store.read('files/t/big'), ObjectNotFoundError);
  assert.equal(await store.head('files/t/big'), null);
  await store.delete('files/t/big');
});

test('a source that fails mid-stream rejects with its own error and leaves no object and no open multipart upload', async () => {
  const bytes = randomBytes(16 * 1024 * 1024);
  await assert.rejects(store.stage('files/t/cut', source(bytes, 11 * 1024 * 1024), 'application/octet-stream'), /client went away/);
  assert.equal(await store.head('files/t/cut'), null);
  assert.deepEqual(await openUploads(), []);
  const scratch = optionsFor(env).scratchDir;
  for (const dir of fs.readdirSync(scratch)) assert.deepEqual(fs.readdirSync(path.join(scratch, dir)), [], 'no spooled parts left behind');
  const small = randomBytes(100);
  await assert.rejects(store.stage('files/t/cut-small', source(small, 0), 'application/octet-stream'), /client went away/);
  assert.equal(await store.head('files/t/cut-small'), null);
});

test('discard() removes a staged object', async () => {
  const staged = await store.stage('files/t/gone', source(Buffer.from('bye')), 'text/plain');
  await staged.discard();
  assert.equal(await store.head('files/t/gone'), null);
});

test('presigned GETs carry the answer headers, are the same within their window, and work', async () => {
  const bytes = Buffer.from('presigned body');
  await (await store.stage('files/t/p', source(bytes), 'text/plain')).commit();
  const opts = { contentType: 'text/plain', contentDisposition: 'attachment; filename="p.txt"', cacheControl: 'private, max-age=60' };
  const one = await store.presignGet('files/t/p', opts);
  const two = await store.presignGet('files/t/p', opts);
  assert.ok(one && two);
  assert.equal(one.url, two.url, 'the same URL within the window');
  assert.ok(one.reusableUntil > Date.now() && one.expiresAt >= one.reusableUntil + 300_000, 'at least half the TTL left');
  const res = await fetch(one.url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename="p.txt"');
  assert.equal(res.headers.get('cache-control'), 'private, max-age=60');
  assert.equal(await res.text(), 'presigned body');
  // Tampering with the signed headers breaks the signature.
  assert.equal((await fetch(one.url.replace('attachment', 'inline'))).status, 403);
});

test('presigned URLs are signed for the public endpoint when one is set', async () => {
  const pub = new S3ByteStore(optionsFor(env, { publicEndpoint: 'https://files.example.test' }));
  const signed = await pub.presignGet('files/t/p', { contentType: 'text/plain', contentDisposition: 'inline', cacheControl: 'private' });
  assert.ok(signed.url.startsWith(`https://files.example.test/${bucket.bucket}/files/t/p?`), signed.url);
  await pub.close();
});

test('the store declares presigned GETs and direct uploads, and locates objects as s3://bucket/key', () => {
  assert.ok(store.presigner);
  assert.ok(store.directUploads);
  assert.equal(store.locator('files/a/abc'), `s3://${bucket.bucket}/files/a/abc`);
});

test('a presigned PUT accepts only its signed content type', async () => {
  const put = await store.presignPut('files/t/direct', 'application/octet-stream');
  assert.equal((await fetch(put.url, { method: 'PUT', body: 'x', headers: { 'content-type': 'text/html' } })).status, 403);
  assert.equal((await fetch(put.url, { method: 'PUT', body: 'direct', headers: { 'content-type': 'application/octet-stream' } })).status, 200);
  assert.deepEqual(await store.head(store.uploadKey('files/t/direct')), { size: 6, contentType: 'application/octet-stream' });
});

test('an unreachable store is a StorageError, quickly; a missing bucket fails init() with a clear message', async () => {
  const dead = new S3ByteStore(optionsFor(env, { endpoint: `http://127.0.0.1:${await freePort()}` }));
  await assert.rejects(dead.read('files/t/p'), StorageError);
  await assert.rejects(dead.stage('files/t/x', source(Buffer.from('x')), 'text/plain'), StorageError);
  await dead.close();
  const missing = new S3ByteStore({ ...optionsFor(env), bucket: 'ferry-no-such-bucket' });
  await assert.rejects(missing.init(), /bucket "ferry-no-such-bucket" does not exist/);
  await missing.close();
});
