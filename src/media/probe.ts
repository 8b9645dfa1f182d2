// What clients show before they download: an image's width and height, a voice or video's
// duration. Probed once at upload from the stored object through ranged reads, so a 500 MB
// video costs a few small reads (its MP4 header boxes), never a full pass over the bytes.
// Every probe runs in the media work queue, and what it holds in memory is small and fixed
// (an image's head, a voice file under the voice limit, a few header boxes), so a burst of
// hostile uploads cannot add up to more than the queue's slots times that.
// Probing is best effort: an upload never fails because its media could not be measured (nor
// when the media queue is full: it is then stored unmeasured).
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ByteStore } from '../bytes/byte-store.ts';
import type { MediaTools } from './tools.ts';
import { readImageHeader } from './images.ts';
import { amrDurationMs } from './amr.ts';
import { demuxerFor, probeMedia } from './ffmpeg.ts';
import { readMp4Info } from './mp4-header.ts';
import { isClass } from '../content-types.ts';

export interface MediaInfo {
  width: number | null;
  height: number | null;
  durationMs: number | null;
}

const NONE: MediaInfo = { width: null, height: null, durationMs: null };
const IMAGE_HEAD = 512 * 1024;
/** Voice files are small (10 MiB limit): read whole. */
const MAX_WHOLE = 16 * 1024 * 1024;
const WEBM_HEAD = 4 * 1024 * 1024;

async function readRange(bytes: ByteStore, key: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await bytes.read(key, { start, end })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function probeStoredMedia(tools: MediaTools, bytes: ByteStore, key: string, size: number, contentType: string): Promise<MediaInfo> {
  return tools.queue.run(() => probe(tools, bytes, key, size, contentType));
}

async function probe(tools: MediaTools, bytes: ByteStore, key: string, size: number, contentType: string): Promise<MediaInfo> {
  if (size === 0) return NONE;
  if (isClass(contentType, 'image')) {
    const h = await readImageHeader(await readRange(bytes, key, 0, Math.min(size, IMAGE_HEAD) - 1));
    return { width: h.displayWidth, height: h.displayHeight, durationMs: null };
  }
  if (contentType === 'audio/amr') {
    if (size > MAX_WHOLE) return NONE;
    return { ...NONE, durationMs: amrDurationMs(await readRange(bytes, key, 0, size - 1)) };
  }
  const demuxer = demuxerFor(contentType);
  if (!demuxer) return NONE;
  if (demuxer === 'mov') {
    const read = (pos: number, len: number) => readRange(bytes, key, pos, Math.min(size, pos + len) - 1);
    return (await readMp4Info(read, size)) ?? NONE;
  }
  // MP3 and WebM: ffprobe reads a local copy of the head, streamed there (not held in memory).
  const end = contentType === 'audio/mpeg' ? (size > MAX_WHOLE ? -1 : size - 1) : Math.min(size, WEBM_HEAD) - 1;
  if (end < 0) return NONE;
  const work = await tools.workdir();
  try {
    const file = path.join(work.dir, 'probe');
    await pipeline(await bytes.read(key, { start: 0, end }), fs.createWriteStream(file));
    const p = await probeMedia(file, contentType, tools.config.ffmpegTimeoutMs);
    return { width: p.width, height: p.height, durationMs: p.durationMs };
  } finally {
    await work.cleanup();
  }
}
