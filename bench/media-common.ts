// What the media comparisons share: media made on the spot (sharp, ffmpeg), uploads through a
// real slot, and timing one request or one command from start to last byte.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { chatSlot, downloadUrlWithCreds, isUploadAccepted, type BenchUser, type RunningFerry, type Slot } from './lib/ferry.ts';
import { run } from './lib/proc.ts';

/** A photo-like JPEG (smooth gradients plus noise, so it compresses like a real photo). */
export async function photoJpeg(file: string, width: number, height: number): Promise<void> {
  const noise = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .blur(2)
    .raw()
    .toBuffer();
  await sharp(noise, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toFile(file);
}

export async function makeVoice(file: string, seconds: number): Promise<void> {
  const r = await run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, '-ar', '8000', '-ac', '1', '-c:a', 'libopencore_amrnb', '-b:a', '12.2k', file]);
  if (r.code !== 0) throw new Error(`ffmpeg could not make the AMR file: ${r.stderr}`);
}

/**
 * Every media comparison runs Ferry with FERRY_DOWNLOAD=stream: they time the derivative (or the
 * original) in the answer. In redirect mode, the default, wrk would time only a 302 and fetch a
 * 302 plus the blob request.
 */
export const STREAMING: Record<string, string> = { FERRY_DOWNLOAD: 'stream' };

export async function upload(ferry: RunningFerry, user: BenchUser, fileType: number, file: string): Promise<Slot> {
  const slot = await chatSlot(ferry, user, '1002', fileType);
  const res = await fetch(slot.upload_url, { method: 'PUT', body: new Uint8Array(fs.readFileSync(file)), headers: { 'content-type': 'application/octet-stream' } });
  const body = await res.text();
  if (!isUploadAccepted(res.status, body)) throw new Error(`Ferry refused the upload: HTTP ${res.status} ${body}`);
  return slot;
}

/** ms from sending the request to the last byte; throws unless the answer has wantType. */
export async function timedGet(url: string, wantType: string): Promise<{ ms: number; bytes: Buffer }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const bytes = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  const type = res.headers.get('content-type') ?? '';
  if (res.status !== 200 || !type.startsWith(wantType)) throw new Error(`expected ${wantType}, got HTTP ${res.status} ${type}: ${bytes.subarray(0, 200).toString('utf8')}`);
  return { ms, bytes };
}

export async function timedRun(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await run(cmd, args, { pin: 'server' });
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(0, 500)}`);
  return ms;
}

export const mediaUrl = (slot: Slot, user: BenchUser, extra: string) => `${downloadUrlWithCreds(slot, user)}${extra}`;
