// Scale-out (c): peak resident memory of a Ferry node while 20 clients each PUT a 100 MiB file
// at once, every byte streamed on into RGW. Multipart parts are buffered in memory (S3 needs a
// part's length up front), so this is the figure that says the buffers stay bounded.
// Target: peak RSS < 250 MB (absolute).
import path from 'node:path';
import { makeRandomFile } from './lib/curl.ts';
import { createUser, startFerry } from './lib/ferry.ts';
import { needLinuxProc, needTool } from './lib/needs.ts';
import { uploadRssRound } from './lib/upload-rss-round.ts';
import type { Comparison } from './lib/types.ts';
import { freshScaleOut, needScaleOutServices } from './scaleout-common.ts';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
const CLIENTS = 20;
const LIMIT_MB = 250;

export const scaleOutUploadRss: Comparison = {
  id: 'scaleout-upload-rss',
  title: `(c) peak RSS, ${CLIENTS} concurrent 100 MiB uploads into RGW`,
  needs: [needTool('curl', 'curl'), needLinuxProc, needScaleOutServices],
  async run(ctx) {
    const file = path.join(ctx.tmpDir, 'upload-100m.bin');
    makeRandomFile(file, SIZE);
    const fresh = await freshScaleOut();
    const { env } = fresh;
    // As (d) of the core group: the per-user cap on uploads at once (10 by default) would refuse half of them.
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: { ...env, FERRY_UPLOADS_PER_USER: String(CLIENTS) } });
    try {
      const user = await createUser(ferry);
      const peaks: number[] = [];
      const rounds: Record<string, unknown>[] = [];
      // Each round writes 2 GiB into a one-OSD Ceph: fewer rounds say as much about memory.
      const reps = Math.min(ctx.opts.reps, 2);
      for (let rep = 1; rep <= reps; rep++) {
        const round = await uploadRssRound(ferry, user, file, CLIENTS);
        const { peak, idleMB, seconds } = round;
        peaks.push(peak);
        rounds.push({ rep, ...round });
        ctx.log(`  rep ${rep}: peak ${peak.toFixed(1)} MB (idle ${idleMB?.toFixed(1)} MB), ${((CLIENTS * SIZE) / MiB / seconds).toFixed(0)} MiB/s aggregate`);
      }
      return {
        unit: 'MB',
        better: 'lower',
        ferry: { label: 'peak RSS (VmHWM, 50 ms samples) of the Ferry node', value: Math.max(...peaks), stat: 'max', samples: peaks },
        peer: null,
        target: { kind: 'below', value: LIMIT_MB },
        notes: [`${CLIENTS} × curl -T of a 100 MiB file at once into FERRY_STORE=s3://… on the local RGW, ${reps} rounds`],
        details: { rounds },
      };
    } finally {
      await ferry.stop();
      await fresh.drop().catch((err: unknown) => ctx.log(`  could not drop the bench database and bucket: ${String(err)}`));
    }
  },
};
