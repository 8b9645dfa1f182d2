// What clients show before they download: an image's width and height, a voice or video's
// duration. Probed once at upload from the stored object through ranged reads, so a 500 MB
// video costs a few small reads (its MP4 header boxes), never a full pass over the bytes.
// Probing is best effort: an upload never fails because its media could not be measured.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ByteStore } from '../bytes/byte-store.ts';
import type { MediaTools } from './tools.ts';
import { readImageHeader } from './images.ts';
import { amrDurationMs } from './amr.ts';
import { demuxerFor, probeMedia } from './ffmpeg.ts';

export interface MediaInfo {
  width: number | null;
  height: number | null;
  durationMs: number | null;
}

const RASTER_IMAGES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/heic', 'image/heif']);
const NONE: MediaInfo = { width: null, height: null, durationMs: null };
const IMAGE_HEAD = 512 * 1024;
/** Voice files are small (10 MiB limit): read whole. */
const MAX_WHOLE = 16 * 1024 * 1024;
/** A moov box bigger than this (hours of video) is not worth holding in memory to probe. */
const MAX_MOOV = 32 * 1024 * 1024;
const WEBM_HEAD = 4 * 1024 * 1024;

async function readRange(bytes: ByteStore, key: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await bytes.read(key, { start, end })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function probeStoredMedia(tools: MediaTools, bytes: ByteStore, key: string, size: number, contentType: string): Promise<MediaInfo> {
  if (RASTER_IMAGES.has(contentType)) {
    const h = await readImageHeader(await readRange(bytes, key, 0, Math.min(size, IMAGE_HEAD) - 1));
    return { width: h.displayWidth, height: h.displayHeight, durationMs: null };
  }
  if (contentType === 'audio/amr') {
    if (size > MAX_WHOLE) return NONE;
    return { ...NONE, durationMs: amrDurationMs(await readRange(bytes, key, 0, size - 1)) };
  }
  const demuxer = demuxerFor(contentType);
  if (!demuxer) return NONE;
  let probeBytes: Buffer | null;
  if (contentType === 'audio/mpeg') probeBytes = size > MAX_WHOLE ? null : await readRange(bytes, key, 0, size - 1);
  else if (demuxer === 'mov') probeBytes = await mp4Header(bytes, key, size);
  else probeBytes = await readRange(bytes, key, 0, Math.min(size, WEBM_HEAD) - 1);
  if (!probeBytes) return NONE;
  const work = await tools.workdir();
  try {
    const file = path.join(work.dir, 'probe');
    await fsp.writeFile(file, probeBytes);
    const p = await tools.queue.run(() => probeMedia(file, contentType, tools.config.ffmpegTimeoutMs));
    // Without the first frame ffprobe cannot size some codecs (MPEG-4 Part 2 in 3GP); the
    // track header still says how big the picture is.
    const size = p.width && p.height ? { width: p.width, height: p.height } : demuxer === 'mov' ? trackSize(probeBytes) : null;
    return { width: size?.width ?? null, height: size?.height ?? null, durationMs: p.durationMs };
  } finally {
    await work.cleanup();
  }
}

/**
 * The ftyp and moov boxes of an MP4/MOV/3GP, wherever moov sits (phones often write it after
 * the media data): together they are a file ffprobe reads duration and size from.
 */
async function mp4Header(bytes: ByteStore, key: string, size: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let pos = 0;
  for (let boxes = 0; boxes < 64 && pos + 8 <= size; boxes++) {
    const head = await readRange(bytes, key, pos, Math.min(size, pos + 16) - 1);
    let boxSize = head.readUInt32BE(0);
    const type = head.subarray(4, 8).toString('latin1');
    if (boxSize === 1 && head.length >= 16) boxSize = Number(head.readBigUInt64BE(8));
    else if (boxSize === 0) boxSize = size - pos;
    if (boxSize < 8 || pos + boxSize > size) return null;
    if (type === 'ftyp' || type === 'moov') {
      if (boxSize > MAX_MOOV) return null;
      parts.push(await readRange(bytes, key, pos, pos + boxSize - 1));
      if (type === 'moov') return Buffer.concat(parts);
    }
    pos += boxSize;
  }
  return null;
}

/** Width and height from the first track header (tkhd) that has a picture size. */
function trackSize(header: Buffer): { width: number; height: number } | null {
  for (let at = header.indexOf('tkhd'); at >= 4; at = header.indexOf('tkhd', at + 4)) {
    const start = at - 4;
    const boxSize = header.readUInt32BE(start);
    if (boxSize < 84 || start + boxSize > header.length) continue;
    // The last two fields of tkhd, 16.16 fixed point.
    const width = header.readUInt32BE(start + boxSize - 8) >>> 16;
    const height = header.readUInt32BE(start + boxSize - 4) >>> 16;
    if (width > 0 && height > 0) return { width, height };
  }
  return null;
}
