// Pure pieces of the media pipeline: box snapping, the AMR frame walk, the work queue, single
// flight, imgproxy signing, and the tool runner's timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOX_SIZES, boxFor, snapSide, DEFAULT_THUMBNAIL_BOX } from '../../src/media/box.ts';
import { amrDurationMs } from '../../src/media/amr.ts';
import { WorkQueue } from '../../src/primitives/work-queue.ts';
import { LocalSingleFlight } from '../../src/primitives/single-flight.ts';
import { IMGPROXY_URL_WINDOW_S, signImgproxyPath, imgproxyUrl } from '../../src/media/imgproxy.ts';
import { runTool } from '../../src/media/run-tool.ts';
import { Codes, FerryError } from '../../src/errors.ts';

test('requested sizes snap up to the documented set and stop at 2048', () => {
  assert.equal(snapSide(1), 100);
  assert.equal(snapSide(100), 100);
  assert.equal(snapSide(101), 200);
  assert.equal(snapSide(401), 800);
  assert.equal(snapSide(2048), 2048);
  assert.equal(snapSide(9999), 2048);
  for (let px = 1; px <= 3000; px += 7) assert.ok(BOX_SIZES.includes(snapSide(px) as (typeof BOX_SIZES)[number]));
  assert.deepEqual(boxFor(undefined, undefined, DEFAULT_THUMBNAIL_BOX), { width: 400, height: 400 });
  assert.deepEqual(boxFor(150, undefined, DEFAULT_THUMBNAIL_BOX), { width: 200, height: 200 });
  assert.deepEqual(boxFor(150, 90, DEFAULT_THUMBNAIL_BOX), { width: 200, height: 100 });
});

test('the AMR frame walk measures real AMR and refuses junk behind the magic', () => {
  // 12.2 kbit/s frames: header 0x3c, 31 bytes of payload, 20 ms each.
  const frame = Buffer.concat([Buffer.from([0x3c]), Buffer.alloc(31)]);
  const amr = Buffer.concat([Buffer.from('#!AMR\n'), ...Array.from({ length: 150 }, () => frame)]);
  assert.equal(amrDurationMs(amr), 3000);
  assert.equal(amrDurationMs(Buffer.from('#!AMR\n')), null);
  assert.equal(amrDurationMs(Buffer.concat([Buffer.from('#!AMR\n'), Buffer.from([0xff, 1, 2, 3])])), null);
  assert.equal(amrDurationMs(Buffer.from('ID3\x03\x00')), null);
});

test('the work queue runs at most its slots at once and refuses work when its line is full', async () => {
  const q = new WorkQueue(2, 1);
  let running = 0;
  let peak = 0;
  const gates: Array<() => void> = [];
  const job = () =>
    q.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => gates.push(r));
      running--;
    });
  const a = job();
  const b = job();
  const c = job();
  await new Promise((r) => setImmediate(r));
  assert.equal(q.active, 2);
  assert.equal(q.queued, 1);
  await assert.rejects(job(), (e: unknown) => e instanceof FerryError && e.code === Codes.MEDIA_BUSY);
  while (gates.length) {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all([a, b, c]);
  assert.equal(peak, 2);
  assert.equal(q.active, 0);
});

test('single flight shares one run among concurrent callers and runs again afterwards', async () => {
  const sf = new LocalSingleFlight();
  let runs = 0;
  const make = async () => {
    runs++;
    await new Promise((r) => setTimeout(r, 10));
    return runs;
  };
  const results = await Promise.all(Array.from({ length: 20 }, () => sf.run('k', make)));
  assert.equal(runs, 1);
  assert.deepEqual(new Set(results), new Set([1]));
  assert.equal(sf.size, 0);
  await sf.run('k', make);
  assert.equal(runs, 2);
  // A failure reaches every waiter and is not remembered.
  const failing = Promise.all([sf.run('x', () => Promise.reject(new Error('boom'))), sf.run('x', async () => 1)]);
  await assert.rejects(failing, /boom/);
  assert.equal(await sf.run('x', async () => 7), 7);
});

test('imgproxy signatures match imgproxy documentation vector', () => {
  const settings = { url: 'http://imgproxy.test', key: '736563726574', salt: '68656C6C6F' };
  assert.equal(
    signImgproxyPath(settings, '/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png'),
    'oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8',
  );
  const { url } = imgproxyUrl(settings, 'local:///files/a/abc', { width: 400, height: 400 });
  const m = /^http:\/\/imgproxy\.test\/([A-Za-z0-9_-]{43})(\/exp:\d+\/rs:fit:400:400:0\/([A-Za-z0-9_-]+))$/.exec(url);
  assert.ok(m, url);
  assert.equal(Buffer.from(m[3]!, 'base64url').toString(), 'local:///files/a/abc');
  assert.equal(m[1], signImgproxyPath(settings, m[2]!));
});

test('imgproxy URLs expire, and the same URL is handed out for a whole window', () => {
  const settings = { url: 'http://imgproxy.test', key: '736563726574', salt: '68656C6C6F' };
  const at = (ms: number) => imgproxyUrl(settings, 'local:///files/a/abc', { width: 400, height: 400 }, ms);
  const exp = (ms: number) => Number(/\/exp:(\d+)\//.exec(at(ms).url)![1]);
  const W = IMGPROXY_URL_WINDOW_S * 1000;
  const start = 1_800_000_000_000 - (1_800_000_000_000 % W);
  // Throughout one window: one URL, valid until one window after the window ends.
  for (const t of [start, start + 1, start + W / 2, start + W - 1]) {
    assert.equal(at(t).url, at(start).url);
    assert.equal(exp(t), (start + 2 * W) / 1000);
    assert.equal(at(t).reusableUntil, start + W);
    // Always at least one full window of life left when handed out.
    assert.ok(exp(t) * 1000 - t > W);
  }
  // The next window: a new expiry, and a new signature over it.
  assert.equal(exp(start + W), (start + 3 * W) / 1000);
  assert.notEqual(at(start + W).url.split('/')[3], at(start).url.split('/')[3]);
});

test('a tool that runs past its time is killed and reported as a timeout', async () => {
  await assert.rejects(
    runTool('sleep', ['30'], { timeoutMs: 200, what: 'sleeping' }),
    (e: unknown) => e instanceof FerryError && e.code === Codes.MEDIA_TIMEOUT,
  );
});

test('planFor picks the original, a thumbnail, a cover or a voice conversion by file type', async () => {
  const { planFor } = await import('../../src/pipelines/derivatives.ts');
  const file = (contentType: string) => ({ contentType }) as Parameters<typeof planFor>[0];
  const req = (over: Partial<Parameters<typeof planFor>[1]> = {}) => ({ imageType: 1 as const, w: undefined, h: undefined, format: undefined, thumbnailStrategy: 1 as const, miniProgram: false, ...over });
  assert.deepEqual(planFor(file('image/jpeg'), req()), { kind: 'original' });
  assert.deepEqual(planFor(file('image/heic'), req({ imageType: 2 })), { kind: 'image', variant: 'thumb-400x400', box: { width: 400, height: 400 } });
  assert.deepEqual(planFor(file('video/mp4'), req({ imageType: 3, w: 1000 })), { kind: 'video-frame', variant: 'cover-1200x1200', box: { width: 1200, height: 1200 } });
  assert.deepEqual(planFor(file('audio/amr'), req({ format: 'mp3' })), { kind: 'voice', variant: 'mp3', to: 'mp3' });
  assert.deepEqual(planFor(file('audio/amr'), req({ format: 'amr' })), { kind: 'original' });
  assert.deepEqual(planFor(file('audio/amr'), req({ miniProgram: true })), { kind: 'voice', variant: 'mp3', to: 'mp3' });
  assert.deepEqual(planFor(file('audio/mpeg'), req({ miniProgram: true })), { kind: 'original' });
  for (const [ct, over] of [
    ['application/pdf', { imageType: 2 }],
    ['application/pdf', { imageType: 3 }],
    ['image/png', { format: 'mp3' }],
    ['audio/amr', { imageType: 2, format: 'mp3' }],
    ['audio/amr', { imageType: 3 }],
  ] as const) {
    assert.throws(() => planFor(file(ct), req(over)), (e: unknown) => e instanceof FerryError && e.code === Codes.NOT_SUPPORTED, `${ct} ${JSON.stringify(over)}`);
  }
});
