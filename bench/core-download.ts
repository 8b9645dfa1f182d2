// Core (b): a 16 KiB chat file downloaded through Ferry, the URL exactly as clients build it
// (download_url + "&access-token=…&app_id=…"), so the token is verified and the file_sign and
// access checked on every request. Ferry answers such a GET in one of two ways
// (FERRY_DOWNLOAD), and each gets its comparison:
//
//   core-download           stream: the bytes in the answer, vs nginx serving the same file
//                           statically. Target: ≥ 0.5 of nginx's requests/s.
//   core-download-redirect  redirect: the 302 to Ferry's own token-free blob URL (embedded
//                           mode: the local store cannot presign), vs a bare node:http hello
//                           world, as scale-out (b) measures its 302s. wrk does not follow
//                           redirects, so only Ferry's answer is timed. Target: ≥ 0.4.
//   core-download-blob      redirect, second leg: the same file from the blob URL the 302
//                           points to, vs nginx static. Target: ≥ 0.5 of nginx's requests/s.
//   core-download-ceiling   stream, as core-download, vs bare fastify answering the same bytes
//                           from memory (bench/lib/fastify-buffer.ts): how close Ferry comes to
//                           its framework's ceiling (issue 12 item 2). Target, our reading of
//                           "at the framework's ceiling": ≥ 0.8.
//
// Every answer is checked before and after the load (exact bytes; a 302 to a blob URL that
// serves exactly those bytes), with redirects never followed silently, since wrk counts a 302
// or a fast error envelope as a success.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chatSlot, createUser, downloadUrlWithCreds, isUploadAccepted, startFerry, type RunningFerry } from './lib/ferry.ts';
import { startHello, type RunningHello } from './lib/hello.ts';
import { startFastifyBuffer, type RunningFastify } from './lib/fastify-buffer.ts';
import { needTool } from './lib/needs.ts';
import { startNginx, type RunningNginx } from './lib/nginx.ts';
import { median } from './lib/stats.ts';
import type { BenchContext, Comparison } from './lib/types.ts';
import type { Pin } from './lib/proc.ts';
import { wrkNotes, wrkPair, type WrkResult } from './lib/wrk.ts';

const SIZE = 16 * 1024;

type DownloadMode = 'stream' | 'redirect';
type Result = Awaited<ReturnType<Comparison['run']>>;

/** Ferry in the given download mode, holding one 16 KiB chat file; url is its download_url with credentials. */
export async function ferryWithFile(
  ctx: BenchContext,
  mode: DownloadMode,
  bytes: Buffer,
  opts: { name?: string; env?: Record<string, string>; pin?: Pin } = {},
): Promise<{ ferry: RunningFerry; url: string }> {
  const ferry = await startFerry({
    dataDir: path.join(ctx.tmpDir, opts.name ?? 'ferry'),
    nodeArgs: ctx.ferryNodeArgs,
    env: { FERRY_DOWNLOAD: mode, ...opts.env },
    pin: opts.pin,
  });
  try {
    const user = await createUser(ferry);
    const slot = await chatSlot(ferry, user);
    const put = await fetch(slot.upload_url, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });
    const answer = await put.text();
    if (!isUploadAccepted(put.status, answer)) throw new Error(`Ferry refused the 16 KiB upload: HTTP ${put.status} ${answer}`);
    return { ferry, url: downloadUrlWithCreds(slot, user) };
  } catch (err) {
    await ferry.stop();
    throw err;
  }
}

/** nginx serving the same bytes as a static file. */
export async function nginxWithFile(
  ctx: BenchContext,
  bytes: Buffer,
  opts: { name?: string; workers?: number; pin?: Pin } = {},
): Promise<{ nginx: RunningNginx; url: string }> {
  const www = path.join(ctx.tmpDir, 'www');
  fs.mkdirSync(www, { recursive: true });
  fs.writeFileSync(path.join(www, 'chat.bin'), bytes);
  const nginxDir = path.join(ctx.tmpDir, opts.name ?? 'nginx');
  fs.mkdirSync(nginxDir);
  const nginx = await startNginx(nginxDir, `    location / { root ${www}; }`, { workers: opts.workers, pin: opts.pin });
  return { nginx, url: `${nginx.url}/chat.bin` };
}

/** A 200 with exactly these bytes, not reached through a redirect. */
export async function expectBytes(url: string, want: Buffer, who: string): Promise<void> {
  const res = await fetch(url, { redirect: 'manual' });
  const got = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200 || !got.equals(want)) {
    throw new Error(`${who} did not serve the file: HTTP ${res.status}, ${got.length} bytes: ${got.subarray(0, 200).toString('utf8')}`);
  }
}

/** A 302 to Ferry's own blob URL, which serves exactly these bytes; returns that URL. */
async function expectBlobRedirect(ferry: RunningFerry, url: string, want: Buffer): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  const body = await res.text();
  const location = res.headers.get('location');
  if (res.status !== 302 || !location?.startsWith(`${ferry.url}/file/blob/`)) {
    throw new Error(`Ferry did not redirect to its blob URL: HTTP ${res.status}, location ${location}: ${body.slice(0, 200)}`);
  }
  await expectBytes(location, want, 'the blob URL');
  return location;
}

function reqPerSec(
  ctx: BenchContext,
  f: WrkResult[],
  p: WrkResult[],
  sides: { ferry: string; peerName: string; peerLabel: string; peerNotes: string },
  target: number,
  notes: string[],
): Result {
  const fr = f.map((r) => r.requestsPerSec);
  const pr = p.map((r) => r.requestsPerSec);
  return {
    unit: 'req/s',
    better: 'higher',
    ferry: { label: sides.ferry, value: median(fr), stat: 'median', samples: fr },
    peer: { name: sides.peerName, label: sides.peerLabel, value: median(pr), stat: 'median', samples: pr },
    target: { kind: 'ratio-at-least', value: target },
    notes: [
      `wrk -t${ctx.opts.threads} -c${ctx.opts.connections} -d${ctx.opts.durationS}s on both`,
      ...notes,
      ...wrkNotes('ferry', f),
      ...wrkNotes(sides.peerNotes, p),
    ],
  };
}

export const download16k: Comparison = {
  id: 'core-download',
  title: '(b) 16 KiB chat file download, FERRY_DOWNLOAD=stream, vs nginx static',
  needs: [needTool('wrk', 'wrk'), needTool('nginx', 'nginx-light')],
  async run(ctx) {
    const bytes = randomBytes(SIZE);
    const { ferry, url: ferryUrl } = await ferryWithFile(ctx, 'stream', bytes);
    let nginx: RunningNginx | null = null;
    try {
      const peer = await nginxWithFile(ctx, bytes);
      nginx = peer.nginx;
      await expectBytes(ferryUrl, bytes, 'Ferry');
      await expectBytes(peer.url, bytes, 'nginx');
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, ferryUrl, peer.url);
      await expectBytes(ferryUrl, bytes, 'Ferry');
      await expectBytes(peer.url, bytes, 'nginx');
      return reqPerSec(
        ctx,
        f,
        p,
        { ferry: 'GET download_url&access-token&app_id → 200, the bytes', peerName: 'nginx (1 worker, sendfile)', peerLabel: 'GET /chat.bin', peerNotes: 'nginx' },
        0.5,
        ['Ferry with FERRY_DOWNLOAD=stream'],
      );
    } finally {
      await nginx?.stop();
      await ferry.stop();
    }
  },
};

export const downloadCeiling: Comparison = {
  id: 'core-download-ceiling',
  title: '(b-ceiling) 16 KiB chat file download, FERRY_DOWNLOAD=stream, vs bare fastify from memory',
  needs: [needTool('wrk', 'wrk')],
  async run(ctx) {
    const bytes = randomBytes(SIZE);
    const file = path.join(ctx.tmpDir, 'ceiling.bin');
    fs.writeFileSync(file, bytes);
    const { ferry, url: ferryUrl } = await ferryWithFile(ctx, 'stream', bytes);
    let peer: RunningFastify | null = null;
    try {
      peer = await startFastifyBuffer(file);
      for (const [who, url] of [['Ferry', ferryUrl], ['fastify', peer.url]] as const) await expectBytes(url, bytes, who);
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, ferryUrl, peer.url);
      for (const [who, url] of [['Ferry', ferryUrl], ['fastify', peer.url]] as const) await expectBytes(url, bytes, who);
      return reqPerSec(
        ctx,
        f,
        p,
        { ferry: 'GET download_url&access-token&app_id → 200, the bytes', peerName: 'fastify, no hooks (same flags)', peerLabel: 'GET /chat.bin → the bytes from memory', peerNotes: 'fastify' },
        0.8,
        ['Ferry with FERRY_DOWNLOAD=stream', 'the peer: fastify from node_modules, logger off, one route, the 16 KiB read into memory at start'],
      );
    } finally {
      await peer?.stop();
      await ferry.stop();
    }
  },
};

export const downloadRedirect: Comparison = {
  id: 'core-download-redirect',
  title: '(b-redirect) 16 KiB chat file, FERRY_DOWNLOAD=redirect: the 302 vs node:http hello world',
  needs: [needTool('wrk', 'wrk')],
  async run(ctx) {
    const bytes = randomBytes(SIZE);
    const { ferry, url } = await ferryWithFile(ctx, 'redirect', bytes);
    let hello: RunningHello | null = null;
    try {
      hello = await startHello();
      const before = await expectBlobRedirect(ferry, url, bytes);
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, url, hello.url);
      const after = await expectBlobRedirect(ferry, url, bytes);
      return reqPerSec(
        ctx,
        f,
        p,
        { ferry: 'GET download_url&access-token&app_id → 302 to /file/blob/…', peerName: 'node:http hello world', peerLabel: 'GET /', peerNotes: 'hello world' },
        0.4,
        [
          'Ferry with FERRY_DOWNLOAD=redirect on the local store: the Location is its own signed blob URL; wrk does not follow it',
          `the same Location before and after the load: ${before === after ? 'yes' : 'no (a new reuse window began)'}`,
        ],
      );
    } finally {
      await hello?.stop();
      await ferry.stop();
    }
  },
};

export const downloadBlob: Comparison = {
  id: 'core-download-blob',
  title: '(b-blob) 16 KiB chat file from the blob URL a redirect points to vs nginx static',
  needs: [needTool('wrk', 'wrk'), needTool('nginx', 'nginx-light')],
  async run(ctx) {
    const bytes = randomBytes(SIZE);
    const { ferry, url } = await ferryWithFile(ctx, 'redirect', bytes);
    let nginx: RunningNginx | null = null;
    try {
      const peer = await nginxWithFile(ctx, bytes);
      nginx = peer.nginx;
      // The URL a client lands on after following the 302; expectBlobRedirect checks its bytes.
      const blobUrl = await expectBlobRedirect(ferry, url, bytes);
      await expectBytes(peer.url, bytes, 'nginx');
      const { ferry: f, peer: p } = await wrkPair(ctx.opts, ctx.log, blobUrl, peer.url);
      await expectBytes(blobUrl, bytes, 'the blob URL');
      await expectBytes(peer.url, bytes, 'nginx');
      return reqPerSec(
        ctx,
        f,
        p,
        { ferry: 'GET /file/blob/<capability>/<name> → 200, the bytes', peerName: 'nginx (1 worker, sendfile)', peerLabel: 'GET /chat.bin', peerNotes: 'nginx' },
        0.5,
        ['Ferry with FERRY_DOWNLOAD=redirect; the blob URL is the Location of a GET of the download_url (no token, the capability alone is checked)'],
      );
    } finally {
      await nginx?.stop();
      await ferry.stop();
    }
  },
};
