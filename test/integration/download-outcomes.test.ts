// Every outcome of the download pipeline, in whichever storage mode this pass runs: not
// modified, a redirect (to the bucket's presigned URL when the store hands them out, else to
// Ferry's own signed blob URL), the bytes whole or as a range, and 416; in both FERRY_DOWNLOAD
// modes. Then the blob URL on its own (tampered, expired, foreign-file capabilities refused;
// Range, HEAD and 304 served) and the expiring public links of the admin API.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { isScaleOut, startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { chatSlot, postMultipart, withCreds, type Creds, type Slot } from '../helpers/client.ts';
import { fileIdOf, jpegWithExif } from '../helpers/media.ts';
import { mintBlobCapability } from '../../src/auth/blob-capability.ts';

const BODY = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));

interface Setup {
  f: TestFerry;
  appId: string;
  creds: Creds;
  file: Slot;
  photo: Slot;
}

async function setup(download: 'redirect' | 'stream'): Promise<Setup> {
  const f = await startTestFerry({ FERRY_DOWNLOAD: download });
  const { appId } = await f.createApp(`outcomes-${download}`);
  const creds = { appId, token: await f.token(appId, '3001') };
  const upload = async (fileType: number, bytes: Buffer, name: string) => {
    const slot = await chatSlot(f.url, creds, { file_type: fileType, to_id: '3002', to_type: 1 });
    assert.deepEqual((await postMultipart(slot.upload_url, bytes, { filename: name })).body, { code: 200, message: null, data: true });
    return slot;
  };
  return { f, appId, creds, file: await upload(100, BODY, 'data.bin'), photo: await upload(102, await jpegWithExif(1600, 1200), 'photo.jpg') };
}

const get = (url: string, headers: Record<string, string> = {}, method = 'GET') => fetch(url, { method, headers, redirect: 'manual' });

/**
 * What every answer carrying bytes sends. A bucket answering a presigned URL sends the type and
 * disposition Ferry signed into it, but cannot send nosniff or the sandbox CSP (docs/scale-out.md).
 */
function assertSafeHeaders(res: Response, type: string, from: 'ferry' | 'bucket' = 'ferry'): void {
  assert.equal(res.headers.get('content-type'), type);
  assert.ok(res.headers.get('content-disposition'));
  if (from === 'bucket') return;
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
  assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{40}"$/);
}

describe('FERRY_DOWNLOAD=redirect (the default)', () => {
  let x: Setup;
  before(async () => {
    x = await setup('redirect');
  });
  after(() => x.f.close());
  const url = (slot: Slot, extra = '') => withCreds(slot.download_url, x.creds, extra);

  test('a GET answers 302 to a URL without the token, reused while it is fresh, that serves the bytes', async () => {
    const res = await get(url(x.file));
    assert.equal(res.status, 302);
    const location = res.headers.get('location')!;
    assert.ok(!location.includes(x.creds.token!), 'the token never travels in the redirect');
    assert.ok(!location.includes('access-token'));
    assert.match(res.headers.get('cache-control') ?? '', /^private, max-age=\d+$/);
    assert.ok(res.headers.get('etag'), 'the ETag stays, for revalidation');
    if (!isScaleOut(x.f.env)) {
      assert.ok(location.startsWith(`${x.f.url}/file/blob/`), location);
      assert.ok(location.endsWith('/data.bin'), location);
    }
    assert.equal((await get(url(x.file))).headers.get('location'), location, 'the same URL for the same file a moment later');
    const bytes = await fetch(location);
    assert.equal(bytes.status, 200);
    assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), BODY);
    assertSafeHeaders(bytes, 'application/octet-stream', isScaleOut(x.f.env) ? 'bucket' : 'ferry');
    assert.match(bytes.headers.get('content-disposition') ?? '', /^attachment; filename="data\.bin"/);
  });

  test('the redirect target serves a Range as 206, like the download itself would', async () => {
    const location = (await get(url(x.file))).headers.get('location')!;
    const res = await fetch(location, { headers: { range: 'bytes=100-199' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), `bytes 100-199/${BODY.length}`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY.subarray(100, 200));
  });

  test('a matching If-None-Match is answered 304 at once, without a redirect', async () => {
    const etag = (await get(url(x.file))).headers.get('etag')!;
    const res = await get(url(x.file), { 'if-none-match': etag });
    assert.equal(res.status, 304);
    assert.equal(res.headers.get('location'), null);
    assert.equal(res.headers.get('etag'), etag);
  });

  test('HEAD is answered by Ferry itself with the size, no redirect', async () => {
    const res = await get(url(x.file), {}, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(BODY.length));
    assertSafeHeaders(res, 'application/octet-stream');
  });

  test('mini-programs are streamed: they may only fetch from whitelisted hosts', async () => {
    const res = await get(url(x.file, '&source=miniprogram'));
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY);
  });

  test('a range past the end is 416 with the size, in the envelope, before any redirect', async () => {
    const res = await get(url(x.file), { range: `bytes=${BODY.length}-` });
    assert.equal(res.status, 416);
    assert.equal(res.headers.get('content-range'), `bytes */${BODY.length}`);
    assert.equal(((await res.json()) as { code: number }).code, 60014);
  });

  test('a thumbnail redirects too, to the derivative: a JPEG named after the photo', async () => {
    const res = await get(url(x.photo, '&image_type=2&thumbnail_strategy=2'));
    assert.equal(res.status, 302);
    const location = res.headers.get('location')!;
    if (!isScaleOut(x.f.env)) assert.ok(location.endsWith('/photo.jpg'), location);
    const thumb = await fetch(location);
    assert.equal(thumb.status, 200);
    assertSafeHeaders(thumb, 'image/jpeg', isScaleOut(x.f.env) ? 'bucket' : 'ferry');
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    assert.ok(meta.width! <= 400 && meta.height! <= 400, `${meta.width}x${meta.height}`);
  });

  test('errors are not redirected: a refused download keeps the envelope', async () => {
    const other = { appId: x.appId, token: await x.f.token(x.appId, '3999') };
    const res = await get(withCreds(x.file.download_url, other));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { code: number }).code, 10010);
  });
});

describe('FERRY_DOWNLOAD=stream', () => {
  let x: Setup;
  before(async () => {
    x = await setup('stream');
  });
  after(() => x.f.close());
  const url = (slot: Slot) => withCreds(slot.download_url, x.creds);

  test('a GET answers the bytes, with the safe headers', async () => {
    const res = await get(url(x.file));
    assert.equal(res.status, 200);
    assertSafeHeaders(res, 'application/octet-stream');
    assert.equal(res.headers.get('cache-control'), 'private, max-age=86400');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY);
  });

  test('a Range is 206, If-None-Match 304, a range past the end 416', async () => {
    const ranged = await get(url(x.file), { range: 'bytes=-10' });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), BODY.subarray(BODY.length - 10));
    const etag = ranged.headers.get('etag')!;
    assert.equal((await get(url(x.file), { 'if-none-match': etag })).status, 304);
    assert.equal((await get(url(x.file), { range: 'bytes=999999-' })).status, 416);
  });
});

describe('blob URLs (embedded: where downloads redirect to)', () => {
  let x: Setup;
  let location: string;
  let signKey: string;
  before(async () => {
    x = await setup('redirect');
    signKey = (await x.f.ferry.services.apps.get(x.appId))!.app.signKey;
    // Mint through the download itself when the store cannot presign; else mint one directly.
    const res = await get(withCreds(x.file.download_url, x.creds));
    location = res.headers.get('location')!;
    if (!location.startsWith(`${x.f.url}/file/blob/`)) {
      const cap = mintBlobCapability(signKey, { appId: x.appId, fileId: fileIdOf(x.file), variant: null, expiresAt: Math.floor(Date.now() / 1000) + 600 });
      location = `${x.f.url}/file/blob/${cap}/data.bin`;
    }
  });
  after(() => x.f.close());

  const capOf = (u: string) => new URL(u).pathname.split('/')[3]!;
  const refusedWith = async (u: string, why: RegExp) => {
    const res = await get(u);
    assert.equal(res.status, 200, u);
    const body = (await res.json()) as { code: number; message: string };
    assert.equal(body.code, 60030, JSON.stringify(body));
    assert.match(body.message, why);
  };

  test('serves HEAD, Range and 304 with the same safe headers', async () => {
    const head = await get(location, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(BODY.length));
    assertSafeHeaders(head, 'application/octet-stream');
    const ranged = await get(location, { range: 'bytes=0-0' });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), BODY.subarray(0, 1));
    const etag = head.headers.get('etag')!;
    assert.equal((await get(location, { 'if-none-match': etag })).status, 304);
    assert.match(head.headers.get('cache-control') ?? '', /^private, max-age=\d+$/);
  });

  test('the name in the path is for the eye only: another name serves the same bytes', async () => {
    const res = await get(location.replace(/\/[^/]*$/, '/anything.txt'));
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY);
  });

  test('a tampered capability is refused', async () => {
    const cap = capOf(location);
    const mac = cap.slice(cap.lastIndexOf('.') + 1);
    const flipped = mac.slice(0, 5) + (mac[5] === 'A' ? 'B' : 'A') + mac.slice(6);
    await refusedWith(location.replace(mac, flipped), /invalid/);
    await refusedWith(location.replace(cap, cap.replace(/\.(\d+)\./, (_m, e: string) => `.${Number(e) + 3600}.`)), /invalid/);
    await refusedWith(location.replace(cap, 'not-a-capability'), /not a Ferry download link/);
  });

  test("a capability moved to another file, or another app's, is refused", async () => {
    const cap = capOf(location);
    const other = fileIdOf(x.photo);
    await refusedWith(location.replace(cap, cap.replace(fileIdOf(x.file), other)), /invalid/);
    const { appId: otherApp } = await x.f.createApp('outcomes-other');
    await refusedWith(location.replace(cap, cap.replace(`${x.appId}.`, `${otherApp}.`)), /invalid/);
    await refusedWith(location.replace(cap, cap.replace(`${x.appId}.`, 'no-such-app.')), /invalid/);
  });

  test('an expired capability is refused, even with a valid MAC', async () => {
    const expired = mintBlobCapability(signKey, { appId: x.appId, fileId: fileIdOf(x.file), variant: null, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    await refusedWith(`${x.f.url}/file/blob/${expired}/data.bin`, /expired/);
  });

  test('a capability for a derivative that was never made is not found', async () => {
    const cap = mintBlobCapability(signKey, { appId: x.appId, fileId: fileIdOf(x.photo), variant: 'thumb-100x100', expiresAt: Math.floor(Date.now() / 1000) + 60 });
    const body = (await (await get(`${x.f.url}/file/blob/${cap}/p.jpg`)).json()) as { code: number };
    assert.equal(body.code, 60011);
  });
});

describe('expiring public links: POST /admin/apps/:app_id/links', () => {
  let x: Setup;
  before(async () => {
    x = await setup('stream');
  });
  after(() => x.f.close());

  test('a token-free URL ending in the extension, which serves the file until it expires', async () => {
    const r = await x.f.admin('POST', `/admin/apps/${x.appId}/links`, { url: x.photo.download_url, ttl_s: 2 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const link = r.body.url as string;
    assert.ok(link.startsWith(`${x.f.url}/file/blob/`), link);
    assert.ok(link.endsWith('/photo.jpg'), link);
    assert.ok(Math.abs((r.body.expires_at as number) - (Date.now() + 2000)) < 1500);
    const res = await fetch(link);
    assert.equal(res.status, 200);
    assertSafeHeaders(res, 'image/jpeg');
    await res.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const late = (await (await fetch(link)).json()) as { code: number; message: string };
    assert.equal(late.code, 60030);
    assert.match(late.message, /expired/);
  });

  test('image_type=2 links a thumbnail: a JPEG well under the 1 MB push vendors allow', async () => {
    const r = await x.f.admin('POST', `/admin/apps/${x.appId}/links`, { url: x.photo.download_url, ttl_s: 600, image_type: 2 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const link = r.body.url as string;
    assert.match(link, /\.jpg$/);
    const res = await fetch(link);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.ok(body.length < 1024 * 1024, `${body.length} bytes`);
    const meta = await sharp(body).metadata();
    assert.ok(meta.width! <= 400, String(meta.width));
  });

  test('a bare file_sign is accepted as well as the download_url', async () => {
    const sign = new URL(x.file.download_url).searchParams.get('file_sign')!;
    const r = await x.f.admin('POST', `/admin/apps/${x.appId}/links`, { url: sign, ttl_s: 60 });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(Buffer.from(await (await fetch(r.body.url as string)).arrayBuffer()), BODY);
  });

  test('bad input gets a clear 4xx and makes nothing', async () => {
    const path = `/admin/apps/${x.appId}/links`;
    const cases: Array<[unknown, number, RegExp]> = [
      [{ ttl_s: 60 }, 400, /url/],
      [{ url: x.file.download_url }, 400, /ttl_s/],
      [{ url: x.file.download_url, ttl_s: 0 }, 400, /ttl_s/],
      [{ url: x.file.download_url, ttl_s: 'soon' }, 400, /ttl_s/],
      [{ url: x.file.download_url, ttl_s: 8 * 86400 }, 400, /ttl_s/],
      [{ url: x.file.download_url, ttl_s: 60, image_type: 5 }, 400, /image_type/],
      [{ url: x.file.download_url, ttl_s: 60, image_type: 2 }, 400, /thumbnail/],
      [{ url: 'https://example.test/somewhere?x=1', ttl_s: 60 }, 400, /download_url of Ferry/],
      [{ url: 'http://[bad', ttl_s: 60 }, 400, /not a valid URL/],
      [{ url: `${x.f.url}/file/download/chat?file_sign=a.b.c`, ttl_s: 60 }, 400, /file_sign/],
      [{ url: `${x.f.url}/file/download/avatar?object_name=nope`, ttl_s: 60 }, 404, /not found/],
    ];
    for (const [body, status, message] of cases) {
      const r = await x.f.admin('POST', path, body);
      assert.equal(r.status, status, JSON.stringify({ body, got: r.body }));
      assert.match(String(r.body.error), message, JSON.stringify(r.body));
    }
    const other = await x.f.createApp('links-other');
    const foreign = await x.f.admin('POST', `/admin/apps/${other.appId}/links`, { url: x.file.download_url, ttl_s: 60 });
    assert.equal(foreign.status, 400, 'a sign of another app');
    assert.equal((await x.f.admin('POST', '/admin/apps/no-such-app/links', { url: x.file.download_url, ttl_s: 60 })).status, 404);
    const pending = await chatSlot(x.f.url, x.creds, { file_type: 100, to_id: '3002', to_type: 1 });
    const notYet = await x.f.admin('POST', path, { url: pending.download_url, ttl_s: 60 });
    assert.equal(notYet.status, 404);
    assert.match(String(notYet.body.error), /not been uploaded/);
    const noKey = await fetch(`${x.f.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: x.file.download_url, ttl_s: 60 }) });
    assert.equal(noKey.status, 401);
  });
});
