// Scale-out (a): one 256 MiB file uploaded through Ferry into the bucket (curl -T to the slot's
// upload_url; Ferry streams it on as a multipart upload) against the same file uploaded straight
// to RGW with the AWS SDK (@aws-sdk/lib-storage, its defaults), one after the other, reps times
// each. Throughput is size ÷ wall time until the upload is acknowledged. Target: ≥ 0.8.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Upload } from '@aws-sdk/lib-storage';
import { curlPut, makeRandomFile } from './lib/curl.ts';
import { chatSlot, createUser, isUploadAccepted, startFerry } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { interleaved, median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import { freshScaleOut, needScaleOutServices, s3Client } from './scaleout-common.ts';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;

export const scaleOutUpload: Comparison = {
  id: 'scaleout-upload',
  title: '(a) 256 MiB upload through Ferry into RGW vs straight to RGW (AWS SDK)',
  needs: [needTool('curl', 'curl'), needScaleOutServices],
  async run(ctx) {
    const file = path.join(ctx.tmpDir, 'upload-256m.bin');
    makeRandomFile(file, SIZE);
    const fresh = await freshScaleOut();
    const { env, bucket } = fresh;
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: { ...env, FERRY_MAX_FILE_SIZE: '512M' } });
    const s3 = s3Client();
    try {
      const user = await createUser(ferry);
      let n = 0;
      const { a, b } = await interleaved(
        ctx.opts.reps,
        async () => {
          const slot = await chatSlot(ferry, user);
          const r = await curlPut(slot.upload_url, file);
          if (!isUploadAccepted(r.status, r.body)) throw new Error(`Ferry refused the upload: HTTP ${r.status} ${r.body}`);
          const mibs = SIZE / MiB / r.seconds;
          ctx.log(`  ferry upload ${++n}: ${r.seconds.toFixed(2)} s, ${mibs.toFixed(0)} MiB/s`);
          return mibs;
        },
        async () => {
          const t0 = performance.now();
          await new Upload({ client: s3, params: { Bucket: bucket, Key: `direct/${n}`, Body: fs.createReadStream(file), ContentType: 'application/octet-stream' } }).done();
          const seconds = (performance.now() - t0) / 1000;
          const mibs = SIZE / MiB / seconds;
          ctx.log(`  sdk upload: ${seconds.toFixed(2)} s, ${mibs.toFixed(0)} MiB/s`);
          return mibs;
        },
      );
      return {
        unit: 'MiB/s',
        better: 'higher',
        ferry: { label: 'PUT upload_url (curl -T) → Ferry → RGW multipart', value: median(a), stat: 'median', samples: a },
        peer: { name: 'AWS SDK lib-storage → RGW', label: 'Upload().done() from the same file', value: median(b), stat: 'median', samples: b },
        target: { kind: 'ratio-at-least', value: 0.8 },
        notes: [
          'one RGW (beast) + one BlueStore OSD on a sparse file, all on this machine: RGW and Ceph share the 2 cores with Ferry',
          'Ferry: 8 MiB parts spooled to scratch files, 2 in flight (memory stays flat); SDK peer: its defaults (5 MiB parts held in memory, 4 in flight), run inside the harness',
        ],
      };
    } finally {
      s3.destroy();
      await ferry.stop();
      await fresh.drop().catch((err: unknown) => ctx.log(`  could not drop the bench database and bucket: ${String(err)}`));
    }
  },
};
