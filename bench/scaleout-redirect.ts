// Scale-out (b): GET download_url answered with a 302 to a presigned URL on RGW — token
// verified, file_sign checked, membership looked up in PostgreSQL and the URL signed, on every
// request — against a bare node:http hello-world on the same machine. wrk does not follow
// redirects, so only Ferry's own answer is measured. Target: ≥ 0.4 of hello-world's req/s.
import path from 'node:path';
import { createUser, downloadUrlWithCreds, isUploadAccepted, startFerry, type Slot } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { startHello, type RunningHello } from './lib/hello.ts';
import { median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import { wrkNotes, wrkPair } from './lib/wrk.ts';
import { freshScaleOut, needScaleOutServices } from './scaleout-common.ts';

export const scaleOutRedirect: Comparison = {
  id: 'scaleout-redirect',
  title: '(b) /file/download/chat 302 to a presigned URL vs node:http hello-world',
  needs: [needTool('wrk', 'wrk'), needScaleOutServices],
  async run(ctx) {
    const fresh = await freshScaleOut();
    const { env } = fresh;
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: { ...env, FERRY_DOWNLOAD: 'redirect' } });
    let hello: RunningHello | null = null;
    try {
      hello = await startHello();
      const user = await createUser(ferry);
      // A group file: the membership check reads the database on every download.
      const group = '4242';
      await fetch(`${ferry.url}/admin/apps/${user.appId}/groups/${group}`, {
        method: 'PUT',
        headers: { 'x-admin-key': ferry.adminKey, 'content-type': 'application/json' },
        body: JSON.stringify({ owner_id: user.userId }),
      });
      const q = new URLSearchParams({ 'access-token': user.token, app_id: user.appId, file_type: '200', to_id: group, to_type: '2' });
      q.sort();
      const slotAnswer = (await (await fetch(`${ferry.url}/file/upload/chat?${q.toString()}`)).json()) as { code: number; data: Slot };
      if (slotAnswer.code !== 200) throw new Error(`group slot refused: ${JSON.stringify(slotAnswer)}`);
      const slot = slotAnswer.data;
      const up = await fetch(`${slot.upload_url}`, { method: 'PUT', body: new Uint8Array(Buffer.from('a shared file\n'.repeat(1000))), headers: { 'content-type': 'application/octet-stream' } });
      const answer = await up.text();
      if (!isUploadAccepted(up.status, answer)) throw new Error(`Ferry refused the upload: HTTP ${up.status} ${answer}`);
      const url = downloadUrlWithCreds(slot, user);
      // wrk counts any 3xx as a success: check it is the redirect to the store before and after.
      const expectRedirect = async () => {
        const check = await fetch(url, { redirect: 'manual' });
        await check.arrayBuffer();
        if (check.status !== 302 || !check.headers.get('location')?.startsWith(env.FERRY_S3_ENDPOINT!)) {
          throw new Error(`Ferry did not redirect to the store: HTTP ${check.status} ${check.headers.get('location')}`);
        }
      };
      await expectRedirect();
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, url, hello.url);
      await expectRedirect();
      const fr = f.map((r) => r.requestsPerSec);
      const pr = p.map((r) => r.requestsPerSec);
      return {
        unit: 'req/s',
        better: 'higher',
        ferry: { label: 'GET download_url&access-token&app_id → 302', value: median(fr), stat: 'median', samples: fr },
        peer: { name: 'node:http hello-world', label: 'GET /', value: median(pr), stat: 'median', samples: pr },
        target: { kind: 'ratio-at-least', value: 0.4 },
        notes: [`wrk -t${ctx.opts.threads} -c${ctx.opts.connections} -d${ctx.opts.durationS}s on both`, ...wrkNotes('ferry', f), ...wrkNotes('hello', p)],
      };
    } finally {
      await hello?.stop();
      await ferry.stop();
      await fresh.drop().catch((err: unknown) => ctx.log(`  could not drop the bench database and bucket: ${String(err)}`));
    }
  },
};
