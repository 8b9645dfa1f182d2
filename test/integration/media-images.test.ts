// Thumbnails and covers of images over HTTP, checked by decoding what Ferry sends back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import type { Creds } from '../helpers/client.ts';
import { animation, download, fileIdOf, heic, jpegWithExif, plainImage, pngWithAlpha, uploadChat, uploadUserAvatar } from '../helpers/media.ts';

let f: TestFerry;
let creds: Creds;
let appId: string;
before(async () => {
  f = await startTestFerry();
  ({ appId } = await f.createApp('media-images'));
  creds = { appId, token: await f.token(appId, '1001') };
});
after(() => f.close());

async function decoded(body: Buffer) {
  return sharp(body).metadata();
}

/** Mean colour of a 10×10 patch around (x, y). */
async function colourAt(body: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(body).extract({ left: x, top: y, width: 10, height: 10 }).raw().toBuffer({ resolveWithObject: true });
  const sums = new Array<number>(info.channels).fill(0);
  for (let i = 0; i < data.length; i++) sums[i % info.channels]! += data[i]!;
  return sums.map((s) => Math.round(s / (data.length / info.channels)));
}

test('a phone JPEG thumbnail is upright, fits the default 400 box, and carries no EXIF or GPS', async () => {
  // Stored 1200×600 landscape with orientation 6: shown as 600×1200 portrait, left half on top.
  const original = await jpegWithExif(1200, 600, 6);
  const inMeta = await decoded(original);
  assert.equal(inMeta.orientation, 6);
  assert.ok(inMeta.exif && inMeta.exif.includes(Buffer.from('FerryPhone')));
  const slot = await uploadChat(f.url, creds, 102, original, '2002', 'photo.jpg');

  const res = await download(slot, creds, '&image_type=2');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  const m = await decoded(res.body);
  assert.equal(m.format, 'jpeg');
  assert.equal(m.width, 200);
  assert.equal(m.height, 400);
  assert.equal(m.exif, undefined);
  assert.equal(m.icc, undefined);
  assert.equal(m.xmp, undefined);
  assert.equal(m.orientation, undefined);
  assert.ok(!res.body.includes(Buffer.from('FerryPhone')));
  const top = await colourAt(res.body, 95, 50);
  const bottom = await colourAt(res.body, 95, 340);
  assert.ok(top[0]! > 200 && top[2]! < 60, `top should be red, got ${top}`);
  assert.ok(bottom[2]! > 200 && bottom[0]! < 60, `bottom should be blue, got ${bottom}`);

  // The upload recorded the shown size.
  const rec = await f.ferry.services.meta.getFile(appId, fileIdOf(slot));
  assert.equal(rec?.width, 600);
  assert.equal(rec?.height, 1200);
});

test('w and h are honoured inside a box snapped up to the documented sizes, never upscaled', async () => {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(1000, 500), '2002', 'wide.jpg');
  // 150×90 snaps to 200×100: a 2:1 image fits as 200×100.
  let m = await decoded((await download(slot, creds, '&image_type=2&w=150&h=90')).body);
  assert.deepEqual([m.width, m.height], [200, 100]);
  // Only w: a square 800 box.
  m = await decoded((await download(slot, creds, '&image_type=2&w=700')).body);
  assert.deepEqual([m.width, m.height], [800, 400]);
  // Asking for more than the image has keeps its own size.
  m = await decoded((await download(slot, creds, '&image_type=2&w=5000&h=5000')).body);
  assert.deepEqual([m.width, m.height], [1000, 500]);
  // Two requests that snap to the same box share one stored derivative.
  const before = f.ferry.services.media.stats.derivativesMade;
  const a = await download(slot, creds, '&image_type=2&w=120&h=60');
  const b = await download(slot, creds, '&image_type=2&w=200&h=100');
  assert.equal(a.headers.get('etag'), b.headers.get('etag'));
  assert.equal(f.ferry.services.media.stats.derivativesMade, before);
});

test('every accepted image format gets a decodable thumbnail of the right size', async () => {
  const cases: Array<{ name: string; bytes: Buffer; type: string; size: [number, number] }> = [
    { name: 'png', bytes: await plainImage('png', 800, 600), type: 'image/jpeg', size: [400, 300] },
    { name: 'webp', bytes: await plainImage('webp', 800, 600), type: 'image/jpeg', size: [400, 300] },
    { name: 'avif', bytes: await plainImage('avif', 800, 600), type: 'image/jpeg', size: [400, 300] },
    { name: 'heic', bytes: await heic(800, 600), type: 'image/jpeg', size: [400, 300] },
    { name: 'png with alpha', bytes: await pngWithAlpha(600, 800), type: 'image/png', size: [300, 400] },
    { name: 'animated gif', bytes: await animation('gif', 500, 250, 5), type: 'image/jpeg', size: [400, 200] },
    { name: 'animated webp', bytes: await animation('webp', 500, 250, 5), type: 'image/jpeg', size: [400, 200] },
  ];
  for (const c of cases) {
    const slot = await uploadChat(f.url, creds, 102, c.bytes, '2002', `x.${c.name}`);
    const res = await download(slot, creds, '&image_type=2');
    assert.equal(res.status, 200, `${c.name}: ${res.body.toString().slice(0, 200)}`);
    assert.equal(res.headers.get('content-type'), c.type, c.name);
    const m = await decoded(res.body);
    assert.equal(m.format, c.type === 'image/png' ? 'png' : 'jpeg', c.name);
    assert.deepEqual([m.width, m.height], c.size, c.name);
    // Animations become their first frame (documented in docs/media.md).
    assert.equal(m.pages ?? 1, 1, c.name);
    if (c.type === 'image/png') assert.equal(m.hasAlpha, true, c.name);
    const rec = await f.ferry.services.meta.getFile(appId, fileIdOf(slot));
    assert.deepEqual([rec?.width, rec?.height], c.name === 'png with alpha' ? [600, 800] : c.name.startsWith('animated') ? [500, 250] : [800, 600], c.name);
  }
});

test('an image cover is a large preview inside the 800 box', async () => {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(3000, 1500), '2002', 'big.jpg');
  const res = await download(slot, creds, '&image_type=3');
  assert.equal(res.status, 200);
  const m = await decoded(res.body);
  assert.deepEqual([m.format, m.width, m.height], ['jpeg', 800, 400]);
  assert.equal(m.exif, undefined);
});

test('avatars get thumbnails too', async () => {
  const slot = await uploadUserAvatar(f.url, creds, await jpegWithExif(900, 900));
  const res = await fetch(`${slot.download_url}&app_id=${appId}&access-token=${creds.token}&image_type=2&w=100&h=100`);
  assert.equal(res.status, 200);
  const m = await decoded(Buffer.from(await res.arrayBuffer()));
  assert.deepEqual([m.format, m.width, m.height], ['jpeg', 100, 100]);
});

test('20 concurrent requests for one new thumbnail make it once, and later requests reuse it', async () => {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(2000, 1500), '2002', 'burst.jpg');
  const before = f.ferry.services.media.stats.derivativesMade;
  const results = await Promise.all(Array.from({ length: 20 }, () => download(slot, creds, '&image_type=2')));
  for (const r of results) assert.equal(r.status, 200);
  const first = results[0]!.body;
  for (const r of results) assert.deepEqual(r.body, first);
  assert.equal(f.ferry.services.media.stats.derivativesMade, before + 1);
  const again = await download(slot, creds, '&image_type=2');
  assert.deepEqual(again.body, first);
  assert.equal(f.ferry.services.media.stats.derivativesMade, before + 1);
  const rec = await f.ferry.services.meta.getDerivative(fileIdOf(slot), 'thumb-400x400');
  assert.ok(rec);
  assert.equal(rec.size, first.length);
  assert.equal(rec.contentType, 'image/jpeg');
});

test('a derivative is served with the same headers as an original: ETag, Range, 304, HEAD, nosniff, CSP', async () => {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(1600, 1200), '2002', 'holiday.jpg');
  const full = await download(slot, creds, '&image_type=2');
  const etag = full.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f]{40}"$/);
  const original = await download(slot, creds);
  assert.notEqual(original.headers.get('etag'), etag);
  for (const h of ['x-content-type-options', 'content-security-policy', 'accept-ranges']) {
    assert.equal(full.headers.get(h), original.headers.get(h), h);
  }
  // A redirected download's max-age counts down to its URL's expiry: the two were asked for
  // moments apart, so they may differ by the second that passed between them.
  const maxAge = (r: typeof full) => /^private, max-age=(\d+)$/.exec(r.headers.get('cache-control') ?? '');
  const [ours, theirs] = [maxAge(full), maxAge(original)];
  assert.ok(ours && theirs, `cache-control: ${full.headers.get('cache-control')} / ${original.headers.get('cache-control')}`);
  assert.ok(Math.abs(Number(ours[1]) - Number(theirs[1])) <= 1, `max-age ${ours[1]} against ${theirs[1]}`);
  assert.equal(full.headers.get('x-content-type-options'), 'nosniff');
  assert.match(full.headers.get('content-disposition') ?? '', /^inline; filename="holiday\.jpg"/);
  assert.equal(Number(full.headers.get('content-length')), full.body.length);

  const part = await download(slot, creds, '&image_type=2', { headers: { range: 'bytes=10-99' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 10-99/${full.body.length}`);
  assert.deepEqual(part.body, full.body.subarray(10, 100));

  const cached = await download(slot, creds, '&image_type=2', { headers: { 'if-none-match': etag } });
  assert.equal(cached.status, 304);

  const head = await download(slot, creds, '&image_type=2', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), full.body.length);
  assert.equal(head.body.length, 0);
});
