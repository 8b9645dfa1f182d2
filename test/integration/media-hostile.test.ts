// Hostile media: every crafted file gets a clear code in the envelope (never a 5xx, never a
// crash), and Ferry keeps making thumbnails afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import { chatSlot, postMultipart, type Creds } from '../helpers/client.ts';
import {
  download,
  fileIdOf,
  gifWithFrames,
  jpegWithExif,
  jpegWithLyingHeader,
  pngBomb,
  pngWithLyingHeader,
  uploadChat,
  video,
} from '../helpers/media.ts';

let f: TestFerry;
let creds: Creds;
let appId: string;
before(async () => {
  f = await startTestFerry();
  ({ appId } = await f.createApp('media-hostile'));
  creds = { appId, token: await f.token(appId, '1001') };
});
after(() => f.close());

async function expectCode(bytes: Buffer, fileType: number, query: string, code: number, message: RegExp): Promise<void> {
  const slot = await uploadChat(f.url, creds, fileType, bytes, '2002', 'hostile.bin');
  const res = await download(slot, creds, query);
  assert.equal(res.status, 200, `HTTP ${res.status}`);
  assert.equal(res.json?.code, code, JSON.stringify(res.json));
  assert.match(res.json?.message ?? '', message);
  assert.equal(res.json?.data, null);
}

async function stillWorks(): Promise<void> {
  const slot = await uploadChat(f.url, creds, 102, await jpegWithExif(800, 600), '2002', 'fine.jpg');
  const res = await download(slot, creds, '&image_type=2');
  assert.equal(res.status, 200);
  assert.equal((await sharp(res.body).metadata()).width, 400);
}

test('a 50,000 × 50,000 PNG bomb is refused from its header with 60020', async () => {
  const bomb = pngBomb(50000, 50000);
  assert.ok(bomb.length < 1024 * 1024);
  await expectCode(bomb, 102, '&image_type=2', 60020, /50000×50000.*40000000 pixels/);
  await expectCode(bomb, 102, '&image_type=3', 60020, /pixels/);
  await stillWorks();
});

test('a JPEG whose header claims 50,000 × 50,000 is refused with 60020', async () => {
  await expectCode(await jpegWithLyingHeader(50000, 50000), 102, '&image_type=2', 60020, /pixels/);
});

test('a PNG whose header claims more pixels than its data holds answers 60021', async () => {
  await expectCode(await pngWithLyingHeader(3000, 3000), 102, '&image_type=2', 60021, /damaged/);
});

test('truncated JPEG and PNG images answer 60021', async () => {
  const jpeg = await jpegWithExif(1200, 900);
  await expectCode(jpeg.subarray(0, Math.floor(jpeg.length / 2)), 102, '&image_type=2', 60021, /damaged/);
  const png = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#123456' } })
    .composite([{ input: { create: { width: 300, height: 300, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }, left: 0, top: 0 }])
    .png()
    .toBuffer();
  await expectCode(png.subarray(0, Math.floor(png.length / 2)), 102, '&image_type=2', 60021, /damaged/);
  await stillWorks();
});

test('an SVG never reaches a decoder: refused as an image upload, no thumbnail as a file', async () => {
  const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><script>alert(1)</script><rect width="100%" height="100%"/></svg>');
  const slot = await chatSlot(f.url, creds, { file_type: 102, to_id: '2002', to_type: 1 });
  const up = await postMultipart(slot.upload_url, svg, { filename: 'x.svg' });
  assert.equal(up.body.code, 60004);
  await expectCode(svg, 100, '&image_type=2', 60010, /original/);
});

test('a GIF with thousands of frames is refused with 60020', async () => {
  await expectCode(gifWithFrames(3000), 102, '&image_type=2', 60020, /3000 frames/);
  await stillWorks();
});

test('a pixel cap set by the operator applies, to images and to video frames', async () => {
  const small = await startTestFerry({ FERRY_MAX_IMAGE_PIXELS: '100000' });
  try {
    const { appId: a } = await small.createApp('capped');
    const c = { appId: a, token: await small.token(a, '1001') };
    const big = await uploadChat(small.url, c, 102, await jpegWithExif(400, 300), '2002', 'big.jpg');
    const res = await download(big, c, '&image_type=2');
    assert.equal(res.json?.code, 60020);
    assert.match(res.json?.message ?? '', /100000 pixels/);
    const ok = await uploadChat(small.url, c, 102, await jpegWithExif(300, 300), '2002', 'ok.jpg');
    assert.equal((await download(ok, c, '&image_type=2')).status, 200);
    assert.equal((await download(ok, c, '&image_type=2')).headers.get('content-type'), 'image/jpeg');
    const v = await uploadChat(small.url, c, 103, video('mp4', { width: 640, height: 360, seconds: 1 }), '2002', 'v.mp4');
    const cover = await download(v, c, '&image_type=3');
    assert.equal(cover.json?.code, 60020);
    assert.match(cover.json?.message ?? '', /640×360/);
  } finally {
    await small.close();
  }
});

test('corrupt videos answer 60021 for a cover', async () => {
  const good = video('mp4', { seconds: 2 });
  // ffmpeg writes the index (moov) last: without it nothing can be decoded.
  await expectCode(good.subarray(0, Math.floor(good.length * 0.6)), 103, '&image_type=3', 60021, /damaged/);
  // A real MP4 header followed by noise.
  const noise = Buffer.concat([good.subarray(0, 32), Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919) % 251))]);
  await expectCode(noise, 103, '&image_type=3', 60021, /damaged/);
  await stillWorks();
});

test('a file that starts like AMR but is not answers 60021 for format=mp3', async () => {
  const fake = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 104729 + 17) % 256))]);
  await expectCode(fake, 101, '&format=mp3', 60021, /not AMR/);
  // The upload itself was accepted (it does start like AMR) and recorded no duration.
  const slot = await uploadChat(f.url, creds, 101, fake, '2002', 'fake.amr');
  const rec = await f.ferry.services.meta.getFile(appId, fileIdOf(slot));
  assert.equal(rec?.status, 'ready');
  assert.equal(rec?.durationMs, null);
});

test('many hostile requests at once leave Ferry answering', async () => {
  const bomb = await uploadChat(f.url, creds, 102, pngBomb(50000, 50000), '2002', 'bomb.png');
  const lying = await uploadChat(f.url, creds, 102, await pngWithLyingHeader(4000, 4000), '2002', 'lie.png');
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) => download(i % 2 ? bomb : lying, creds, `&image_type=2&w=${100 + i}`)),
  );
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.ok(a.json && (a.json.code === 60020 || a.json.code === 60021 || a.json.code === 60022), JSON.stringify(a.json));
  }
  await stillWorks();
});

test('media work runs at most FERRY_MEDIA_CONCURRENCY jobs at once, and refuses what its line cannot hold', async () => {
  const one = await startTestFerry({ FERRY_MEDIA_CONCURRENCY: '1', FERRY_MEDIA_MAX_QUEUED: '64' });
  try {
    const { appId: a } = await one.createApp('one-at-a-time');
    const c = { appId: a, token: await one.token(a, '1001') };
    const photo = await jpegWithExif(1600, 1200);
    const slots = await Promise.all(Array.from({ length: 6 }, () => uploadChat(one.url, c, 102, photo, '2002', 'p.jpg')));
    const answers = await Promise.all(slots.map((s) => download(s, c, '&image_type=2')));
    for (const r of answers) assert.equal(r.headers.get('content-type'), 'image/jpeg');
    assert.equal(one.ferry.services.media.queue.peak, 1);
  } finally {
    await one.close();
  }
  const none = await startTestFerry({ FERRY_MEDIA_CONCURRENCY: '1', FERRY_MEDIA_MAX_QUEUED: '0' });
  try {
    const { appId: a } = await none.createApp('no-line');
    const c = { appId: a, token: await none.token(a, '1001') };
    const photo = await jpegWithExif(3000, 2000);
    const slots = await Promise.all(Array.from({ length: 6 }, () => uploadChat(none.url, c, 102, photo, '2002', 'p.jpg')));
    const answers = await Promise.all(slots.map((s) => download(s, c, '&image_type=2')));
    for (const r of answers) {
      assert.equal(r.status, 200);
      assert.ok(r.headers.get('content-type') === 'image/jpeg' || r.json?.code === 60022, JSON.stringify(r.json));
    }
    // The first request always gets the single slot; whatever was refused works on retry.
    assert.ok(answers.some((r) => r.headers.get('content-type') === 'image/jpeg'));
    for (const [i, r] of answers.entries()) {
      if (r.json?.code === 60022) assert.equal((await download(slots[i]!, c, '&image_type=2')).headers.get('content-type'), 'image/jpeg');
    }
  } finally {
    await none.close();
  }
});

/** ftyp, then a moov of moovBytes whose bulk is one filler box: sent as a stream, never held whole. */
function hugeMoovMp4(moovBytes: number): { length: number; body: () => ReadableStream<Uint8Array> } {
  const box = (type: string, payload: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(8 + payload.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, payload]);
  };
  const ftyp = box('ftyp', Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.alloc(4), Buffer.from('isomiso2avc1mp41', 'latin1')]));
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(1000, 12); // timescale
  mvhd.writeUInt32BE(5000, 16); // duration: 5 s
  const mvhdBox = box('mvhd', mvhd);
  const fillerLen = moovBytes - 8 - mvhdBox.length;
  const moovHead = Buffer.alloc(8);
  moovHead.writeUInt32BE(moovBytes, 0);
  moovHead.write('moov', 4, 'latin1');
  const fillerHead = Buffer.alloc(8);
  fillerHead.writeUInt32BE(fillerLen, 0);
  fillerHead.write('udta', 4, 'latin1');
  const head = Buffer.concat([ftyp, moovHead, mvhdBox, fillerHead]);
  const chunk = new Uint8Array(64 * 1024).fill(0x41);
  return {
    length: head.length + fillerLen - 8,
    body: () => {
      let left = fillerLen - 8;
      let sentHead = false;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          if (!sentHead) {
            sentHead = true;
            c.enqueue(new Uint8Array(head));
          } else if (left > 0) {
            const n = Math.min(left, chunk.length);
            left -= n;
            c.enqueue(n === chunk.length ? chunk : chunk.subarray(0, n));
          } else c.close();
        },
      });
    },
  };
}

test('MP4s with huge moov boxes, uploaded at once, are measured within a small fixed memory budget', async () => {
  const mp4 = hugeMoovMp4(30 * 1024 * 1024);
  const uploads = 6;
  const slots = await Promise.all(Array.from({ length: uploads }, () => chatSlot(f.url, creds, { file_type: 103, to_id: '2002', to_type: 1 })));
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 2);
  try {
    const answers = await Promise.all(
      slots.map(async (slot) => {
        const res = await fetch(slot.upload_url, { method: 'PUT', body: mp4.body(), duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
        return (await res.json()) as { code: number };
      }),
    );
    assert.deepEqual(answers.map((a) => a.code), Array(uploads).fill(200));
  } finally {
    clearInterval(sampler);
  }
  const grew = (peak - baseline) / 1024 / 1024;
  // Reading each moov whole held 30 MiB (twice over while concatenating) per upload, all at once.
  assert.ok(grew < 64, `array buffers grew by ${grew.toFixed(0)} MiB while ${uploads} × 30 MiB moov boxes were probed`);
  // What is needed was still read: the movie header's duration.
  const rec = await f.ferry.services.meta.getFile(appId, fileIdOf(slots[0]!));
  assert.equal(rec?.status, 'ready');
  assert.equal(rec?.durationMs, 5000);
});
