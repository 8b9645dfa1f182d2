// Direct uploads, opt-in per app: the slot hands out a presigned PUT into the bucket (type
// signed), the bytes skip Ferry, and the object is confirmed (HEAD, size and content checked
// against file_type) before its sign becomes downloadable. The PUT lands at an upload key and
// confirming copies it to the key Ferry serves, so the URL, still valid afterwards, cannot
// change a confirmed file. Apps not opted in keep uploading through Ferry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { api, chatSlot, getJson, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import { signOf } from '../helpers/jwt.ts';
import { sweepExpiredSlots, sweepStaleUploads } from '../../src/janitor.ts';
import { confirmDirectUpload } from '../../src/pipelines/direct-upload.ts';
import type { ByteStore, DirectUploads } from '../../src/bytes/byte-store.ts';
import type { Services } from '../../src/services.ts';
import { startCluster, type Cluster } from './cluster.ts';

let c: Cluster;
let android: Creds;
let android2: Creds;
let web: Creds;

before(async () => {
  c = await startCluster(1, { FERRY_S3_DIRECT_UPLOAD_APPS: 'android-app', FERRY_MAX_IMAGE_SIZE: '64K' });
  const f = c.nodes[0]!;
  await f.createApp('android-app');
  await f.createApp('web-app');
  android = { appId: 'android-app', token: await f.token('android-app', '1001') };
  android2 = { appId: 'android-app', token: await f.token('android-app', '1002') };
  web = { appId: 'web-app', token: await f.token('web-app', '1001') };
});
after(() => c.close());

const png = (w = 40, h = 30) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 30, b: 30 } } }).png().toBuffer();
const recordOf = async (slot: Slot) => {
  // A direct slot's upload_url is the bucket's; the record is found by the sign's file id.
  const fid = JSON.parse(Buffer.from(signOf(slot.download_url).split('.')[1]!, 'base64url').toString()).fid as string;
  return (await c.inspect.files()).find((r) => r.id === fid)!;
};

const fidOf = (slot: Slot) => JSON.parse(Buffer.from(signOf(slot.download_url).split('.')[1]!, 'base64url').toString()).fid as string;
const uploadKeyOf = (key: string) => c.nodes[0]!.ferry.services.bytes.directUploads!.uploadKey(key);
const html = Buffer.from(`<html><script>alert(document.cookie)</script>${' '.repeat(2000)}</html>`);

/**
 * The node's services with its bytes store wrapped: `hooks` run right after the store's
 * uploaded() (Ferry's look at the upload) and adopt() (its copy), so a test can PUT at exactly
 * those moments.
 */
function servicesWithHooks(hooks: {
  afterUploaded?: () => Promise<void>;
  afterAdopt?: () => Promise<void>;
  /** act as a store that ignores the copy's pin (copies whatever the upload is now) */
  ignorePin?: boolean;
}): Services & { calls: string[] } {
  const s = c.nodes[0]!.ferry.services;
  const inner = s.bytes;
  const direct = inner.directUploads!;
  const calls: string[] = [];
  const directUploads: DirectUploads = {
    presignPut: (k, t) => direct.presignPut(k, t),
    uploadKey: (k) => direct.uploadKey(k),
    deleteUploadsBefore: (t) => direct.deleteUploadsBefore(t),
    async uploaded(k) {
      calls.push('uploaded');
      const u = await direct.uploaded(k);
      await hooks.afterUploaded?.();
      return u;
    },
    async adopt(k, v) {
      calls.push('adopt');
      const ok = await direct.adopt(k, hooks.ignorePin ? (await direct.uploaded(k))!.version : v);
      await hooks.afterAdopt?.();
      return ok;
    },
  };
  const bytes: ByteStore = {
    init: () => inner.init(),
    stage: (k, src, t) => inner.stage(k, src, t),
    read: (k, r) => {
      calls.push('read');
      return inner.read(k, r);
    },
    head: (k) => inner.head(k),
    delete: (k) => inner.delete(k),
    close: () => inner.close(),
    ping: () => inner.ping(),
    locator: (k) => inner.locator(k),
    presigner: inner.presigner,
    directUploads,
  };
  return { ...s, bytes, calls };
}

function putToStore(url: string, body: Buffer, contentType = 'application/octet-stream') {
  return fetch(url, { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': contentType } });
}

test('an opted-in app gets a presigned PUT; the bytes skip Ferry and become downloadable once confirmed', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal(slot.upload_method, 'PUT');
  assert.ok(slot.upload_url.startsWith(`${c.env.FERRY_S3_ENDPOINT}/`), slot.upload_url);
  assert.deepEqual(slot.oss_body_param, {});
  assert.equal((await getJson(withCreds(slot.download_url, android2))).body.code, 60002, 'nothing to download before the PUT');

  const bytes = await png();
  // The content type is signed: another one is refused by the store itself.
  assert.equal((await putToStore(slot.upload_url, bytes, 'text/html')).status, 403);
  const put = await putToStore(slot.upload_url, bytes);
  assert.equal(put.status, 200);
  assert.equal((await recordOf(slot)).status, 'pending', 'not ready before Ferry has checked it');

  const res = await fetch(withCreds(slot.download_url, android2));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png', 'type sniffed from the bytes');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  const row = await recordOf(slot);
  assert.equal(row.status, 'ready');
  assert.equal(row.size, bytes.length);
  // counted when confirmed, in the totals and in today's usage history
  const usage = await f.admin('GET', '/admin/apps/android-app/usage?days=1');
  assert.deepEqual(usage.body.by_kind, { image: { bytes: bytes.length, files: 1 } });
  assert.deepEqual(usage.body.history, [
    { day: new Date().toISOString().slice(0, 10), kind: 'image', bytes_added: bytes.length, files_added: 1, bytes_removed: 0, files_removed: 0 },
  ]);
});

test('a direct upload that breaks the rules is refused when confirmed, and its bytes are deleted', async () => {
  const f = c.nodes[0]!;
  const html = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(html.upload_url, Buffer.from('<html><script>alert(1)</script></html>'))).status, 200);
  assert.equal((await getJson(withCreds(html.download_url, android2))).body.code, 60004);
  const htmlRow = await recordOf(html);
  assert.equal(htmlRow.status, 'pending');
  assert.equal(await c.inspect.readObject(htmlRow.storage_key), null);

  const big = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const huge = await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  assert.ok(huge.length > 64 * 1024);
  assert.equal((await putToStore(big.upload_url, huge)).status, 200);
  assert.equal((await getJson(withCreds(big.download_url, android2))).body.code, 60003);
  assert.equal(await c.inspect.readObject((await recordOf(big)).storage_key), null);

  // The slot is still usable: a good file afterwards is accepted.
  const good = await png();
  assert.equal((await putToStore(big.upload_url, good)).status, 200);
  assert.deepEqual(Buffer.from(await (await fetch(withCreds(big.download_url, android2))).arrayBuffer()), good);
});

test('forwarding confirms a direct upload too, and the janitor keeps confirmed uploads whose slot expired', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const bytes = await png(20, 20);
  assert.equal((await putToStore(slot.upload_url, bytes)).status, 200);
  const fwd = await api<string>(f.url, '/file/upload/forward', { file_sign: signOf(slot.download_url), to_id: '1003', to_type: 1 }, android);
  assert.equal(fwd.body.code, 200, JSON.stringify(fwd.body));

  const late = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(late.upload_url, bytes)).status, 200);
  const empty = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  // Long after both slots expired: the uploaded one is a file, the empty one is swept.
  await sweepExpiredSlots(f.ferry.services, Date.now() + 8 * 24 * 3600 * 1000);
  assert.equal((await recordOf(late)).status, 'ready');
  assert.equal(await recordOf(empty), undefined);
  assert.deepEqual(Buffer.from(await (await fetch(withCreds(late.download_url, android2))).arrayBuffer()), bytes);
});

test('an app not opted in keeps uploading through Ferry', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, web, { file_type: 100, to_id: '1002', to_type: 1 });
  assert.equal(slot.upload_method, 'POST');
  assert.ok(slot.upload_url.startsWith(`${f.url}/`), slot.upload_url);
});

test('a PUT to the same URL after confirmation changes nothing Ferry serves', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const bytes = await png(30, 30);
  assert.equal((await putToStore(slot.upload_url, bytes)).status, 200);
  const first = await fetch(withCreds(slot.download_url, android2));
  assert.equal(first.status, 200);
  assert.deepEqual(Buffer.from(await first.arrayBuffer()), bytes);
  const row = await recordOf(slot);
  assert.equal(row.status, 'ready');
  assert.equal(await c.inspect.readObject(uploadKeyOf(row.storage_key)), null, 'the upload is deleted once it is confirmed');

  // The presigned URL is still valid (an hour): the bucket takes the PUT, at the upload key.
  assert.equal((await putToStore(slot.upload_url, html)).status, 200);
  assert.deepEqual(await c.inspect.readObject(uploadKeyOf(row.storage_key)), html);
  // (followed through the 302 to the bucket's presigned GET)
  const res = await fetch(withCreds(slot.download_url, android2));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
  assert.deepEqual(await c.inspect.readObject(row.storage_key), bytes, 'the served object is the checked one');
  const after = await recordOf(slot);
  assert.equal(after.size, bytes.length);
  assert.equal(after.sha256, row.sha256);
});

test('an upload replaced between Ferry’s look and its copy is not confirmed; the new bytes are checked on the next request', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const bytes = await png(25, 25);
  assert.equal((await putToStore(slot.upload_url, bytes)).status, 200);
  const s = servicesWithHooks({
    // The client swaps the checked-for-size PNG for HTML before Ferry copies it.
    afterUploaded: async () => assert.equal((await putToStore(slot.upload_url, html)).status, 200),
  });
  const record = (await s.meta.getFile('android-app', fidOf(slot)))!;
  const out = await confirmDirectUpload(s, record);
  assert.deepEqual(s.calls, ['uploaded', 'adopt'], 'the pinned copy fails, so nothing is read');
  assert.equal(out.status, 'pending');
  const row = await recordOf(slot);
  assert.equal(row.status, 'pending', 'the slot is given back, not left claimed');
  assert.equal(await c.inspect.readObject(row.storage_key), null, 'nothing was copied to the served key');

  // The next request confirms what is there now: the HTML, which is refused and deleted.
  assert.equal((await getJson(withCreds(slot.download_url, android2))).body.code, 60004);
  assert.equal(await c.inspect.readObject(row.storage_key), null);
  assert.equal(await c.inspect.readObject(uploadKeyOf(row.storage_key)), null);
});

test('with a store that ignores the pin, a swapped upload is still checked before anything is served', async () => {
  const f = c.nodes[0]!;
  const swap = async (slot: Slot, body: Buffer) => {
    const s = servicesWithHooks({ ignorePin: true, afterUploaded: async () => assert.equal((await putToStore(slot.upload_url, body)).status, 200) });
    return { s, out: confirmDirectUpload(s, (await s.meta.getFile('android-app', fidOf(slot)))!) };
  };
  // The HTML is what got copied, so it is what gets checked: refused, and nothing is left.
  const a = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(a.upload_url, await png(25, 25))).status, 200);
  await assert.rejects((await swap(a, html)).out, (err: { code?: number }) => err.code === 60004);
  const rowA = await recordOf(a);
  assert.equal(rowA.status, 'pending');
  assert.equal(await c.inspect.readObject(rowA.storage_key), null);

  // Another PNG of another size: the copy's length is not the one measured, so it is left pending.
  const b = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(b.upload_url, await png(25, 25))).status, 200);
  const other = await png(50, 10);
  const { s, out } = await swap(b, other);
  assert.equal((await out).status, 'pending');
  assert.deepEqual(s.calls, ['uploaded', 'adopt', 'read']);
  assert.equal(await c.inspect.readObject((await recordOf(b)).storage_key), null);
  // …and the next request confirms it, checked.
  assert.deepEqual(Buffer.from(await (await fetch(withCreds(b.download_url, android2))).arrayBuffer()), other);
});

test('the check reads the copy: a PUT right after the copy neither passes nor is served', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const bytes = await png(35, 20);
  assert.equal((await putToStore(slot.upload_url, bytes)).status, 200);
  const s = servicesWithHooks({ afterAdopt: async () => assert.equal((await putToStore(slot.upload_url, html)).status, 200) });
  const out = await confirmDirectUpload(s, (await s.meta.getFile('android-app', fidOf(slot)))!);
  assert.deepEqual(s.calls, ['uploaded', 'adopt', 'read']);
  assert.equal(out.status, 'ready');
  assert.equal(out.contentType, 'image/png');
  assert.equal(out.size, bytes.length);
  const res = await fetch(withCreds(slot.download_url, android2));
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
});

test('an over-length direct upload is refused on its size before a byte is copied or read, and deleted', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  // A PNG header, then far more than the 64 KiB limit of images.
  const big = Buffer.concat([await png(), Buffer.alloc(300 * 1024, 0x41)]);
  assert.equal((await putToStore(slot.upload_url, big)).status, 200);
  const s = servicesWithHooks({});
  await assert.rejects(confirmDirectUpload(s, (await s.meta.getFile('android-app', fidOf(slot)))!), (err: { code?: number }) => err.code === 60003);
  assert.deepEqual(s.calls, ['uploaded'], 'refused on the size the store reports');
  const row = await recordOf(slot);
  assert.equal(row.status, 'pending');
  assert.equal(await c.inspect.readObject(row.storage_key), null);
  assert.equal(await c.inspect.readObject(uploadKeyOf(row.storage_key)), null, 'the upload is deleted');
  assert.equal((await getJson(withCreds(slot.download_url, android2))).body.code, 60002, 'nothing to download');
});

test('the janitor deletes the upload of a slot it sweeps', async () => {
  const f = c.nodes[0]!;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(slot.upload_url, await png(12, 12))).status, 200);
  const key = (await recordOf(slot)).storage_key;
  assert.ok(await c.inspect.readObject(uploadKeyOf(key)));
  // The operator has taken the app off FERRY_S3_DIRECT_UPLOAD_APPS: its pending uploads are
  // never confirmed, so once their slot expires they are swept, upload and all.
  const s = f.ferry.services;
  const offList: Services = { ...s, config: { ...s.config, directUploadApps: new Set<string>() } };
  await sweepExpiredSlots(offList, Date.now() + 8 * 24 * 3600 * 1000);
  assert.equal(await recordOf(slot), undefined);
  assert.equal(await c.inspect.readObject(uploadKeyOf(key)), null);
});

test('uploads nobody will confirm (a PUT after confirmation) are deleted once older than any slot or URL lifetime', async () => {
  const f = c.nodes[0]!;
  const s = f.ferry.services;
  const slot = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  const bytes = await png(14, 14);
  assert.equal((await putToStore(slot.upload_url, bytes)).status, 200);
  assert.equal((await fetch(withCreds(slot.download_url, android2))).status, 200);
  assert.equal((await putToStore(slot.upload_url, html)).status, 200);
  const pending = await chatSlot(f.url, android, { file_type: 102, to_id: '1002', to_type: 1 });
  assert.equal((await putToStore(pending.upload_url, bytes)).status, 200);
  const key = (await recordOf(slot)).storage_key;

  // Within the lifetimes nothing goes: a pending record may still be waiting for its upload.
  await sweepStaleUploads(s);
  assert.deepEqual(await c.inspect.readObject(uploadKeyOf(key)), html);
  assert.ok(await c.inspect.readObject(uploadKeyOf((await recordOf(pending)).storage_key)));

  // Later: expired slots are confirmed first (the pending one becomes a file), then the garbage goes.
  const later = Date.now() + (Math.max(s.config.slotTtlSeconds, s.config.s3.urlTtlSeconds) + 2 * 3600) * 1000;
  assert.ok((await sweepStaleUploads(s, later)) >= 1);
  assert.equal(await c.inspect.readObject(uploadKeyOf(key)), null);
  assert.equal((await recordOf(pending)).status, 'ready');
  assert.deepEqual(Buffer.from(await (await fetch(withCreds(pending.download_url, android2))).arrayBuffer()), bytes);
  assert.deepEqual(Buffer.from(await (await fetch(withCreds(slot.download_url, android2))).arrayBuffer()), bytes);
});
