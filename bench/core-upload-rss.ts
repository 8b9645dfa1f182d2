// Core (d): Ferry's peak resident memory while 20 clients each PUT a 100 MiB file at once.
// Uploads must stream with backpressure, so memory stays flat however large or many the files.
// The clients are curl processes reading from disk, so the harness holds none of the bytes.
// Target: peak RSS < 200 MB (absolute; the issue names no peer).
import path from 'node:path';
import { makeRandomFile } from './lib/curl.ts';
import { createUser, startFerry } from './lib/ferry.ts';
import { needLinuxProc, needTool } from './lib/needs.ts';
import { uploadRssRound } from './lib/upload-rss-round.ts';
import type { Comparison } from './lib/types.ts';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
const CLIENTS = 20;
/** MB = 10^6 bytes, as rss.ts reports them */
const LIMIT_MB = 200;

export const uploadRss: Comparison = {
  id: 'core-upload-rss',
  title: `(d) peak RSS, ${CLIENTS} concurrent 100 MiB uploads`,
  needs: [needTool('curl', 'curl'), needLinuxProc],
  async run(ctx) {
    const file = path.join(ctx.tmpDir, 'upload-100m.bin');
    makeRandomFile(file, SIZE);
    // Ferry's defaults: a 100 MiB chat file is exactly at the file_type 100 limit. All 20 come
    // from one user, above the default 10 uploads in flight per user (FERRY_UPLOADS_PER_USER).
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: { FERRY_UPLOADS_PER_USER: String(CLIENTS) } });
    try {
      const user = await createUser(ferry);
      const peaks: number[] = [];
      const details: Record<string, unknown>[] = [];
      // Memory is not a rate: fewer repetitions say as much, and each one writes 2 GiB.
      const reps = Math.min(ctx.opts.reps, 3);
      for (let rep = 1; rep <= reps; rep++) {
        const round = await uploadRssRound(ferry, user, file, CLIENTS);
        const { peak, idleMB, seconds } = round;
        peaks.push(peak);
        details.push({ rep, ...round });
        ctx.log(
          `  rep ${rep}: peak ${peak.toFixed(1)} MB (idle ${idleMB?.toFixed(1)} MB, sampled ${round.peakSampledMB.toFixed(1)}, VmHWM ${round.vmHwmMB?.toFixed(1)}), ` +
            `${((CLIENTS * SIZE) / MiB / seconds).toFixed(0)} MiB/s aggregate`,
        );
      }
      return {
        unit: 'MB',
        better: 'lower',
        ferry: { label: `peak RSS (VmHWM, 50 ms samples) of the Ferry process`, value: Math.max(...peaks), stat: 'max', samples: peaks },
        peer: null,
        target: { kind: 'below', value: LIMIT_MB },
        notes: [`${CLIENTS} × curl -T of a 100 MiB file at once, ${reps} rounds; the table shows the highest round's peak`],
        details: { rounds: details },
      };
    } finally {
      await ferry.stop();
    }
  },
};
