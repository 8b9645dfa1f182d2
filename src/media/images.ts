// Thumbnails and previews of images with sharp (libvips). Every image is judged by its header
// first: only the known raster decoders, at most maxImagePixels and maxImageFrames, so a
// decompression bomb or an SVG is refused before a single pixel is decoded. The decode itself
// is capped again by limitInputPixels (in case the header lied) and by a timeout.
import sharp, { type Metadata } from 'sharp';
import { Codes, FerryError } from '../errors.ts';
import type { MediaConfig } from '../config.ts';
import type { Box } from './box.ts';

export interface ImageHeader {
  /** sharp's name for the decoder: jpeg, png, webp, gif, heif */
  format: string;
  /** as stored */
  width: number;
  height: number;
  /** as shown, after EXIF orientation */
  displayWidth: number;
  displayHeight: number;
  frames: number;
  hasAlpha: boolean;
  /** for heif: hevc (HEIC, needs heif-convert) or av1 (AVIF, sharp decodes it) */
  compression: string | undefined;
}

/** The decoders Ferry lets near untrusted bytes. SVG, PDF, TIFF and friends never pass. */
const DECODERS = new Set(['jpeg', 'png', 'webp', 'gif', 'heif']);

export function unreadable(what: string): FerryError {
  return new FerryError(Codes.MEDIA_UNREADABLE, `${what}: the file is damaged or not a supported image/video/voice format`);
}

export async function readImageHeader(input: string | Buffer): Promise<ImageHeader> {
  let m: Metadata;
  try {
    // metadata() reads the header only; nothing is decoded here.
    m = await sharp(input, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch {
    throw unreadable('cannot read the image header');
  }
  if (!m.format || !DECODERS.has(m.format)) throw unreadable(`image format ${m.format ?? 'unknown'} is not accepted`);
  if (!m.width || !m.height) throw unreadable('image header has no size');
  const rotated = (m.orientation ?? 1) >= 5;
  return {
    format: m.format,
    width: m.width,
    height: m.height,
    displayWidth: rotated ? m.height : m.width,
    displayHeight: rotated ? m.width : m.height,
    frames: m.pages ?? 1,
    hasAlpha: m.hasAlpha === true,
    compression: m.compression,
  };
}

export function checkImageLimits(h: ImageHeader, limits: Pick<MediaConfig, 'maxImagePixels' | 'maxImageFrames'>): void {
  const pixels = h.width * h.height;
  if (pixels > limits.maxImagePixels) {
    throw new FerryError(
      Codes.MEDIA_TOO_LARGE,
      `image is ${h.width}×${h.height} (${pixels} pixels); Ferry makes previews of images up to ${limits.maxImagePixels} pixels`,
    );
  }
  if (h.frames > limits.maxImageFrames) {
    throw new FerryError(Codes.MEDIA_TOO_LARGE, `image has ${h.frames} frames; Ferry makes previews of images with up to ${limits.maxImageFrames}`);
  }
}

interface MadeImage {
  contentType: 'image/jpeg' | 'image/png';
}

function isOpaque(rgba: Buffer): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) return false;
  return true;
}

/**
 * Resize input to fit inside box (never larger than it was), upright per EXIF, first frame of
 * an animation, no metadata at all (sharp writes none unless asked: GPS tags never leave).
 * Opaque images become JPEG; images with real transparency become PNG, which every client decodes.
 */
export async function resizeImage(
  input: string,
  output: string,
  box: Box,
  header: ImageHeader,
  limits: Pick<MediaConfig, 'maxImagePixels' | 'imageTimeoutMs'>,
): Promise<MadeImage> {
  const pipeline = sharp(input, { limitInputPixels: limits.maxImagePixels, failOn: 'truncated', pages: 1 })
    .timeout({ seconds: Math.max(1, Math.ceil(limits.imageTimeoutMs / 1000)) })
    .rotate()
    .resize({ width: box.width, height: box.height, fit: 'inside', withoutEnlargement: true });
  try {
    if (!header.hasAlpha) {
      await pipeline.jpeg({ quality: 80 }).toFile(output);
      return { contentType: 'image/jpeg' };
    }
    // An alpha channel is often fully opaque (phone screenshots, re-saved PNGs): decide on the
    // small resized pixels whether transparency is really there.
    const { data, info } = await pipeline.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const raw = sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } });
    if (isOpaque(data)) {
      await raw.removeAlpha().jpeg({ quality: 80 }).toFile(output);
      return { contentType: 'image/jpeg' };
    }
    await raw.png({ compressionLevel: 6 }).toFile(output);
    return { contentType: 'image/png' };
  } catch (err) {
    const msg = (err as Error).message;
    if (/timeout/i.test(msg)) throw new FerryError(Codes.MEDIA_TIMEOUT, `making the image preview took longer than ${limits.imageTimeoutMs} ms and was stopped`);
    if (/pixel limit/i.test(msg)) throw new FerryError(Codes.MEDIA_TOO_LARGE, `image is larger than ${limits.maxImagePixels} pixels`);
    throw unreadable('cannot decode the image');
  }
}
