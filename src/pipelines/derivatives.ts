// Download, media variants: decide what a request wants (the original, a thumbnail, a cover,
// the voice in another format, or a redirect to an external image service), and for a
// derivative: look it up, or make it once (single flight), stage it into the byte store beside
// the original, record it, and hand it to serve-file like any original.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Codes, FerryError } from '../errors.ts';
import type { DerivativeRecord } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import type { Servable } from '../http/serve-file.ts';
import type { ReadyFile } from './download.ts';
import { DEFAULT_COVER_BOX, DEFAULT_THUMBNAIL_BOX, boxFor, type Box } from '../media/box.ts';
import { checkImageLimits, readImageHeader, resizeImage, type ImageHeader } from '../media/images.ts';
import { heicToRaster } from '../media/heif.ts';
import { probeMedia, tooLargeVideo, transcodeVoice, videoCover, type VoiceFormat } from '../media/ffmpeg.ts';
import { amrDurationMs } from '../media/amr.ts';
import { imgproxySource, imgproxyUrl } from '../media/imgproxy.ts';

export interface MediaRequest {
  imageType: 1 | 2 | 3;
  w: number | undefined;
  h: number | undefined;
  format: VoiceFormat | undefined;
  thumbnailStrategy: 1 | 2;
  /** WeChat mini-programs: stream (never redirect) and play MP3 */
  miniProgram: boolean;
}

type Plan =
  | { kind: 'original' }
  | { kind: 'image'; variant: string; box: Box }
  | { kind: 'video-frame'; variant: string; box: Box }
  | { kind: 'voice'; variant: string; to: VoiceFormat };

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/heic', 'image/heif']);
const VIDEO_TYPES = new Set(['video/mp4', 'video/quicktime', 'video/3gpp', 'video/3gpp2', 'video/webm', 'video/x-matroska', 'video/x-m4v']);
const VOICE_TYPES: Record<string, VoiceFormat> = { 'audio/amr': 'amr', 'audio/mpeg': 'mp3' };
const VOICE_CONTENT_TYPES: Record<VoiceFormat, string> = { amr: 'audio/amr', mp3: 'audio/mpeg' };

function notSupported(message: string): FerryError {
  return new FerryError(Codes.NOT_SUPPORTED, message);
}

export function planFor(file: ReadyFile, m: MediaRequest): Plan {
  const ct = file.contentType;
  const voiceOf = VOICE_TYPES[ct];
  if (m.format !== undefined || (m.miniProgram && voiceOf !== undefined && m.imageType === 1)) {
    if (m.imageType !== 1) throw notSupported('format and image_type cannot be combined: format converts voice, image_type makes image previews');
    if (voiceOf === undefined) throw notSupported(`format=${m.format ?? 'mp3'} converts voice files only; this file is ${ct}`);
    // Mini-programs cannot play AMR, so with no format they get MP3.
    const to = m.format ?? 'mp3';
    return to === voiceOf ? { kind: 'original' } : { kind: 'voice', variant: to, to };
  }
  if (m.imageType === 1) return { kind: 'original' };
  const thumb = m.imageType === 2;
  const box = boxFor(m.w, m.h, thumb ? DEFAULT_THUMBNAIL_BOX : DEFAULT_COVER_BOX);
  const variant = `${thumb ? 'thumb' : 'cover'}-${box.width}x${box.height}`;
  if (IMAGE_TYPES.has(ct)) return { kind: 'image', variant, box };
  if (VIDEO_TYPES.has(ct)) return { kind: 'video-frame', variant, box };
  throw notSupported(
    thumb
      ? `image_type=2 (thumbnail) is made for images and videos only; this file is ${ct}: ask for the original`
      : `image_type=3 (cover) is made for videos and images only; this file is ${ct}: ask for the original`,
  );
}

export type Resolved = { kind: 'serve'; file: Servable } | { kind: 'redirect'; location: string };

export async function resolveMedia(s: Services, file: ReadyFile, m: MediaRequest): Promise<Resolved> {
  const plan = planFor(file, m);
  if (plan.kind === 'original') return { kind: 'serve', file };
  const imgproxy = s.config.media.imgproxy;
  if (plan.kind === 'image' && imgproxy && m.thumbnailStrategy === 1 && !m.miniProgram) {
    return { kind: 'redirect', location: imgproxyUrl(imgproxy, imgproxySource(s.config.store, file.storageKey), plan.box) };
  }
  const d = await derivative(s, file, plan);
  return { kind: 'serve', file: { storageKey: d.storageKey, size: d.size, sha256: d.sha256, contentType: d.contentType, fileName: derivedName(file.fileName, d.contentType) } };
}

export const derivativeKey = (fileId: string, variant: string) => `derived/${fileId}/${variant}`;

/**
 * Derivative records never change once written, so the hot ones are kept in memory: a cached
 * thumbnail then costs what an original download costs, with no extra metadata query.
 */
const KNOWN_MAX = 10_000;
const knownRecords = new WeakMap<Services, Map<string, DerivativeRecord>>();

function remember(s: Services, key: string, d: DerivativeRecord): DerivativeRecord {
  let known = knownRecords.get(s);
  if (!known) knownRecords.set(s, (known = new Map()));
  if (known.size >= KNOWN_MAX) known.delete(known.keys().next().value!);
  known.set(key, d);
  return d;
}

/**
 * Files are immutable, so a file found too large or damaged stays so: its verdict is kept and
 * repeated requests for it (a client retrying, or someone hammering a bomb) cost nothing.
 */
const refusals = new WeakMap<Services, Map<string, FerryError>>();
const LASTING = new Set<number>([Codes.MEDIA_TOO_LARGE, Codes.MEDIA_UNREADABLE]);

async function derivative(s: Services, file: ReadyFile, plan: Exclude<Plan, { kind: 'original' }>): Promise<DerivativeRecord> {
  const key = `${file.id}/${plan.variant}`;
  const cached = knownRecords.get(s)?.get(key);
  if (cached) return cached;
  const refusalKey = `${file.id}/${plan.kind}`;
  const refused = refusals.get(s)?.get(refusalKey);
  if (refused) throw refused;
  const known = await s.meta.getDerivative(file.id, plan.variant);
  if (known) return remember(s, key, known);
  return s.derivativeFlights.run(key, async () => {
    // Another request may have finished making it between the lookup and the flight.
    const again = await s.meta.getDerivative(file.id, plan.variant);
    try {
      return remember(s, key, again ?? (await makeDerivative(s, file, plan)));
    } catch (err) {
      if (err instanceof FerryError && LASTING.has(err.code)) rememberRefusal(s, refusalKey, err);
      throw err;
    }
  });
}

function rememberRefusal(s: Services, key: string, err: FerryError): void {
  let map = refusals.get(s);
  if (!map) refusals.set(s, (map = new Map()));
  if (map.size >= KNOWN_MAX) map.delete(map.keys().next().value!);
  map.set(key, err);
}

async function makeDerivative(s: Services, file: ReadyFile, plan: Exclude<Plan, { kind: 'original' }>): Promise<DerivativeRecord> {
  // A bomb is refused from its first bytes, before it waits in line or is fetched.
  if (plan.kind === 'image') await checkImageHead(s, file);
  // One queue slot covers the whole job (copy, decode, encode, store), so the queue bounds
  // scratch disk and memory as well as CPU.
  return s.media.queue.run(() => makeInSlot(s, file, plan));
}

async function makeInSlot(s: Services, file: ReadyFile, plan: Exclude<Plan, { kind: 'original' }>): Promise<DerivativeRecord> {
  const limits = s.config.media;
  const work = await s.media.workdir();
  try {
    const input = path.join(work.dir, 'original');
    try {
      await pipeline(await s.bytes.read(file.storageKey), fs.createWriteStream(input));
    } catch (err) {
      // The store's own failures are typed already; a full or read-only scratch disk is one too.
      throw s.media.scratchError(err) ?? err;
    }
    const output = path.join(work.dir, 'derived');
    let contentType: string;
    if (plan.kind === 'image') {
      const header = await readImageHeader(input);
      checkImageLimits(header, limits);
      contentType = await makeImage(s, input, output, plan.box, header, work.dir);
    } else if (plan.kind === 'video-frame') {
      const probe = await probeMedia(input, file.contentType, limits.ffmpegTimeoutMs);
      if (!probe.hasVideo || !probe.width || !probe.height) throw new FerryError(Codes.MEDIA_UNREADABLE, 'the video has no picture to make a cover from');
      if (probe.width * probe.height > limits.maxImagePixels) throw tooLargeVideo(probe.width, probe.height, limits.maxImagePixels);
      await videoCover(input, file.contentType, output, plan.box, limits);
      contentType = 'image/jpeg';
    } else {
      if (file.contentType === 'audio/amr' && amrDurationMs(await fsp.readFile(input)) === null) {
        throw new FerryError(Codes.MEDIA_UNREADABLE, 'the voice file starts like AMR but its frames are not AMR: it cannot be converted');
      }
      await transcodeVoice(input, file.contentType, output, plan.to, limits);
      contentType = VOICE_CONTENT_TYPES[plan.to];
    }
    const made = await storeDerivative(s, file.id, plan.variant, output, contentType);
    s.media.stats.derivativesMade++;
    return made;
  } finally {
    await work.cleanup();
  }
}

/**
 * Enough of the file for the header of nearly every image (PNG, GIF, WebP: the first bytes;
 * JPEG: after its EXIF block). A header further in is checked after the copy instead.
 */
const HEAD_BYTES = 64 * 1024;

async function checkImageHead(s: Services, file: ReadyFile): Promise<void> {
  const chunks: Buffer[] = [];
  const stream = await s.bytes.read(file.storageKey, { start: 0, end: Math.min(file.size, HEAD_BYTES) - 1 });
  for await (const c of stream) chunks.push(c as Buffer);
  let header: ImageHeader;
  try {
    header = await readImageHeader(Buffer.concat(chunks));
  } catch {
    // Not decidable from the head (a very long EXIF block): the full check after the copy decides.
    return;
  }
  checkImageLimits({ ...header, frames: 1 }, s.config.media);
}

async function makeImage(s: Services, input: string, output: string, box: Box, header: ImageHeader, dir: string): Promise<string> {
  const limits = s.config.media;
  let source = input;
  let sourceHeader = header;
  if (header.format === 'heif' && header.compression !== 'av1') {
    source = await heicToRaster(input, dir, header.hasAlpha, limits.ffmpegTimeoutMs);
    sourceHeader = await readImageHeader(source);
  }
  const made = await resizeImage(source, output, box, sourceHeader, limits);
  return made.contentType;
}

async function storeDerivative(s: Services, fileId: string, variant: string, output: string, contentType: string): Promise<DerivativeRecord> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const c of fs.createReadStream(output)) {
    hash.update(c as Buffer);
    size += (c as Buffer).length;
  }
  const storageKey = derivativeKey(fileId, variant);
  const staged = await s.bytes.stage(storageKey, fs.createReadStream(output), contentType);
  await staged.commit();
  return s.meta.putDerivative({ fileId, variant, storageKey, size, sha256: hash.digest('hex'), contentType, createdAt: Date.now() });
}

const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'audio/mpeg': 'mp3', 'audio/amr': 'amr' };

function derivedName(original: string | null, contentType: string): string | null {
  if (!original) return null;
  const base = original.replace(/\.[^.]*$/, '') || 'file';
  return `${base}.${EXT[contentType] ?? 'bin'}`;
}
