// HEIC (iPhone photos) is HEVC inside HEIF; sharp's bundled libheif has no HEVC decoder, so
// Debian's heif-convert (libheif-examples, with libde265) turns it into a plain image first.
// It runs like ffmpeg: no shell, a timeout, and only after the header passed the pixel cap.
import path from 'node:path';
import { runTool, ToolError } from './run-tool.ts';
import { unreadable } from './images.ts';

/** Decode a HEIC file into a JPEG (or PNG when it has alpha) inside dir; returns its path. */
export async function heicToRaster(input: string, dir: string, hasAlpha: boolean, timeoutMs: number): Promise<string> {
  const out = path.join(dir, hasAlpha ? 'decoded.png' : 'decoded.jpg');
  try {
    // libheif applies the HEIF rotation/mirror itself, so the result is upright.
    await runTool('heif-convert', ['-q', '92', input, out], { timeoutMs, what: 'decoding the HEIC image' });
  } catch (err) {
    if (err instanceof ToolError) throw unreadable('cannot decode the HEIC image');
    throw err;
  }
  return out;
}
