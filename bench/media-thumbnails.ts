// Media (a): a cold thumbnail of a 12 MP JPEG to the default box through Ferry (HTTP request,
// access check, original read from the store, decode, resize, encode, stored, served) against
// Debian's vipsthumbnail making the same thumbnail from the same file on the command line.
// Target: Ferry ≤ 1.3× vipsthumbnail's time.
// Media (b): a cached thumbnail's requests/s against the 16 KiB original download, both through
// Ferry. Target ≥ 0.9.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createUser, downloadUrlWithCreds, startFerry } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { interleaved, median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import { wrkNotes, wrkPair } from './lib/wrk.ts';
import { mediaUrl, photoJpeg, STREAMING, timedGet, timedRun, upload } from './media-common.ts';
import { randomBytes } from 'node:crypto';

export const coldThumbnail: Comparison = {
  id: 'media-thumb-cold',
  title: '(a) cold thumbnail of a 12 MP JPEG vs vipsthumbnail',
  needs: [needTool('vipsthumbnail', 'libvips-tools')],
  async run(ctx) {
    const src = path.join(ctx.tmpDir, 'photo-12mp.jpg');
    await photoJpeg(src, 4000, 3000);
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: STREAMING });
    try {
      const user = await createUser(ferry);
      // Each Ferry sample is a fresh upload, so every thumbnail is really made (cold).
      const reps = Math.max(ctx.opts.reps, 5);
      const slots = await Promise.all(Array.from({ length: reps + 1 }, () => upload(ferry, user, 102, src)));
      await timedGet(mediaUrl(slots.pop()!, user, '&image_type=2'), 'image/jpeg'); // warm-up: code paths, not the file
      const out = path.join(ctx.tmpDir, 'vips-%s.jpg');
      const vipsArgs = [src, '--size', '400x400', '-o', `${out}[Q=80,strip]`];
      await timedRun('vipsthumbnail', vipsArgs);
      let next = 0;
      const { a, b } = await interleaved(
        reps,
        async () => {
          const r = await timedGet(mediaUrl(slots[next++]!, user, '&image_type=2'), 'image/jpeg');
          const m = await sharp(r.bytes).metadata();
          if (m.width !== 400 || m.height !== 300) throw new Error(`Ferry's thumbnail is ${m.width}×${m.height}, not 400×300`);
          ctx.log(`  ferry: ${r.ms.toFixed(0)} ms`);
          return r.ms;
        },
        async () => {
          const ms = await timedRun('vipsthumbnail', vipsArgs);
          ctx.log(`  vipsthumbnail: ${ms.toFixed(0)} ms`);
          return ms;
        },
      );
      const made = (await sharp(path.join(ctx.tmpDir, 'vips-photo-12mp.jpg')).metadata()).width;
      // How much of vipsthumbnail's time is starting the process (libvips loads its modules):
      // the same command on a 16×16 image.
      const tiny = path.join(ctx.tmpDir, 'tiny.png');
      await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } }).png().toFile(tiny);
      const startup: number[] = [];
      for (let i = 0; i < 3; i++) startup.push(await timedRun('vipsthumbnail', [tiny, '--size', '400x400', '-o', path.join(ctx.tmpDir, 'tiny-%s.jpg')]));
      return {
        unit: 'ms',
        better: 'lower',
        ferry: { label: 'GET download_url&image_type=2 (new file each time)', value: median(a), stat: 'median', samples: a },
        peer: { name: 'vipsthumbnail (libvips-tools)', label: `vipsthumbnail --size 400x400 -o …[Q=80,strip]`, value: median(b), stat: 'median', samples: b },
        // ≤ 1.3× its time is a ratio (peer ÷ Ferry) of at least 1 / 1.3.
        target: { kind: 'ratio-at-least', value: 1 / 1.3 },
        notes: [
          `4000×3000 JPEG, ${fs.statSync(src).size} bytes; both make a ${made}-wide JPEG, Q80, metadata stripped`,
          `the vipsthumbnail time includes its process start: ${median(startup).toFixed(0)} ms for the same command on a 16×16 image; Ferry's includes the HTTP request, access check, copy from the store and storing the result`,
        ],
      };
    } finally {
      await ferry.stop();
    }
  },
};

export const cachedThumbnail: Comparison = {
  id: 'media-thumb-cached',
  title: '(b) cached thumbnail vs 16 KiB original download, req/s',
  needs: [needTool('wrk', 'wrk')],
  async run(ctx) {
    const src = path.join(ctx.tmpDir, 'photo.jpg');
    await photoJpeg(src, 1600, 1200);
    const small = path.join(ctx.tmpDir, 'file16k.bin');
    fs.writeFileSync(small, randomBytes(16 * 1024));
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: STREAMING });
    try {
      const user = await createUser(ferry);
      const photo = await upload(ferry, user, 102, src);
      const file = await upload(ferry, user, 100, small);
      const thumbUrl = mediaUrl(photo, user, '&image_type=2');
      const thumb = await timedGet(thumbUrl, 'image/jpeg');
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, thumbUrl, downloadUrlWithCreds(file, user));
      const again = await timedGet(thumbUrl, 'image/jpeg');
      if (!again.bytes.equals(thumb.bytes)) throw new Error('the cached thumbnail changed under load');
      const fr = f.map((r) => r.requestsPerSec);
      const pr = p.map((r) => r.requestsPerSec);
      return {
        unit: 'req/s',
        better: 'higher',
        ferry: { label: 'GET …&image_type=2 (thumbnail already made)', value: median(fr), stat: 'median', samples: fr },
        peer: { name: 'Ferry original download', label: 'GET download_url of a 16 KiB file', value: median(pr), stat: 'median', samples: pr },
        target: { kind: 'ratio-at-least', value: 0.9 },
        notes: [`thumbnail is ${thumb.bytes.length} bytes`, `wrk -t${ctx.opts.threads} -c${ctx.opts.connections} -d${ctx.opts.durationS}s on both`, ...wrkNotes('thumbnail', f), ...wrkNotes('original', p)],
      };
    } finally {
      await ferry.stop();
    }
  },
};
