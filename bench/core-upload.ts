// Core (c): one 256 MiB file uploaded by raw PUT (curl -T, from a file on disk) to a Ferry
// upload_url and to nginx's WebDAV PUT, one after the other, reps times each. Throughput is
// size ÷ curl's wall time. Target: Ferry ≥ 0.7 of nginx's throughput.
// Ferry fsyncs an upload before it answers and nginx does not, so the notes add a second,
// "durable" figure for both: curl's time plus a `sync` right after it.
//
// (c-cores) is the same upload with nothing pinned: one Ferry process and one nginx worker may
// each use both cores, and curl shares them. It shows what hashing on a thread of its own (issue
// 12 item 3) gives a machine with a core to spare; pinned to one core, Ferry hashes in place.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { curlPut, makeRandomFile } from './lib/curl.ts';
import { chatSlot, createUser, isUploadAccepted, startFerry } from './lib/ferry.ts';
import { needNginxDav, needTool } from './lib/needs.ts';
import { startNginx, type RunningNginx } from './lib/nginx.ts';
import { interleaved, median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import type { Pin } from './lib/proc.ts';
import { threadCpuMs } from './lib/thread-cpu.ts';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;

/**
 * Dirty pages of the previous upload must not be flushed on the next one's time: sync before
 * every upload, on both sides alike.
 */
const settleDisk = () => spawnSync('sync');

/** seconds a `sync` takes: what was still not on disk when the server answered */
function timeToDisk(): number {
  const t0 = performance.now();
  settleDisk();
  return (performance.now() - t0) / 1000;
}

interface Sample {
  mibs: number;
  durableMibs: number;
  /** CPU of Ferry's event-loop thread during the upload (Ferry only) */
  loopCpuMs?: number;
}

export const upload256m = uploadComparison('core-upload', '(c) 256 MiB upload (PUT) vs nginx WebDAV PUT', {});
export const upload256mAllCores = uploadComparison('core-upload-cores', '(c-cores) 256 MiB upload (PUT) vs nginx WebDAV PUT, nothing pinned', {
  server: 'all',
  client: 'all',
});

function uploadComparison(id: string, title: string, pins: { server?: Pin; client?: Pin }): Comparison {
  return {
  id,
  title,
  needs: [needTool('curl', 'curl'), needNginxDav],
  async run(ctx) {
    const file = path.join(ctx.tmpDir, 'upload-256m.bin');
    makeRandomFile(file, SIZE);
    const dav = path.join(ctx.tmpDir, 'dav');
    fs.mkdirSync(dav);
    // A 256 MiB chat file is above Ferry's 100 MiB default for file_type 100; the limit is the
    // operator's choice, the streaming path is what is measured.
    const ferry = await startFerry({ dataDir: path.join(ctx.tmpDir, 'ferry'), nodeArgs: ctx.ferryNodeArgs, env: { FERRY_MAX_FILE_SIZE: '512M' }, pin: pins.server });
    let nginx: RunningNginx | null = null;
    try {
      const nginxDir = path.join(ctx.tmpDir, 'nginx');
      fs.mkdirSync(nginxDir);
      nginx = await startNginx(
        nginxDir,
        `    location /dav/ {
      root ${ctx.tmpDir};
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 0;
    }`,
        { pin: pins.server },
      );
      const davUrl = `${nginx.url}/dav`;
      const user = await createUser(ferry);
      let n = 0;
      let m = 0;
      const toFerry = async () => {
        const slot = await chatSlot(ferry, user);
        settleDisk();
        const cpu0 = threadCpuMs(ferry.pid);
        const r = await curlPut(slot.upload_url, file, pins.client);
        const loopCpuMs = threadCpuMs(ferry.pid) - cpu0;
        if (!isUploadAccepted(r.status, r.body)) throw new Error(`Ferry refused the upload: HTTP ${r.status} ${r.body}`);
        const flush = timeToDisk();
        const mibs = SIZE / MiB / r.seconds;
        ctx.log(`  ferry upload ${++n}: ${r.seconds.toFixed(2)} s, ${mibs.toFixed(0)} MiB/s (then sync ${flush.toFixed(2)} s), event loop ${loopCpuMs} ms CPU`);
        return { mibs, durableMibs: SIZE / MiB / (r.seconds + flush), loopCpuMs };
      };
      // Each PUT goes to a new name and stays, as each of Ferry's uploads is a new file that stays.
      // Removing and rewriting one name would hand nginx the page-cache pages its last upload
      // freed, while Ferry's writes take other ones; on a VM whose idle memory goes back to the
      // host, those can cost a host page fault each (here 256 MiB into the page cache took about
      // 0.6 s into such pages, 0.06 s into pages just freed, in 3 runs of 6 after a sync).
      const toNginx = async () => {
        const name = `upload-${++m}.bin`;
        const target = path.join(dav, name);
        settleDisk();
        const r = await curlPut(`${davUrl}/${name}`, file, pins.client);
        if (r.status !== 201 && r.status !== 204) throw new Error(`nginx refused the PUT: HTTP ${r.status} ${r.body}`);
        if (fs.statSync(target).size !== SIZE) throw new Error('nginx stored a file of the wrong size');
        const flush = timeToDisk();
        const mibs = SIZE / MiB / r.seconds;
        ctx.log(`  nginx upload: ${r.seconds.toFixed(2)} s, ${mibs.toFixed(0)} MiB/s (then sync ${flush.toFixed(2)} s)`);
        return { mibs, durableMibs: SIZE / MiB / (r.seconds + flush) };
      };
      // The first upload into a fresh process is slower (JIT, first allocations): warm both up.
      const warmFile = path.join(ctx.tmpDir, 'warm-32m.bin');
      makeRandomFile(warmFile, 32 * MiB);
      ctx.log('  warm-up: one 32 MiB upload each');
      const warm = await curlPut((await chatSlot(ferry, user)).upload_url, warmFile, pins.client);
      if (!isUploadAccepted(warm.status, warm.body)) throw new Error(`Ferry refused the warm-up upload: HTTP ${warm.status} ${warm.body}`);
      await curlPut(`${nginx.url}/dav/warm.bin`, warmFile, pins.client);
      const { a, b } = await interleaved<Sample>(ctx.opts.reps, toFerry, toNginx);
      const fr = a.map((x) => x.mibs);
      const pr = b.map((x) => x.mibs);
      const fd = a.map((x) => x.durableMibs);
      const pd = b.map((x) => x.durableMibs);
      const loops = a.map((x) => x.loopCpuMs ?? 0);
      return {
        unit: 'MiB/s',
        better: 'higher',
        ferry: { label: 'curl -T to upload_url (file_type 100)', value: median(fr), stat: 'median', samples: fr },
        peer: { name: 'nginx WebDAV PUT (1 worker)', label: 'curl -T to /dav/upload-N.bin, a new name each time', value: median(pr), stat: 'median', samples: pr },
        target: { kind: 'ratio-at-least', value: 0.7 },
        notes: [
          ...(pins.server === 'all' ? ['nothing pinned: Ferry (one process, its hashing thread) and nginx (one worker) may use both cores; curl shares them'] : []),
          'sync before every upload on both sides',
          'Ferry fsyncs each upload before answering (durable ack); nginx WebDAV does not fsync',
          `durable (curl time + sync after): Ferry ${median(fd).toFixed(0)} MiB/s, nginx ${median(pd).toFixed(0)} MiB/s, ratio ${(median(fd) / median(pd)).toFixed(2)}`,
          `Ferry's event-loop thread used ${median(loops)} ms of CPU per upload (median; hashing ${pins.server === 'all' ? 'on its own thread' : 'in place: one core'})`,
          'Ferry runs with FERRY_MAX_FILE_SIZE=512M (default 100 MiB for file_type 100)',
        ],
        details: { durableMiBs: { ferry: fd, nginx: pd }, ferryEventLoopCpuMs: loops },
      };
    } finally {
      await nginx?.stop();
      await ferry.stop();
    }
  },
};
}
