// thumbnail_strategy: 1 (default) hands image thumbnails to a configured imgproxy-style service
// by a signed redirect; 2, mini-programs, and Ferry without such a service make them in-house.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import type { Creds } from '../helpers/client.ts';
import { download, jpegWithExif, uploadChat, video } from '../helpers/media.ts';

const KEY = '943b421c9eb07c830af81030552c86009268de4e532ba2ee2eab8247c6da0881';
const SALT = '520f986b998545b4785e0defbc4f3c1203f22de2374a3d53cb7a7fe9fea309c5';

let f: TestFerry;
let creds: Creds;
before(async () => {
  f = await startTestFerry({ FERRY_IMGPROXY_URL: 'https://img.example.test/', FERRY_IMGPROXY_KEY: KEY, FERRY_IMGPROXY_SALT: SALT });
  const { appId } = await f.createApp('media-strategy');
  creds = { appId, token: await f.token(appId, '1001') };
});
after(() => f.close());

test('with imgproxy configured, the default strategy redirects to a correctly signed URL on the stored original', async () => {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(1200, 900), '2002', 'p.jpg');
  for (const [query, box] of [['&image_type=2', '400:400'], ['&image_type=2&thumbnail_strategy=1&w=150', '200:200'], ['&image_type=3', '800:800']] as const) {
    const res = await download(slot, creds, query);
    assert.equal(res.status, 302, query);
    const location = res.headers.get('location')!;
    const m = /^https:\/\/img\.example\.test\/([A-Za-z0-9_-]+)(\/exp:(\d+)\/rs:fit:(\d+:\d+):0\/([A-Za-z0-9_-]+))$/.exec(location);
    assert.ok(m, location);
    assert.equal(m[4], box);
    // The URL expires one to two hours from now, on a whole hour, and the redirect is cached no
    // longer than the same URL keeps being handed out.
    const exp = Number(m[3]);
    const now = Date.now() / 1000;
    assert.equal(exp % 3600, 0);
    assert.ok(exp > now + 3600 && exp <= now + 7200 + 5, `exp ${exp}, now ${now}`);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    assert.ok(maxAge <= exp - 3600 - now + 1 && maxAge >= 0, `max-age ${maxAge}`);
    const again = await download(slot, creds, query);
    assert.equal(again.headers.get('location'), location, 'the same URL within the window');
    const expected = createHmac('sha256', Buffer.from(KEY, 'hex')).update(Buffer.concat([Buffer.from(SALT, 'hex'), Buffer.from(m[2]!)])).digest('base64url');
    assert.equal(m[1], expected);
    // local:///KEY embedded, s3://BUCKET/KEY when the originals live in a bucket
    assert.match(Buffer.from(m[5]!, 'base64url').toString(), /^(local:\/\/\/|s3:\/\/[a-z0-9.-]+\/)files\/[A-Za-z0-9_-]\/[A-Za-z0-9_-]+$/);
  }
});

test('thumbnail_strategy=2 and mini-programs get a thumbnail made by Ferry itself', async () => {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(1200, 900), '2002', 'p.jpg');
  for (const query of ['&image_type=2&thumbnail_strategy=2', '&image_type=2&source=miniprogram']) {
    const res = await download(slot, creds, query);
    assert.equal(res.status, 200, query);
    const meta = await sharp(res.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 400, 300], query);
  }
});

test('video covers are always made by Ferry (the image service only resizes images)', async () => {
  const slot = await uploadChat(f.url, creds, 103, video('mp4', { seconds: 1 }), '2002', 'v.mp4');
  const res = await download(slot, creds, '&image_type=3');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
});

test('without an image service the default strategy makes the thumbnail in Ferry', async () => {
  const plain = await startTestFerry();
  try {
    const { appId } = await plain.createApp('no-imgproxy');
    const c = { appId, token: await plain.token(appId, '1001') };
    const slot = await uploadChat(plain.url, c, 102, await jpegWithExif(1200, 900), '2002', 'p.jpg');
    const res = await download(slot, c, '&image_type=2&thumbnail_strategy=1');
    assert.equal(res.status, 200);
    assert.equal((await sharp(res.body).metadata()).width, 400);
  } finally {
    await plain.close();
  }
});

test('bad media parameters answer 10002', async () => {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(100, 100), '2002', 'p.jpg');
  for (const q of ['&image_type=4', '&format=ogg', '&thumbnail_strategy=3', '&image_type=2&w=0', '&image_type=2&h=abc']) {
    const res = await download(slot, creds, q);
    assert.equal(res.json?.code, 10002, q);
  }
});
