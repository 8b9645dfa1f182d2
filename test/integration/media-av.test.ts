// Video covers and voice conversion over HTTP, checked by decoding the answers with sharp and
// ffprobe; durations and sizes recorded at upload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startTestFerry, type TestFerry } from '../helpers/ferry.ts';
import type { Creds } from '../helpers/client.ts';
import { download, fileIdOf, probeAudio, uploadChat, video, voice, type VideoContainer } from '../helpers/media.ts';

let f: TestFerry;
let creds: Creds;
let appId: string;
before(async () => {
  f = await startTestFerry();
  ({ appId } = await f.createApp('media-av'));
  creds = { appId, token: await f.token(appId, '1001') };
});
after(() => f.close());

async function meanBrightness(jpeg: Buffer): Promise<number> {
  const s = await sharp(jpeg).stats();
  return s.channels.slice(0, 3).reduce((a, c) => a + c.mean, 0) / 3;
}

test('every video container gets a JPEG cover, and the upload recorded duration and size', async () => {
  const containers: VideoContainer[] = ['mp4', 'mov', 'webm', '3gp'];
  for (const c of containers) {
    const slot = await uploadChat(f.url, creds, 103, video(c, { width: 320, height: 240, seconds: 3 }), '2002', `clip.${c}`);
    const res = await download(slot, creds, '&image_type=3');
    assert.equal(res.status, 200, `${c}: ${res.body.toString().slice(0, 200)}`);
    assert.equal(res.headers.get('content-type'), 'image/jpeg', c);
    const m = await sharp(res.body).metadata();
    assert.deepEqual([m.format, m.width, m.height], ['jpeg', 320, 240], c);
    assert.equal(m.exif, undefined, c);
    const rec = await f.ferry.services.meta.getFile(appId, fileIdOf(slot));
    assert.deepEqual([rec?.width, rec?.height], [320, 240], c);
    assert.ok(rec?.durationMs !== null && rec?.durationMs !== undefined && Math.abs(rec.durationMs - 3000) <= 150, `${c}: duration ${rec?.durationMs}`);
  }
});

test('a video that opens on black gets a cover with content, not the black first frame', async () => {
  const slot = await uploadChat(f.url, creds, 103, video('mp4', { width: 640, height: 360, seconds: 4, blackFirstSeconds: 1.5 }), '2002', 'fadein.mp4');
  const res = await download(slot, creds, '&image_type=3');
  assert.equal(res.status, 200);
  assert.ok((await meanBrightness(res.body)) > 40, 'cover should not be black');
  // The default cover box is 800: a 640×360 video keeps its size; a thumbnail is 400 wide.
  assert.deepEqual([(await sharp(res.body).metadata()).width, (await sharp(res.body).metadata()).height], [640, 360]);
  const thumb = await download(slot, creds, '&image_type=2');
  assert.equal(thumb.status, 200);
  const tm = await sharp(thumb.body).metadata();
  assert.deepEqual([tm.format, tm.width, tm.height], ['jpeg', 400, 225]);
});

test('covers and thumbnails of other files answer 60010', async () => {
  const text = await uploadChat(f.url, creds, 100, Buffer.from('just some notes\n'.repeat(50)), '2002', 'notes.txt');
  for (const it of ['2', '3']) {
    const res = await download(text, creds, `&image_type=${it}`);
    assert.equal(res.status, 200);
    assert.equal(res.json?.code, 60010);
    assert.match(res.json?.message ?? '', /original/);
  }
  const amr = await uploadChat(f.url, creds, 101, voice('amr', 1), '2002', 'v.amr');
  assert.equal((await download(amr, creds, '&image_type=3')).json?.code, 60010);
  // format converts voice only.
  assert.equal((await download(text, creds, '&format=mp3')).json?.code, 60010);
});

test('AMR voice becomes MP3 for browsers; MP3 voice becomes AMR-NB for native clients', async () => {
  const amrBytes = voice('amr', 3);
  const amr = await uploadChat(f.url, creds, 101, amrBytes, '2002', 'hello.amr');
  const mp3 = await download(amr, creds, '&format=mp3');
  assert.equal(mp3.status, 200);
  assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
  assert.match(mp3.headers.get('content-disposition') ?? '', /filename="hello\.mp3"/);
  const pm = probeAudio(mp3.body);
  assert.equal(pm.codec, 'mp3');
  assert.ok(Math.abs(pm.durationS - 3) < 0.2, `mp3 duration ${pm.durationS}`);
  const rec = await f.ferry.services.meta.getFile(appId, fileIdOf(amr));
  // AMR counts 20 ms frames; the encoder adds a frame or so of padding.
  assert.ok(rec?.durationMs && Math.abs(rec.durationMs - 3000) <= 60, `amr duration ${rec?.durationMs}`);

  // No format, or the format it already has: the original bytes.
  assert.deepEqual((await download(amr, creds)).body, amrBytes);
  assert.deepEqual((await download(amr, creds, '&format=amr')).body, amrBytes);

  const mp3Bytes = voice('mp3', 2);
  const mp3Voice = await uploadChat(f.url, creds, 104, mp3Bytes, '2002', 'hi.mp3');
  const back = await download(mp3Voice, creds, '&format=amr');
  assert.equal(back.status, 200);
  assert.equal(back.headers.get('content-type'), 'audio/amr');
  assert.equal(back.body.subarray(0, 6).toString('latin1'), '#!AMR\n');
  const pa = probeAudio(back.body);
  assert.equal(pa.codec, 'amr_nb');
  assert.equal(pa.sampleRate, 8000);
  assert.deepEqual((await download(mp3Voice, creds)).body, mp3Bytes);
  const mrec = await f.ferry.services.meta.getFile(appId, fileIdOf(mp3Voice));
  assert.ok(mrec?.durationMs && Math.abs(mrec.durationMs - 2000) < 150, `mp3 duration ${mrec?.durationMs}`);
});

test('source=miniprogram streams MP3 for AMR voice without a format, and ranges work on it', async () => {
  const amr = await uploadChat(f.url, creds, 101, voice('amr', 2), '2002', 'mini.amr');
  const res = await download(amr, creds, '&source=miniprogram');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'audio/mpeg');
  assert.equal(probeAudio(res.body).codec, 'mp3');
  const part = await download(amr, creds, '&source=miniprogram', { headers: { range: 'bytes=0-99' } });
  assert.equal(part.status, 206);
  assert.deepEqual(part.body, res.body.subarray(0, 100));
  // An explicit format still wins.
  const asAmr = await download(amr, creds, '&source=miniprogram&format=amr');
  assert.equal(asAmr.headers.get('content-type'), 'audio/amr');
});

test('concurrent conversions of one voice file run ffmpeg once', async () => {
  const amr = await uploadChat(f.url, creds, 101, voice('amr', 5), '2002', 'burst.amr');
  const before = f.ferry.services.media.stats.derivativesMade;
  const all = await Promise.all(Array.from({ length: 20 }, () => download(amr, creds, '&format=mp3')));
  for (const r of all) {
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, all[0]!.body);
  }
  assert.equal(f.ferry.services.media.stats.derivativesMade, before + 1);
});

test('MP4 and MOV sizes are the shown ones: a portrait phone video (quarter-turn matrix) records height × width, header first or last', async () => {
  for (const c of ['mp4', 'mov'] as const) {
    for (const faststart of [false, true]) {
      const slot = await uploadChat(f.url, creds, 103, video(c, { width: 320, height: 240, seconds: 2, rotate90: true, faststart }), '2002', `portrait.${c}`);
      const rec = await f.ferry.services.meta.getFile(appId, fileIdOf(slot));
      const what = `${c}${faststart ? ' faststart' : ''}`;
      assert.deepEqual([rec?.width, rec?.height], [240, 320], what);
      assert.ok(rec?.durationMs && Math.abs(rec.durationMs - 2000) <= 150, `${what}: duration ${rec?.durationMs}`);
    }
  }
});
