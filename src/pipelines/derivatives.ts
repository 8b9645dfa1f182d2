// Download, media variants: decide what a request wants (the original, a thumbnail, a cover,
// the voice in another format, or a redirect to an external image service), and for a
// derivative: look it up, or make it once (single flight), stage it into the byte store beside
// the original, record it, and hand it back to the download pipeline like any original.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Codes, FerryError, badParam } from '../errors.ts';
import type { DerivativeRecord } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import type { ReadyFile } from './ready-file.ts';
import type { Servable } from './servable.ts';
import { classOf, extensionOf } from '../content-types.ts';
import { DEFAULT_COVER_BOX, DEFAULT_THUMBNAIL_BOX, boxFor, type Box } from '../media/box.ts';
import { checkImageLimits, readImageHeader, resizeImage, type ImageHeader } from '../media/images.ts';
import { heicToRaster } from '../media/heif.ts';
import { probeMedia, tooLargeVideo, transcodeVoice, videoCover, type VoiceFormat } from '../media/ffmpeg.ts';
import { amrDurationMs } from '../media/amr.ts';
import { imgproxyUrl } from '../media/imgproxy.ts';

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

const VOICE_FORMATS: Partial<Record<string, VoiceFormat>> = { 'voice-amr': 'amr', 'voice-mp3': 'mp3' };
const VOICE_CONTENT_TYPES: Record<VoiceFormat, string> = { amr: 'audio/amr', mp3: 'audio/mpeg' };

type MediaQuery = Record<string, string | string[] | undefined>;

function one(q: MediaQuery, key: string): string | undefined {
  const v = q[key];
  return Array.isArray(v) ? v[0] : v;
}

function dimension(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10000) throw badParam(`${name} must be a whole number of pixels from 1 to 10000`);
  return Number(raw);
}

/** image_type, w, h, format, thumbnail_strategy and source, validated. */
export function parseMediaRequest(q: MediaQuery): MediaRequest {
  const it = one(q, 'image_type') || '1';
  if (it !== '1' && it !== '2' && it !== '3') throw badParam('image_type must be 1 (original), 2 (thumbnail) or 3 (cover)');
  const format = one(q, 'format') || undefined;
  if (format !== undefined && format !== 'amr' && format !== 'mp3') throw badParam('format must be amr or mp3');
  const ts = one(q, 'thumbnail_strategy') || '1';
  if (ts !== '1' && ts !== '2') throw badParam('thumbnail_strategy must be 1 or 2');
  return {
    imageType: Number(it) as 1 | 2 | 3,
    w: dimension('w', one(q, 'w')),
    h: dimension('h', one(q, 'h')),
    format,
    thumbnailStrategy: Number(ts) as 1 | 2,
    miniProgram: one(q, 'source') === 'miniprogram',
  };
}

function notSupported(message: string): FerryError {
  return new FerryError(Codes.NOT_SUPPORTED, message);
}

export function planFor(file: ReadyFile, m: MediaRequest): Plan {
  const ct = file.contentType;
  const kind = classOf(ct);
  const voiceOf = kind && VOICE_FORMATS[kind];
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
  if (kind === 'image') return { kind: 'image', variant, box };
  if (kind === 'video') return { kind: 'video-frame', variant, box };
  throw notSupported(
    thumb
      ? `image_type=2 (thumbnail) is made for images and videos only; this file is ${ct}: ask for the original`
      : `image_type=3 (cover) is made for videos and images only; this file is ${ct}: ask for the original`,
  );
}

/** The stored original or derivative to serve, or the external image service to send the client to. */
export type Resolved = { kind: 'stored'; file: Servable } | { kind: 'external'; location: string; reusableUntil: number };

/** What the original itself serves as. */
export function originalOf(file: ReadyFile): Servable {
  return {
    appId: file.appId,
    fileId: file.id,
    variant: null,
    storageKey: file.storageKey,
    size: file.size,
    sha256: file.sha256,
    contentType: file.contentType,
    fileName: file.fileName,
  };
}

/**
 * resolveMedia at once, when nothing needs making or looking up (the original, nearly every
 * download); undefined otherwise, and then the caller awaits resolveMedia. Refuses as it does.
 */
export function resolveMediaNow(file: ReadyFile, m: MediaRequest): Resolved | undefined {
  return planFor(file, m).kind === 'original' ? { kind: 'stored', file: originalOf(file) } : undefined;
}

export async function resolveMedia(s: Services, file: ReadyFile, m: MediaRequest): Promise<Resolved> {
  const plan = planFor(file, m);
  if (plan.kind === 'original') return { kind: 'stored', file: originalOf(file) };
  const imgproxy = s.config.media.imgproxy;
  if (plan.kind === 'image' && imgproxy && m.thumbnailStrategy === 1 && !m.miniProgram) {
    const to = imgproxyUrl(imgproxy, s.bytes.locator(file.storageKey), plan.box);
    return { kind: 'external', location: to.url, reusableUntil: to.reusableUntil };
  }
  const d = await derivative(s, file, plan);
  return { kind: 'stored', file: derivativeOf(file, d) };
}

/** A derivative record as downloads see it: named after the original, with its own extension. */
export function derivativeOf(file: ReadyFile, d: DerivativeRecord): Servable {
  return {
    appId: file.appId,
    fileId: file.id,
    variant: d.variant,
    storageKey: d.storageKey,
    size: d.size,
    sha256: d.sha256,
    contentType: d.contentType,
    fileName: derivedName(file.fileName, d.contentType),
  };
}

export const derivativeKey = (fileId: string, variant: string) => `derived/${fileId}/${variant}`;

const LASTING = new Set<number>([Codes.MEDIA_TOO_LARGE, Codes.MEDIA_UNREADABLE]);

async function derivative(s: Services, file: ReadyFile, plan: Exclude<Plan, { kind: 'original' }>): Promise<DerivativeRecord> {
  const key = `${file.id}/${plan.variant}`;
  const cached = s.knownDerivatives.get(key);
  if (cached) return reused(s, plan, cached);
  const refusalKey = `${file.id}/${plan.kind}`;
  const refused = s.mediaRefusals.get(refusalKey);
  if (refused) {
    s.metrics.derivative(plan.kind, 'failed');
    throw refused;
  }
  const known = await s.meta.getDerivative(file.id, plan.variant);
  if (known) return reused(s, plan, remember(s, key, known));
  let madeHere = false;
  const d = await s.derivativeFlights
    .run(key, async () => {
      // Another request may have finished making it between the lookup and the flight.
      const again = await s.meta.getDerivative(file.id, plan.variant);
      try {
        if (again) return remember(s, key, again);
        madeHere = true;
        return remember(s, key, await makeDerivative(s, file, plan));
      } catch (err) {
        if (err instanceof FerryError && LASTING.has(err.code)) s.mediaRefusals.set(refusalKey, err);
        throw err;
      }
    })
    .catch((err: unknown) => {
      s.metrics.derivative(plan.kind, 'failed');
      throw err;
    });
  // Requests that waited on another's flight reused what it made.
  if (!madeHere) s.metrics.derivative(plan.kind, 'reused');
  return d;
}

function reused(s: Services, plan: Exclude<Plan, { kind: 'original' }>, d: DerivativeRecord): DerivativeRecord {
  s.metrics.derivative(plan.kind, 'reused');
  return d;
}

function remember(s: Services, key: string, d: DerivativeRecord): DerivativeRecord {
  s.knownDerivatives.set(key, d);
  return d;
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
  const started = performance.now();
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
    s.metrics.derivative(plan.kind, 'made', (performance.now() - started) / 1000);
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

function derivedName(original: string | null, contentType: string): string | null {
  if (!original) return null;
  const base = original.replace(/\.[^.]*$/, '') || 'file';
  return `${base}.${extensionOf(contentType) ?? 'bin'}`;
}
