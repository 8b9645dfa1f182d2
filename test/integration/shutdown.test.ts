// Graceful shutdown: close() lets an upload that is still streaming finish within the grace
// period (FERRY_SHUTDOWN_GRACE_MS); past it the upload is aborted and leaves nothing behind:
// no partial file in objects/ or tmp/ (or the bucket), no ready record. The Ferry is closed by
// then, so the checks read its stores directly (test/helpers/inspect.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { inspectFerry, type FileRow, type Inspector } from '../helpers/inspect.ts';
import { chatSlot, type Envelope, type Slot } from '../helpers/client.ts';
import { eventually } from '../helpers/eventually.ts';

const storesOf = (f: TestFerry): Inspector => inspectFerry(f);

async function rowOf(stores: Inspector, slot: Slot): Promise<FileRow> {
  const row = await stores.fileBySlot(slot.upload_url.split('/').pop()!);
  assert.ok(row);
  return row;
}


const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SlowUpload {
  /** the answer, or the error when the connection was cut */
  outcome: Promise<{ status: number; body: Envelope } | { error: Error }>;
  write(chunk: Buffer): Promise<void>;
  end(): void;
}

/** A raw PUT or a multipart POST whose body the test feeds piece by piece. */
function slowUpload(url: string, kind: 'put' | 'multipart', fileBytes: number): SlowUpload {
  const boundary = 'ferryShutdownBoundary42';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const multipart = kind === 'multipart';
  const req = http.request(url, {
    method: multipart ? 'POST' : 'PUT',
    headers: {
      'content-type': multipart ? `multipart/form-data; boundary=${boundary}` : 'application/octet-stream',
      'content-length': fileBytes + (multipart ? head.length + tail.length : 0),
    },
  });
  const outcome = new Promise<{ status: number; body: Envelope } | { error: Error }>((resolve) => {
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(parts).toString('utf8')) as Envelope }));
      res.on('error', (error) => resolve({ error }));
    });
    req.on('error', (error) => resolve({ error }));
  });
  if (multipart) req.write(head);
  return {
    outcome,
    write: (chunk) => new Promise<void>((resolve) => (req.write(chunk) ? resolve() : req.once('drain', () => resolve()))),
    end: () => req.end(multipart ? tail : undefined),
  };
}

/** Bytes that differ at every position, so a reordering or a lost chunk changes the hash. */
const content = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256));

for (const kind of ['put', 'multipart'] as const) {
  test(`close() with a long grace period lets a slowly streaming ${kind} upload finish and become ready`, { timeout: 120_000 }, async () => {
    const f = await startTestFerry({ FERRY_SHUTDOWN_GRACE_MS: '60000' });
    const stores = storesOf(f);
    try {
      const { appId } = await f.createApp('shut');
      const creds = { appId, token: await f.token(appId, '1') };
      const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '2', to_type: 1 });
      const bytes = content(1024 * 1024);
      const up = slowUpload(slot.upload_url, kind, bytes.length);
      await up.write(bytes.subarray(0, 256 * 1024));
      await eventually(async () => assert.equal((await rowOf(stores, slot)).status, 'uploading', 'the upload has started'));

      const closed = f.ferry.close();
      // The rest trickles in after shutdown has begun.
      for (let off = 256 * 1024; off < bytes.length; off += 128 * 1024) {
        await pause(20);
        await up.write(bytes.subarray(off, off + 128 * 1024));
      }
      up.end();
      const outcome = await up.outcome;
      assert.ok(!('error' in outcome), `the upload was cut: ${'error' in outcome ? outcome.error.message : ''}`);
      assert.equal(outcome.status, 200);
      assert.deepEqual(outcome.body, { code: 200, message: null, data: true });
      await closed;

      const row = await rowOf(stores, slot);
      assert.equal(row.status, 'ready');
      assert.equal(row.size, bytes.length);
      assert.equal(row.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.deepEqual(await stores.readObject(row.storage_key), bytes);
      assert.deepEqual(await stores.stagedUploads(), []);
    } finally {
      await stores.close();
      await f.close();
    }
  });

  test(`close() with a short grace period aborts a stalled ${kind} upload and leaves no partial file and no ready record`, { timeout: 120_000 }, async () => {
    const f = await startTestFerry({ FERRY_SHUTDOWN_GRACE_MS: '200' });
    const stores = storesOf(f);
    try {
      const { appId } = await f.createApp('shut');
      const creds = { appId, token: await f.token(appId, '1') };
      const slot = await chatSlot(f.url, creds, { file_type: 100, to_id: '2', to_type: 1 });
      const up = slowUpload(slot.upload_url, kind, 64 * 1024 * 1024);
      // Enough for the store to be mid-way: a tmp file, or an open multipart upload in a bucket.
      await up.write(content(12 * 1024 * 1024));
      await eventually(async () => assert.ok((await stores.stagedUploads()).length > 0, 'the upload is being staged'));

      // The client never sends the rest: only the grace period can end this (a Ferry that never
      // aborts would hang here until the test's timeout).
      await f.ferry.close();
      const outcome = await up.outcome;
      // Either the answer 60013 reached the client, or the connection was cut.
      if (!('error' in outcome)) {
        assert.equal(outcome.status, 200);
        assert.equal(outcome.body.code, 60013);
      }

      assert.deepEqual(await stores.stagedUploads(), [], 'no staged bytes left');
      assert.deepEqual(await stores.objectKeys(), [], 'no object stored');
      // A chat slot is a capability: its claim (the record) is dropped, so the slot can be used again.
      assert.equal(await stores.fileBySlot(slot.upload_url.split('/').pop()!), undefined, 'the slot was given back, not left claimed or ready');
    } finally {
      await stores.close();
      await f.close();
    }
  });
}
