// The ByteStore contract: what every bytes store must do, whatever sits below it. One suite,
// run against every implementation (byte-store.test.ts picks the ones the current test pass
// provides), the way tus-node-server runs one suite over all its stores. Every case gets a
// fresh store from the factory.
//
// Not part of the contract: whether a staged object is readable before commit() (local disk
// keeps it in tmp, S3 writes it under its key at once; the metadata record is what hides it).
//
// Adding a case: one `it(name, async (h) => …)` in the section it belongs to.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ObjectNotFoundError, type ByteRange, type ByteStore } from '../../src/bytes/byte-store.ts';

/** The optional parts of ByteStore; the harness says which ones its store must declare. */
export interface ByteStoreCapabilities {
  readSmall: boolean;
  presigner: boolean;
  directUploads: boolean;
  /** abortStaleUploads: the store writes in parts and can abort the uploads it never finished */
  abortStaleUploads: boolean;
  /** what locator() gives for a key: s3://bucket/KEY or local:///KEY */
  locatorPrefix: string;
}

export interface ByteStoreHarness {
  store: ByteStore;
  capabilities: ByteStoreCapabilities;
  /**
   * The size at which the store splits what it writes (S3: the multipart part size), so the
   * suite can write objects just below, at and above it. Omitted: the store does not split.
   */
  partBytes?: number;
  /** Bytes on their way in that are no object yet (tmp files, open multipart uploads, spooled parts). */
  staged(): Promise<string[]>;
  /** Start a multipart upload at key and leave it unfinished (a node that died mid-upload); stores that declare abortStaleUploads. */
  openUpload?(key: string): Promise<void>;
  /** close the store and drop what the factory created */
  dispose(): Promise<void>;
}

/** A fresh, initialised store holding no objects. */
export type ByteStoreFactory = () => Promise<ByteStoreHarness>;

const KiB = 1024;
const MiB = 1024 * KiB;

const key = (name = '') => `files/${randomBytes(1).toString('hex').slice(0, 1)}/${name}${randomBytes(10).toString('base64url')}`;

/** bytes in chunks of `chunk`, then the error when `failAfter` bytes are out */
function source(bytes: Buffer, opts: { chunk?: number; failAfter?: number; error?: Error } = {}): Readable {
  const chunk = opts.chunk ?? 256 * KiB;
  return Readable.from(
    (async function* () {
      for (let off = 0; off < bytes.length; off += chunk) {
        if (opts.failAfter !== undefined && off >= opts.failAfter) throw opts.error ?? new Error('source failed');
        yield bytes.subarray(off, off + chunk);
      }
      if (opts.failAfter !== undefined) throw opts.error ?? new Error('source failed');
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function put(store: ByteStore, k: string, bytes: Buffer, contentType = 'application/octet-stream'): Promise<void> {
  const staged = await store.stage(k, source(bytes), contentType);
  await staged.commit();
}

async function assertAbsent(h: ByteStoreHarness, k: string): Promise<void> {
  await assert.rejects(h.store.read(k), ObjectNotFoundError, `${k} holds nothing`);
  assert.equal(await h.store.head(k), null);
}

export function byteStoreContract(name: string, fresh: ByteStoreFactory): void {
  /** a test with its own fresh store */
  const it = (title: string, fn: (h: ByteStoreHarness) => Promise<void>) =>
    test(title, { timeout: 120_000 }, async () => {
      const h = await fresh();
      try {
        await fn(h);
      } finally {
        await h.dispose();
      }
    });

  describe(`ByteStore contract: ${name}`, () => {
    describe('capabilities', () => {
      it('the store declares exactly the optional parts its implementation has', async (h) => {
        assert.equal(typeof h.store.readSmall === 'function', h.capabilities.readSmall, 'readSmall');
        assert.equal(typeof h.store.presigner?.presignGet === 'function', h.capabilities.presigner, 'presigner');
        const direct = h.store.directUploads;
        const hasDirect = ['presignPut', 'uploadKey', 'uploaded', 'adopt', 'deleteUploadsBefore'].every((m) => typeof (direct as Record<string, unknown> | undefined)?.[m] === 'function');
        assert.equal(hasDirect, h.capabilities.directUploads, 'directUploads');
        assert.equal(typeof h.store.abortStaleUploads === 'function', h.capabilities.abortStaleUploads, 'abortStaleUploads');
      });

      it('locates an object for outside readers (the image service) by its key', async (h) => {
        assert.equal(h.store.locator('files/a/abc'), `${h.capabilities.locatorPrefix}files/a/abc`);
      });
    });

    describe('health', () => {
      it('ping() answers on a working store and leaves nothing behind', async (h) => {
        for (let i = 0; i < 3; i++) await h.store.ping();
        assert.deepEqual(await h.staged(), []);
        const k = key();
        await put(h.store, k, Buffer.from('after a ping'));
        await h.store.ping();
        assert.equal((await h.store.head(k))?.size, 'after a ping'.length);
      });
    });

    describe('stage and commit', () => {
      it('a committed object reads back byte for byte, with its type where the store keeps one', async (h) => {
        const k = key();
        const bytes = randomBytes(300 * KiB + 17);
        await put(h.store, k, bytes, 'image/png');
        assert.equal(sha(await readAll(await h.store.read(k))), sha(bytes));
        const info = await h.store.head(k);
        assert.equal(info?.size, bytes.length);
        // The bucket keeps the type; the disk keeps only bytes (the record has the type).
        if (h.capabilities.presigner) assert.equal(info?.contentType, 'image/png');
        assert.deepEqual(await h.staged(), [], 'nothing left on its way in');
      });

      it('objects of every size around the store’s write unit land intact', async (h) => {
        const unit = h.partBytes ?? MiB;
        for (const size of [1, unit - 1, unit, unit + 1, 2 * unit + 3]) {
          const k = key(`s${size}-`);
          const bytes = randomBytes(size);
          // odd-sized chunks, so no chunk boundary lines up with the store's own
          const staged = await h.store.stage(k, source(bytes, { chunk: 100_003 }), 'application/octet-stream');
          await staged.commit();
          const back = await readAll(await h.store.read(k));
          assert.equal(back.length, size);
          assert.equal(sha(back), sha(bytes), `${size} bytes`);
          assert.equal((await h.store.head(k))?.size, size);
        }
        assert.deepEqual(await h.staged(), []);
      });

      it('keys are paths: nested keys and keys that share a prefix are separate objects', async (h) => {
        const base = key();
        await put(h.store, base, Buffer.from('short'));
        await put(h.store, `${base}_x-1`, Buffer.from('longer name'));
        await put(h.store, `${base.replace('files/', 'derived/')}/thumb-400x400`, Buffer.from('a derivative'));
        assert.equal((await readAll(await h.store.read(base))).toString(), 'short');
        assert.equal((await readAll(await h.store.read(`${base}_x-1`))).toString(), 'longer name');
        assert.equal((await readAll(await h.store.read(`${base.replace('files/', 'derived/')}/thumb-400x400`))).toString(), 'a derivative');
        await h.store.delete(base);
        assert.equal((await readAll(await h.store.read(`${base}_x-1`))).toString(), 'longer name', 'deleting one leaves its neighbour');
      });

      it('concurrent stages of different keys all land intact', async (h) => {
        const objects = Array.from({ length: 6 }, (_, i) => ({ k: key(`c${i}-`), bytes: randomBytes(40 * KiB * (i + 1)) }));
        await Promise.all(objects.map((o) => put(h.store, o.k, o.bytes)));
        for (const o of objects) assert.equal(sha(await readAll(await h.store.read(o.k))), sha(o.bytes));
        assert.deepEqual(await h.staged(), []);
      });

      it('discard() leaves nothing: no object, nothing staged', async (h) => {
        const k = key();
        const staged = await h.store.stage(k, source(randomBytes(200 * KiB)), 'text/plain');
        await staged.discard();
        await assertAbsent(h, k);
        assert.deepEqual(await h.staged(), []);
      });

      it('a source that errors mid-stream: stage rejects with that very error and leaves nothing', async (h) => {
        const unit = h.partBytes ?? MiB;
        // early (nothing written yet), within the first write unit, and after whole units went out
        for (const failAfter of [0, 100 * KiB, unit + 200 * KiB]) {
          const k = key();
          const cause = new Error(`client went away after ${failAfter} bytes`);
          await assert.rejects(
            h.store.stage(k, source(randomBytes(2 * unit), { chunk: 100 * KiB, failAfter, error: cause }), 'application/octet-stream'),
            (err) => err === cause,
          );
          await assertAbsent(h, k);
          assert.deepEqual(await h.staged(), [], `nothing staged after a failure at ${failAfter}`);
        }
      });

      it('a failed stage does not touch an object that already exists under another key', async (h) => {
        const kept = key();
        const bytes = randomBytes(10 * KiB);
        await put(h.store, kept, bytes);
        await assert.rejects(h.store.stage(key(), source(randomBytes(300 * KiB), { failAfter: 100 * KiB }), 'text/plain'));
        assert.equal(sha(await readAll(await h.store.read(kept))), sha(bytes));
      });
    });

    describe('read', () => {
      const N = 100 * KiB + 3;
      const ranges = (n: number): Array<[string, ByteRange]> => [
        ['the first byte', { start: 0, end: 0 }],
        ['the last byte', { start: n - 1, end: n - 1 }],
        ['the middle', { start: 1000, end: n - 1001 }],
        ['everything as a range', { start: 0, end: n - 1 }],
        ['the tail', { start: n - 10, end: n - 1 }],
      ];

      it('read() without a range is the whole object; with one, exactly those bytes', async (h) => {
        const k = key();
        const bytes = randomBytes(N);
        await put(h.store, k, bytes);
        assert.deepEqual(await readAll(await h.store.read(k)), bytes);
        for (const [what, r] of ranges(N)) {
          assert.deepEqual(await readAll(await h.store.read(k, r)), bytes.subarray(r.start, r.end + 1), what);
        }
      });

      it('a big object reads back whole and in ranges across read-chunk boundaries (512 KiB), byte for byte', async (h) => {
        const k = key();
        const bytes = randomBytes(3 * MiB + 17);
        await put(h.store, k, bytes);
        assert.equal(sha(await readAll(await h.store.read(k))), sha(bytes));
        for (const r of [
          { start: 0, end: 1 * MiB },
          { start: 512 * KiB - 1, end: 2 * MiB + 1 },
          { start: 100, end: 1 * MiB + 99 },
          { start: 3 * MiB - 5, end: 3 * MiB + 16 },
        ]) {
          assert.equal(sha(await readAll(await h.store.read(k, r))), sha(bytes.subarray(r.start, r.end + 1)), `${r.start}-${r.end}`);
        }
      });

      it('readSmall gives the same bytes as read for the same range', async (h) => {
        assert.equal(typeof h.store.readSmall === 'function', h.capabilities.readSmall);
        if (!h.store.readSmall) return;
        const k = key();
        const bytes = randomBytes(N);
        await put(h.store, k, bytes);
        for (const [what, r] of ranges(N)) {
          const got = await h.store.readSmall(k, r);
          assert.ok(Buffer.isBuffer(got));
          assert.deepEqual(got, bytes.subarray(r.start, r.end + 1), what);
        }
      });

      it('reading a key that holds nothing is ObjectNotFoundError, for read and readSmall', async (h) => {
        const k = key();
        await assert.rejects(h.store.read(k), ObjectNotFoundError);
        await assert.rejects(h.store.read(k, { start: 0, end: 9 }), ObjectNotFoundError);
        if (h.store.readSmall) await assert.rejects(h.store.readSmall(k, { start: 0, end: 9 }), ObjectNotFoundError);
      });
    });

    describe('delete', () => {
      it('delete removes the object; deleting again, or a key that never held anything, is fine', async (h) => {
        const k = key();
        await put(h.store, k, Buffer.from('to be deleted'));
        await h.store.delete(k);
        await assertAbsent(h, k);
        await h.store.delete(k);
        await h.store.delete(key());
      });

      it('a deleted object is gone for readSmall too, even after it was read', async (h) => {
        const k = key();
        await put(h.store, k, Buffer.from('read, then deleted'));
        if (h.store.readSmall) assert.equal((await h.store.readSmall(k, { start: 0, end: 3 })).toString(), 'read');
        await h.store.delete(k);
        if (h.store.readSmall) await assert.rejects(h.store.readSmall(k, { start: 0, end: 3 }), ObjectNotFoundError);
        await assert.rejects(h.store.read(k), ObjectNotFoundError);
      });
    });

    describe('direct access (stores that have it)', () => {
      it('head gives size and type of an object, null for a missing one', async (h) => {
        const k = key();
        await put(h.store, k, Buffer.from('{"a":1}'), 'application/json');
        const info = await h.store.head(k);
        assert.equal(info?.size, 7);
        assert.ok(info.contentType === 'application/json' || info.contentType === null, String(info.contentType));
        assert.equal(await h.store.head(key()), null);
      });

      it('presignGet hands out a URL that serves the bytes with the answer headers Ferry asked for', async (h) => {
        const presigner = h.store.presigner;
        assert.equal(presigner !== undefined, h.capabilities.presigner);
        if (!presigner) return;
        const k = key();
        const bytes = randomBytes(5000);
        await put(h.store, k, bytes, 'application/octet-stream');
        const opts = { contentType: 'image/jpeg', contentDisposition: "inline; filename*=UTF-8''%E5%9B%BE.jpg", cacheControl: 'private, max-age=600' };
        const signed = await presigner.presignGet(k, opts);
        assert.ok(signed, 'a store with presignGet configured to redirect hands out URLs');
        const now = Date.now();
        assert.ok(signed.reusableUntil > now && signed.expiresAt >= signed.reusableUntil, JSON.stringify(signed));
        const res = await fetch(signed.url);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), opts.contentType);
        assert.equal(res.headers.get('content-disposition'), opts.contentDisposition);
        assert.equal(res.headers.get('cache-control'), opts.cacheControl);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
        const ranged = await fetch(signed.url, { headers: { range: 'bytes=10-19' } });
        assert.equal(ranged.status, 206);
        assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(10, 20));
      });

      const putTo = (url: string, body: Buffer) =>
        fetch(url, { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': 'application/octet-stream' } });

      it('presignPut hands out a URL whose PUT lands at the upload key, never at the key itself', async (h) => {
        const direct = h.store.directUploads;
        assert.equal(direct !== undefined, h.capabilities.directUploads);
        if (!direct) return;
        const k = key();
        assert.notEqual(direct.uploadKey(k), k);
        assert.equal(direct.uploadKey(k), direct.uploadKey(k), 'the upload key is a function of the key');
        assert.notEqual(direct.uploadKey(k), direct.uploadKey(key()));
        assert.equal(await direct.uploaded(k), null, 'nothing uploaded yet');
        const bytes = randomBytes(3000);
        const signed = await direct.presignPut(k, 'application/octet-stream');
        assert.equal((await putTo(signed.url, bytes)).status, 200);
        await assertAbsent(h, k);
        assert.deepEqual(await readAll(await h.store.read(direct.uploadKey(k))), bytes);
        const up = await direct.uploaded(k);
        assert.equal(up?.size, bytes.length);
        assert.ok(up.version.length > 0);
      });

      it('adopt copies the upload it was shown to the key; a later PUT changes only the upload', async (h) => {
        const direct = h.store.directUploads;
        if (!direct) return;
        const k = key();
        const signed = await direct.presignPut(k, 'application/octet-stream');
        const first = randomBytes(5000);
        assert.equal((await putTo(signed.url, first)).status, 200);
        const up = (await direct.uploaded(k))!;
        assert.equal(await direct.adopt(k, up.version), true);
        assert.deepEqual(await readAll(await h.store.read(k)), first);
        assert.equal((await h.store.head(k))?.size, first.length);
        assert.ok(await direct.uploaded(k), 'adopt leaves the upload; the caller deletes it');
        await h.store.delete(direct.uploadKey(k));
        assert.equal(await direct.uploaded(k), null);

        // The URL still works, and still writes only the upload.
        const second = randomBytes(5000);
        assert.equal((await putTo(signed.url, second)).status, 200);
        assert.deepEqual(await readAll(await h.store.read(k)), first);
        assert.notEqual((await direct.uploaded(k))!.version, up.version, 'new bytes, new version');
      });

      it('adopt copies nothing and answers false when the upload changed or went away since it was seen', async (h) => {
        const direct = h.store.directUploads;
        if (!direct) return;
        const k = key();
        const signed = await direct.presignPut(k, 'application/octet-stream');
        assert.equal((await putTo(signed.url, randomBytes(4000))).status, 200);
        const seen = (await direct.uploaded(k))!;
        const replacement = randomBytes(4000);
        assert.equal((await putTo(signed.url, replacement)).status, 200);
        assert.equal(await direct.adopt(k, seen.version), false, 'replaced (same size, other bytes)');
        await assertAbsent(h, k);
        const now = (await direct.uploaded(k))!;
        await h.store.delete(direct.uploadKey(k));
        assert.equal(await direct.adopt(k, now.version), false, 'gone');
        await assertAbsent(h, k);
      });

      it('deleteUploadsBefore deletes the uploads last written before the time, and nothing else', async (h) => {
        const direct = h.store.directUploads;
        if (!direct) return;
        const [a, b, served] = [key(), key(), key()];
        for (const k of [a, b]) assert.equal((await putTo((await direct.presignPut(k, 'application/octet-stream')).url, randomBytes(100))).status, 200);
        await put(h.store, served, Buffer.from('a served object'));
        assert.equal(await direct.deleteUploadsBefore(Date.now() - 3600_000), 0, 'nothing that old');
        assert.ok(await direct.uploaded(a));
        assert.equal(await direct.deleteUploadsBefore(Date.now() + 60_000), 2);
        assert.equal(await direct.uploaded(a), null);
        assert.equal(await direct.uploaded(b), null);
        assert.equal((await readAll(await h.store.read(served))).toString(), 'a served object');
      });

      it('abortStaleUploads aborts the unfinished uploads started before the time, and nothing else', async (h) => {
        if (!h.store.abortStaleUploads || !h.openUpload) return;
        const [stale, served] = [key(), key()];
        await h.openUpload(stale);
        await put(h.store, served, Buffer.from('a finished object'));
        assert.equal(await h.store.abortStaleUploads(Date.now() - 3600_000), 0, 'nothing that old');
        assert.equal((await h.staged()).length, 1, 'the unfinished upload is still open');
        assert.equal(await h.store.abortStaleUploads(Date.now() + 60_000), 1);
        assert.deepEqual(await h.staged(), []);
        assert.equal(await h.store.abortStaleUploads(Date.now() + 60_000), 0, 'aborting again finds nothing');
        assert.equal((await readAll(await h.store.read(served))).toString(), 'a finished object');
      });
    });
  });
}
