// Media (c): 60 s of AMR voice to MP3 through Ferry against the ffmpeg command line Ferry runs,
// on the same file. Target: ≤ 1.2× its time.
// Media (d): Ferry's peak RSS while 8 thumbnails of 40 MP images are made at once. Target < 400 MB.
// Media (e): time to refuse a 50,000 × 50,000 PNG bomb. Target < 50 ms.
import fs from 'node:fs';
import path from 'node:path';
import { createUser, startFerry } from './lib/ferry.ts';
import { needLinuxProc, needTool } from './lib/needs.ts';
import { rssMB, sampleRss } from './lib/rss.ts';
import { interleaved, median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import { makeVoice, mediaUrl, photoJpeg, STREAMING, timedGet, timedRun, upload } from './media-common.ts';
import { pngBomb } from '../test/helpers/media.ts';
import { performance } from 'node:perf_hooks';

export const amrToMp3: Comparison = {
  id: 'media-amr-mp3',
  title: '(c) 60 s AMR to MP3 vs ffmpeg command line',
  needs: [needTool('ffmpeg', 'ffmpeg libavcodec-extra')],
  async run(ctx) {
    const amr = path.join(ctx.tmpDir, 'voice-60s.amr');
    await makeVoice(amr, 60);
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: STREAMING });
    try {
      const user = await createUser(ferry);
      const reps = Math.max(ctx.opts.reps, 5);
      const slots = await Promise.all(Array.from({ length: reps + 1 }, () => upload(ferry, user, 101, amr)));
      await timedGet(mediaUrl(slots.pop()!, user, '&format=mp3'), 'audio/mpeg');
      const out = path.join(ctx.tmpDir, 'out.mp3');
      // The exact conversion Ferry runs (src/media/ffmpeg.ts).
      const args = ['-v', 'error', '-protocol_whitelist', 'file', '-nostdin', '-xerror', '-f', 'amr', '-i', amr, '-map', '0:a:0', '-vn', '-map_metadata', '-1', '-fflags', '+bitexact', '-ac', '1', '-ar', '16000', '-c:a', 'libmp3lame', '-b:a', '32k', '-f', 'mp3', '-y', out];
      let next = 0;
      const { a, b } = await interleaved(
        reps,
        async () => {
          const r = await timedGet(mediaUrl(slots[next++]!, user, '&format=mp3'), 'audio/mpeg');
          ctx.log(`  ferry: ${r.ms.toFixed(0)} ms, ${r.bytes.length} bytes`);
          return r.ms;
        },
        async () => {
          const ms = await timedRun('ffmpeg', args);
          ctx.log(`  ffmpeg: ${ms.toFixed(0)} ms`);
          return ms;
        },
      );
      return {
        unit: 'ms',
        better: 'lower',
        ferry: { label: 'GET download_url&format=mp3 (new file each time)', value: median(a), stat: 'median', samples: a },
        peer: { name: 'ffmpeg (Debian)', label: 'ffmpeg -f amr -i voice.amr … -c:a libmp3lame -b:a 32k out.mp3', value: median(b), stat: 'median', samples: b },
        target: { kind: 'ratio-at-least', value: 1 / 1.2 },
        notes: [`AMR-NB 12.2 kbit/s, 60 s, ${fs.statSync(amr).size} bytes; MP3 mono 16 kHz 32 kbit/s`],
      };
    } finally {
      await ferry.stop();
    }
  },
};

const IMAGES = 8;

export const thumbnailRss: Comparison = {
  id: 'media-thumb-rss',
  title: `(d) peak RSS, ${IMAGES} thumbnails of 40 MP images at once`,
  needs: [needLinuxProc],
  async run(ctx) {
    const src = path.join(ctx.tmpDir, 'photo-40mp.jpg');
    await photoJpeg(src, 8000, 5000);
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: STREAMING });
    try {
      const user = await createUser(ferry);
      const reps = Math.min(ctx.opts.reps, 3);
      const peaks: number[] = [];
      const details: Record<string, unknown>[] = [];
      for (let rep = 1; rep <= reps; rep++) {
        const slots = [];
        for (let i = 0; i < IMAGES; i++) slots.push(await upload(ferry, user, 102, src));
        const idleMB = rssMB(ferry.pid);
        const sampler = sampleRss(ferry.pid, 25);
        const t0 = performance.now();
        await Promise.all(slots.map((s) => timedGet(mediaUrl(s, user, '&image_type=2'), 'image/jpeg')));
        const seconds = (performance.now() - t0) / 1000;
        const rss = sampler.stop();
        const peak = rss.hwmWasReset && rss.hwmMB !== null ? Math.max(rss.hwmMB, rss.peakSampledMB) : rss.peakSampledMB;
        peaks.push(peak);
        details.push({ rep, idleMB, peakSampledMB: rss.peakSampledMB, vmHwmMB: rss.hwmMB, hwmWasReset: rss.hwmWasReset, seconds });
        ctx.log(`  rep ${rep}: peak ${peak.toFixed(1)} MB (idle ${idleMB?.toFixed(1)} MB), ${seconds.toFixed(1)} s for ${IMAGES}`);
      }
      return {
        unit: 'MB',
        better: 'lower',
        ferry: { label: 'peak RSS (VmHWM, 25 ms samples) of the Ferry process', value: Math.max(...peaks), stat: 'max', samples: peaks },
        peer: null,
        target: { kind: 'below', value: 400 },
        notes: [`8000×5000 JPEG (${fs.statSync(src).size} bytes) uploaded ${IMAGES} times, all ${IMAGES} thumbnails requested at once; default media concurrency (cores)`],
        details: { rounds: details },
      };
    } finally {
      await ferry.stop();
    }
  },
};

export const bombRefusal: Comparison = {
  id: 'media-bomb-refuse',
  title: '(e) time to refuse a 50,000 × 50,000 PNG bomb',
  needs: [],
  async run(ctx) {
    const file = path.join(ctx.tmpDir, 'bomb.png');
    fs.writeFileSync(file, pngBomb(50000, 50000));
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: STREAMING });
    try {
      const user = await createUser(ferry);
      // Every sample is a fresh upload of the bomb: Ferry remembers a refused file, so asking
      // for the same one again would measure a lookup, not a refusal.
      const reps = Math.max(ctx.opts.reps, 10);
      const slots = await Promise.all(Array.from({ length: reps + 1 }, () => upload(ferry, user, 102, file)));
      const once = async (slot: (typeof slots)[number]) => {
        const url = mediaUrl(slot, user, '&image_type=2');
        const t0 = performance.now();
        const res = await fetch(url);
        const body = (await res.json()) as { code: number };
        const ms = performance.now() - t0;
        if (res.status !== 200 || body.code !== 60020) throw new Error(`expected 60020, got HTTP ${res.status} ${JSON.stringify(body)}`);
        return ms;
      };
      await once(slots.pop()!);
      const samples: number[] = [];
      for (const slot of slots) samples.push(await once(slot));
      ctx.log(`  refusals: ${samples.map((s) => s.toFixed(1)).join(', ')} ms`);
      return {
        unit: 'ms',
        better: 'lower',
        ferry: { label: 'GET …&image_type=2 of a freshly uploaded bomb → 60020', value: median(samples), stat: 'median', samples },
        peer: null,
        target: { kind: 'below', value: 50 },
        notes: [`valid 1-bit PNG, ${fs.statSync(file).size} bytes on disk, 2.5 gigapixels decoded; refused from its header`],
      };
    } finally {
      await ferry.stop();
    }
  },
};
