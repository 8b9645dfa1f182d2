// Media the tests make themselves (sharp-drawn images with EXIF orientation and GPS, ffmpeg's
// testsrc and sine), and the upload/download round trip a client does with them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { api, chatSlot, postMultipart, withCreds, type Creds, type Slot } from './client.ts';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-media-'));
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Two colour halves, so a test can tell which way up the result is. Opaque RGB. */
export async function halves(width: number, height: number, left = '#ff0000', right = '#0000ff'): Promise<Sharp> {
  const half = Math.floor(width / 2);
  const right$ = await sharp({ create: { width: width - half, height, channels: 3, background: right } }).png().toBuffer();
  const composed = await sharp({ create: { width, height, channels: 3, background: left } })
    .composite([{ input: right$, left: half, top: 0 }])
    .removeAlpha()
    .png()
    .toBuffer();
  return sharp(composed);
}

/** A JPEG with an EXIF orientation and a GPS position, as phones write them. */
export async function jpegWithExif(width: number, height: number, orientation = 1): Promise<Buffer> {
  const img = await halves(width, height);
  return img
    .jpeg({ quality: 90 })
    .withMetadata({ orientation })
    .withExifMerge({
      IFD0: { Make: 'FerryPhone' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2411/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4000/100' },
    })
    .toBuffer();
}

export async function pngWithAlpha(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 128, b: 0, alpha: 0.5 } } }).png().toBuffer();
}

/** An animation of frames frames, each width×height, in gif or webp. */
export async function animation(format: 'gif' | 'webp', width: number, height: number, frames: number): Promise<Buffer> {
  const one = (i: number) => sharp({ create: { width, height, channels: 3, background: { r: (i * 37) % 256, g: 80, b: 200 } } }).png().toBuffer();
  const all = await Promise.all(Array.from({ length: frames }, (_, i) => one(i)));
  const anim = sharp(all, { join: { animated: true } });
  return format === 'gif' ? anim.gif().toBuffer() : anim.webp({ quality: 50 }).toBuffer();
}

export async function plainImage(format: 'png' | 'webp' | 'avif', width: number, height: number): Promise<Buffer> {
  const img = await halves(width, height);
  return format === 'png' ? img.png().toBuffer() : format === 'webp' ? img.webp().toBuffer() : img.avif({ effort: 0 }).toBuffer();
}

/** An iPhone-style HEIC (HEVC in HEIF), made with libheif's heif-enc. */
export async function heic(width: number, height: number): Promise<Buffer> {
  const dir = tmpDir();
  try {
    await (await halves(width, height)).png().toFile(path.join(dir, 'in.png'));
    run('heif-enc', ['-q', '60', path.join(dir, 'in.png'), '-o', path.join(dir, 'out.heic')]);
    return fs.readFileSync(path.join(dir, 'out.heic'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export type VideoContainer = 'mp4' | 'mov' | 'webm' | '3gp';

/**
 * testsrc video; with blackFirstSeconds the video opens on black first (a fade-in), so a cover
 * taken from the first frame would be black. rotate90 stores it as a phone stores portrait
 * video: landscape pixels plus a quarter-turn matrix. faststart puts the header (moov) first.
 */
export function video(
  container: VideoContainer,
  opts: { width?: number; height?: number; seconds?: number; blackFirstSeconds?: number; rotate90?: boolean; faststart?: boolean } = {},
): Buffer {
  const { width = 320, height = 240, seconds = 3, blackFirstSeconds = 0 } = opts;
  const dir = tmpDir();
  const out = path.join(dir, `v.${container}`);
  const codec =
    container === 'webm'
      ? ['-c:v', 'libvpx', '-b:v', '300k', '-deadline', 'realtime']
      : container === '3gp'
        ? ['-c:v', 'mpeg4', '-q:v', '5']
        : ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const size = `${width}x${height}`;
  const inputs = blackFirstSeconds > 0
    ? ['-f', 'lavfi', '-i', `color=black:size=${size}:rate=10:duration=${blackFirstSeconds}`, '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10:duration=${seconds}`, '-filter_complex', '[0][1]concat=n=2:v=1']
    : ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10:duration=${seconds}`];
  try {
    run('ffmpeg', ['-v', 'error', '-y', ...inputs, ...codec, ...(opts.faststart ? ['-movflags', '+faststart'] : []), out]);
    if (!opts.rotate90) return fs.readFileSync(out);
    const turned = path.join(dir, `r.${container}`);
    run('ffmpeg', ['-v', 'error', '-y', '-i', out, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', ...(opts.faststart ? ['-movflags', '+faststart'] : []), turned]);
    return fs.readFileSync(turned);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function voice(format: 'amr' | 'mp3', seconds: number): Buffer {
  const dir = tmpDir();
  const out = path.join(dir, `v.${format}`);
  const codec = format === 'amr' ? ['-ar', '8000', '-ac', '1', '-c:a', 'libopencore_amrnb', '-b:a', '12.2k'] : ['-ar', '22050', '-ac', '1', '-c:a', 'libmp3lame', '-b:a', '48k'];
  try {
    run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`, ...codec, out]);
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Decode audio with ffprobe: codec, sample rate and duration of the first audio stream. */
export function probeAudio(bytes: Buffer): { codec: string; sampleRate: number; durationS: number } {
  const dir = tmpDir();
  try {
    fs.writeFileSync(path.join(dir, 'a'), bytes);
    const out = execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', path.join(dir, 'a')], { encoding: 'utf8' });
    const j = JSON.parse(out) as { streams: Array<{ codec_type: string; codec_name: string; sample_rate: string }>; format: { duration: string } };
    const a = j.streams.find((s) => s.codec_type === 'audio')!;
    return { codec: a.codec_name, sampleRate: Number(a.sample_rate), durationS: Number(j.format.duration) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Upload bytes as a chat file of fileType from creds' user to toId; returns the slot. */
export async function uploadChat(base: string, creds: Creds, fileType: number, bytes: Buffer, toId = '2002', filename = 'media.bin'): Promise<Slot> {
  const slot = await chatSlot(base, creds, { file_type: fileType, to_id: toId, to_type: 1 });
  const up = await postMultipart(slot.upload_url, bytes, { filename });
  if (up.body.code !== 200) throw new Error(`upload refused: ${JSON.stringify(up.body)}`);
  return slot;
}

export async function uploadUserAvatar(base: string, creds: Creds, bytes: Buffer): Promise<Slot> {
  const r = await api<Slot>(base, '/file/upload/avatar/user', {}, creds);
  if (r.body.code !== 200) throw new Error(`avatar slot refused: ${JSON.stringify(r.body)}`);
  const up = await postMultipart(r.body.data.upload_url, bytes, { filename: 'me.jpg' });
  if (up.body.code !== 200) throw new Error(`avatar upload refused: ${JSON.stringify(up.body)}`);
  return r.body.data;
}

export interface Fetched {
  status: number;
  headers: Headers;
  body: Buffer;
  /** the envelope, when the answer was JSON */
  json: { code: number; message: string | null; data: unknown } | null;
}

/**
 * Fetch a download as a client would: a redirect to Ferry's own token-free blob URL (the default
 * FERRY_DOWNLOAD=redirect) is followed, with the same request headers; a redirect anywhere else
 * (the bucket, an external image service) is returned as it is, for the test to look at.
 */
export async function download(slot: Slot, creds: Creds, extra = '', init: RequestInit = {}): Promise<Fetched> {
  const url = withCreds(slot.download_url, creds, extra);
  let res = await fetch(url, { redirect: 'manual', ...init });
  const location = res.headers.get('location');
  if (res.status === 302 && location && new URL(location).origin === new URL(url).origin && new URL(location).pathname.startsWith('/file/blob/')) {
    await res.arrayBuffer();
    res = await fetch(location, { redirect: 'manual', ...init });
  }
  const body = Buffer.from(await res.arrayBuffer());
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: res.status, headers: res.headers, body, json: isJson ? (JSON.parse(body.toString('utf8')) as Fetched['json']) : null };
}

/** The file id inside a chat download_url's file_sign (a JWT whose payload names it). */
export function fileIdOf(slot: Slot): string {
  const sign = new URL(slot.download_url).searchParams.get('file_sign')!;
  const payload = JSON.parse(Buffer.from(sign.split('.')[1]!, 'base64url').toString('utf8')) as { fid: string };
  return payload.fid;
}

// ---- hostile media ----

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A real decompression bomb: a valid 1-bit greyscale PNG of width×height zeros, a few hundred
 * KiB on disk and width×height pixels (2.5 gigapixels at 50,000²) once decoded.
 */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const row = Math.ceil(width / 8) + 1;
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', zerosZlib(row, height)), pngChunk('IEND', Buffer.alloc(0))]);
}

/**
 * zlib data for rows×count zero bytes, built from one fully flushed block repeated (each block
 * stands alone after a full flush), so a gigabyte of zeros costs milliseconds to encode.
 */
function zerosZlib(row: number, count: number): Buffer {
  const per = Math.min(count, 1000);
  const block = zlib.deflateRawSync(Buffer.alloc(row * per), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  const parts: Buffer[] = [Buffer.from([0x78, 0xda])];
  let left = count;
  while (left >= per) {
    parts.push(block);
    left -= per;
  }
  if (left > 0) parts.push(zlib.deflateRawSync(Buffer.alloc(row * left), { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH }));
  parts.push(zlib.deflateRawSync(Buffer.alloc(0)));
  // Adler-32 of n zero bytes: a stays 1, b adds 1 per byte.
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((((row * count) % 65521) << 16) | 1) >>> 0);
  parts.push(adler);
  return Buffer.concat(parts);
}

/** A PNG whose IHDR (with a correct CRC) claims a size its pixel data does not have. */
export async function pngWithLyingHeader(claimW: number, claimH: number): Promise<Buffer> {
  const real = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#888' } }).png().toBuffer();
  const ihdr = Buffer.from(real.subarray(16, 29));
  ihdr.writeUInt32BE(claimW, 0);
  ihdr.writeUInt32BE(claimH, 4);
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), real.subarray(33)]);
}

/** A small JPEG whose frame header (SOF) claims width×height. */
export async function jpegWithLyingHeader(claimW: number, claimH: number): Promise<Buffer> {
  const jpeg = Buffer.from(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).jpeg().toBuffer());
  for (let i = 2; i < jpeg.length - 9; i++) {
    if (jpeg[i] === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2)) {
      jpeg.writeUInt16BE(claimH, i + 5);
      jpeg.writeUInt16BE(claimW, i + 7);
      return jpeg;
    }
  }
  throw new Error('no SOF marker');
}

/** A 1×1 GIF with frames frames, written by hand (tiny on disk). */
export function gifWithFrames(frames: number): Buffer {
  const head = Buffer.from('GIF89a', 'latin1');
  const screen = Buffer.from([1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff]);
  const loop = Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'latin1'), 3, 1, 0, 0, 0]);
  const frame = Buffer.from([0x21, 0xf9, 4, 0, 1, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0]);
  return Buffer.concat([head, screen, loop, ...Array.from({ length: frames }, () => frame), Buffer.from([0x3b])]);
}
