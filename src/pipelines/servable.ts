// What a download serves, and the rules that do not depend on how it is sent: the name a
// browser saves it under, the headers that keep a hostile upload from ever running as a page
// on Ferry's origin, single byte ranges and ETag revalidation. The download pipeline decides
// with these; http/ only writes what it decided.
import contentDispositionHeader from 'content-disposition';
import fresh from 'fresh';
import rangeParser from 'range-parser';
import type { ByteRange } from '../bytes/byte-store.ts';
import { extensionOf, isInlineSafe } from '../content-types.ts';
import { servedFileName } from '../file-names.ts';

/** A stored original or derivative, as downloads see it. */
export interface Servable {
  appId: string;
  /** the file record (the original's id for a derivative) */
  fileId: string;
  /** null: the original; else the derivative's variant (thumb-400x400, mp3…) */
  variant: string | null;
  storageKey: string;
  size: number;
  sha256: string;
  contentType: string;
  fileName: string | null;
}

export const etagOf = (file: Servable) => `"${file.sha256.slice(0, 40)}"`;

/**
 * The name a browser saves the file under: the uploaded name, ending in the extension of the
 * type Ferry serves it as (a JPEG uploaded as x.html is x.jpg); without one, file.EXT.
 */
export function servedName(file: Servable): string {
  return servedFileName(file.fileName, file.contentType);
}

/**
 * The last path segment of a token-free link: the name with the extension of the type it is
 * served as, because push vendors take an image URL only when its path ends in .jpg or .png.
 */
export function linkName(file: Servable): string {
  const ext = extensionOf(file.contentType);
  const name = servedName(file);
  if (!ext) return name;
  const stem = name.replace(/\.[^.]*$/, '') || 'file';
  return `${stem}.${ext}`;
}

/**
 * RFC 6266 with an RFC 5987 filename* for names that are not plain ASCII. Inline only for
 * media and plain text; everything else (HTML, SVG, unknown bytes) is an attachment.
 */
export function dispositionOf(file: Servable): string {
  const type = isInlineSafe(file.contentType) ? 'inline' : 'attachment';
  // The library takes the last path segment of what it is given; Ferry's names have none.
  return contentDispositionHeader(servedName(file).replace(/[\\/]/g, '_'), { type });
}

/**
 * Headers every answer carrying the file's bytes sends, on Ferry or (as response overrides)
 * on a presigned store URL. cache-control is the caller's: it depends on the URL's lifetime.
 */
export function safeFileHeaders(file: Servable): Record<string, string> {
  return {
    'content-type': file.contentType,
    etag: etagOf(file),
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
    'content-disposition': dispositionOf(file),
  };
}

/** If-None-Match (and the request's own cache directives) against the file's ETag. */
export function isNotModified(ifNoneMatch: string | undefined, file: Servable): boolean {
  if (!ifNoneMatch) return false;
  return fresh({ 'if-none-match': ifNoneMatch }, { etag: etagOf(file) });
}

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * A Range header against a size. null: serve the whole file; 'unsatisfiable': 416. Anything
 * Ferry will not serve as one part (several ranges, other units, reversed or malformed ranges)
 * is allowed to be ignored (RFC 9110 14.2), so it gets the whole file, never an error.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const text = header.trim();
  const m = SINGLE_RANGE.exec(text);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] !== '' && m[2] !== '' && BigInt(m[2]!) < BigInt(m[1]!)) return null;
  // A suffix longer than the file is the whole file (RFC 9110 14.1.2); range-parser calls it
  // unsatisfiable.
  const suffixCovers = m[1] === '' && size > 0 && BigInt(m[2]!) >= BigInt(size);
  const parsed = rangeParser(size, suffixCovers ? 'bytes=0-' : text);
  if (parsed === -1) return 'unsatisfiable';
  if (parsed === -2 || parsed.length !== 1) return null;
  return { start: parsed[0]!.start, end: parsed[0]!.end };
}

/** A resumed download (If-Range) of a file that changed starts over: the range is dropped. */
export function rangeFor(headers: { range?: string; ifRange?: string }, file: Servable): ByteRange | null | 'unsatisfiable' {
  const range = parseRange(headers.range, file.size);
  if (range !== null && headers.ifRange !== undefined && headers.ifRange !== etagOf(file)) return null;
  return range;
}
