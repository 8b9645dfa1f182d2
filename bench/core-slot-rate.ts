// Core (a): how many upload slots Ferry hands out per second — `GET /file/upload/chat` with
// query credentials, each answer a fresh signed slot capability (no database write) and a signed download_url — against a bare
// node:http hello world on the same node binary. Target: ≥ 0.5 of the hello world's rate.
import { chatSlotUrl, createUser, startFerry } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { startHello, type RunningHello } from './lib/hello.ts';
import { median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import { wrkNotes, wrkPair } from './lib/wrk.ts';
import path from 'node:path';

async function expectSlot(url: string): Promise<void> {
  const res = await fetch(url);
  const body = (await res.json()) as { code?: number; data?: { upload_url?: string } };
  if (res.status !== 200 || body.code !== 200 || typeof body.data?.upload_url !== 'string') {
    throw new Error(`Ferry did not hand out a slot: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
}

export const slotRate: Comparison = {
  id: 'core-slot-rate',
  title: '(a) GET /file/upload/chat vs node:http hello world',
  needs: [needTool('wrk', 'wrk')],
  async run(ctx) {
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs });
    let hello: RunningHello | null = null;
    try {
      hello = await startHello();
      const user = await createUser(ferry);
      const url = chatSlotUrl(ferry, user);
      // A fast error envelope must not pass for a fast slot: check before and after the load.
      await expectSlot(url);
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, url, hello.url);
      await expectSlot(url);
      const fr = f.map((r) => r.requestsPerSec);
      const pr = p.map((r) => r.requestsPerSec);
      return {
        unit: 'req/s',
        better: 'higher',
        ferry: { label: 'GET /file/upload/chat (query creds, new slot each)', value: median(fr), stat: 'median', samples: fr },
        peer: { name: 'node:http hello world', label: 'GET /', value: median(pr), stat: 'median', samples: pr },
        target: { kind: 'ratio-at-least', value: 0.5 },
        notes: [
          `wrk -t${ctx.opts.threads} -c${ctx.opts.connections} -d${ctx.opts.durationS}s on both`,
          ...wrkNotes('ferry', f),
          ...wrkNotes('hello world', p),
        ],
      };
    } finally {
      await hello?.stop();
      await ferry.stop();
    }
  },
};
