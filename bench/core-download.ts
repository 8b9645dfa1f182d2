// Core (b): a 16 KiB chat file downloaded through Ferry — token verified and file_sign checked
// on every request, the URL exactly as clients build it (download_url + "&access-token=…&app_id=…")
// — against nginx serving the same bytes as a static file. Target: ≥ 0.5 of nginx's requests/s.
import fs from 'node:fs';
import path from 'node:path';
import { chatSlot, createUser, downloadUrlWithCreds, isUploadAccepted, startFerry } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { startNginx, type RunningNginx } from './lib/nginx.ts';
import { median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import { wrkNotes, wrkPair } from './lib/wrk.ts';
import { randomBytes } from 'node:crypto';

const SIZE = 16 * 1024;

async function expectBytes(url: string, want: Buffer, who: string): Promise<void> {
  const res = await fetch(url);
  const got = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200 || !got.equals(want)) {
    throw new Error(`${who} did not serve the file: HTTP ${res.status}, ${got.length} bytes: ${got.subarray(0, 200).toString('utf8')}`);
  }
}

export const download16k: Comparison = {
  id: 'core-download',
  title: '(b) 16 KiB chat file download vs nginx static',
  needs: [needTool('wrk', 'wrk'), needTool('nginx', 'nginx-light')],
  async run(ctx) {
    const bytes = randomBytes(SIZE);
    const www = path.join(ctx.tmpDir, 'www');
    fs.mkdirSync(www);
    fs.writeFileSync(path.join(www, 'chat.bin'), bytes);

    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs });
    let nginx: RunningNginx | null = null;
    try {
      const nginxDir = path.join(ctx.tmpDir, 'nginx');
      fs.mkdirSync(nginxDir);
      nginx = await startNginx(nginxDir, `    location / { root ${www}; }`);
      const user = await createUser(ferry);
      const slot = await chatSlot(ferry, user);
      const put = await fetch(slot.upload_url, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });
      const answer = await put.text();
      if (!isUploadAccepted(put.status, answer)) throw new Error(`Ferry refused the 16 KiB upload: HTTP ${put.status} ${answer}`);
      const ferryUrl = downloadUrlWithCreds(slot, user);
      const nginxUrl = `${nginx.url}/chat.bin`;
      await expectBytes(ferryUrl, bytes, 'Ferry');
      await expectBytes(nginxUrl, bytes, 'nginx');
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, ferryUrl, nginxUrl);
      await expectBytes(ferryUrl, bytes, 'Ferry');
      const fr = f.map((r) => r.requestsPerSec);
      const pr = p.map((r) => r.requestsPerSec);
      return {
        unit: 'req/s',
        better: 'higher',
        ferry: { label: 'GET download_url&access-token&app_id', value: median(fr), stat: 'median', samples: fr },
        peer: { name: 'nginx (1 worker, sendfile)', label: 'GET /chat.bin', value: median(pr), stat: 'median', samples: pr },
        target: { kind: 'ratio-at-least', value: 0.5 },
        notes: [
          `wrk -t${ctx.opts.threads} -c${ctx.opts.connections} -d${ctx.opts.durationS}s on both`,
          ...wrkNotes('ferry', f),
          ...wrkNotes('nginx', p),
        ],
      };
    } finally {
      await nginx?.stop();
      await ferry.stop();
    }
  },
};
