// Core (e): one 100 MiB file streamed to curl (GET, body to /dev/null) by Ferry with
// FERRY_DOWNLOAD=stream (token, sign and access checked, then the bytes from the store) and by
// nginx with sendfile, one after the other, reps times each, ABBA. MiB/s from curl's wall time.
// Target: Ferry ≥ 0.8 of nginx. Both read the file from the page cache after the first run.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { curlGet, curlPut, makeRandomFile } from './lib/curl.ts';
import { chatSlot, createUser, downloadUrlWithCreds, isUploadAccepted, startFerry } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { startNginx, type RunningNginx } from './lib/nginx.ts';
import { interleaved, median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;

export const stream100m: Comparison = {
  id: 'core-stream',
  title: '(e) 100 MiB file streamed (GET, FERRY_DOWNLOAD=stream) vs nginx sendfile',
  needs: [needTool('curl', 'curl'), needTool('nginx', 'nginx-light')],
  async run(ctx) {
    const www = path.join(ctx.tmpDir, 'www');
    fs.mkdirSync(www);
    const file = path.join(www, 'big.bin');
    makeRandomFile(file, SIZE);
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: { FERRY_DOWNLOAD: 'stream', FERRY_MAX_FILE_SIZE: '512M' } });
    let nginx: RunningNginx | null = null;
    try {
      const nginxDir = path.join(ctx.tmpDir, 'nginx');
      fs.mkdirSync(nginxDir);
      nginx = await startNginx(nginxDir, `    location / { root ${www}; }`);
      const user = await createUser(ferry);
      const slot = await chatSlot(ferry, user);
      const put = await curlPut(slot.upload_url, file);
      if (!isUploadAccepted(put.status, put.body)) throw new Error(`Ferry refused the upload: HTTP ${put.status} ${put.body}`);
      const ferryUrl = downloadUrlWithCreds(slot, user);
      const nginxUrl = `${nginx.url}/big.bin`;
      const once = async (who: string, url: string) => {
        const r = await curlGet(url);
        if (r.status !== 200 || r.bytes !== SIZE) throw new Error(`${who} did not send the file: HTTP ${r.status}, ${r.bytes} bytes`);
        const mibs = SIZE / MiB / r.seconds;
        ctx.log(`  ${who}: ${r.seconds.toFixed(3)} s, ${mibs.toFixed(0)} MiB/s`);
        return mibs;
      };
      // Nothing of an earlier comparison still being written back competes with the runs.
      spawnSync('sync');
      await once('ferry warm-up', ferryUrl);
      await once('nginx warm-up', nginxUrl);
      const reps = Math.max(ctx.opts.reps, 9);
      const { a, b } = await interleaved(reps, () => once('ferry', ferryUrl), () => once('nginx', nginxUrl));
      return {
        unit: 'MiB/s',
        better: 'higher',
        ferry: { label: 'GET download_url&access-token&app_id, 100 MiB', value: median(a), stat: 'median', samples: a },
        peer: { name: 'nginx (1 worker, sendfile)', label: 'GET /big.bin', value: median(b), stat: 'median', samples: b },
        target: { kind: 'ratio-at-least', value: 0.8 },
        notes: [`curl -o /dev/null, ${reps} runs per side (at least 9: one run is well under a second), after one warm-up each and a sync`],
      };
    } finally {
      await nginx?.stop();
      await ferry.stop();
    }
  },
};
