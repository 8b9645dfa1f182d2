// Sends a stored file the way browsers and download managers need it: HEAD, single byte ranges
// (206; Safari cannot seek media without them, Android resumes with "bytes=N-"), a strong ETag
// from the content hash with If-None-Match (304), and headers that keep a hostile upload from
// ever running as a page on Ferry's origin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SMALL_READ_BYTES, type ByteRange, type ByteStore } from '../bytes/byte-store.ts';
import { Codes, FerryError } from '../errors.ts';
import { isInlineSafe } from '../media/sniff.ts';
import { servedFileName } from '../file-names.ts';

export interface Servable {
  storageKey: string;
  size: number;
  sha256: string;
  contentType: string;
  fileName: string | null;
}

/** Parse a Range header against a size. null: serve the whole file; 'unsatisfiable': 416. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges and other units are allowed to be ignored (RFC 9110 14.2): send it all.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return { start, end };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** RFC 6266/5987: an ASCII fallback plus the exact UTF-8 name. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export async function sendFile(request: FastifyRequest, reply: FastifyReply, bytes: ByteStore, file: Servable): Promise<FastifyReply> {
  const etag = `"${file.sha256.slice(0, 40)}"`;
  const inline = isInlineSafe(file.contentType);
  const name = servedFileName(file.fileName, file.contentType);
  reply.headers({
    'content-type': file.contentType,
    etag,
    'accept-ranges': 'bytes',
    // The URL carries the caller's token, so only the caller's own cache may keep it.
    'cache-control': 'private, max-age=86400',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
    'content-disposition': contentDisposition(inline ? 'inline' : 'attachment', name),
  });

  if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();

  let range = parseRange(request.headers.range, file.size);
  // If-Range: a resumed download of a file that changed must start over (ours never change,
  // but a client may hold an ETag from another file).
  const ifRange = request.headers['if-range'];
  if (range !== null && ifRange !== undefined && ifRange !== etag) range = null;
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.size}`);
    reply.removeHeader('content-disposition');
    reply.header('content-type', 'application/json; charset=utf-8');
    throw new FerryError(Codes.RANGE_NOT_SATISFIABLE, `range not satisfiable: the file has ${file.size} bytes`, 416);
  }
  // Mini-programs may only fetch from the domains their operator whitelisted, which the store's
  // host usually is not: they are always streamed.
  const miniProgram = (request.query as Record<string, unknown> | undefined)?.source === 'miniprogram';
  if (request.method === 'GET' && bytes.presignGet && !miniProgram) {
    if (await redirectToStore(reply, bytes, file)) return reply;
  }
  if (range) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
    reply.header('content-length', range.end - range.start + 1);
  } else {
    reply.header('content-length', file.size);
  }
  if (request.method === 'HEAD') return reply.send();
  const want = range ?? { start: 0, end: file.size - 1 };
  if (bytes.readSmall && want.end - want.start < SMALL_READ_BYTES && file.size > 0) {
    return reply.send(await bytes.readSmall(file.storageKey, want));
  }
  const stream = await bytes.read(file.storageKey, range ?? undefined);
  return reply.send(stream);
}

/**
 * 302 to a presigned URL when the store hands one out. The store answers with the same type and
 * disposition Ferry would; the redirect itself may be cached for as long as the same URL would
 * come back anyway, so a browser's cached copy of the object keeps being used. (HEAD stays with
 * Ferry: a presigned GET does not answer HEAD.)
 */
// Answers true once the redirect is sent. (Not the reply itself: a reply is a thenable, so an
// async function returning it resolves to undefined.)
async function redirectToStore(reply: FastifyReply, bytes: ByteStore, file: Servable): Promise<boolean> {
  const headers = reply.getHeaders();
  const signed = await bytes.presignGet!(file.storageKey, {
    contentType: file.contentType,
    contentDisposition: String(headers['content-disposition']),
    cacheControl: `private, max-age=${MAX_OBJECT_CACHE_S}, immutable`,
  });
  if (!signed) return false;
  const maxAge = Math.max(0, Math.floor((signed.reusableUntil - Date.now()) / 1000));
  for (const h of ['content-type', 'content-disposition', 'accept-ranges', 'content-security-policy']) reply.removeHeader(h);
  // The ETag set above stays, so a client can still revalidate with If-None-Match.
  reply.code(302).headers({ location: signed.url, 'cache-control': `private, max-age=${maxAge}` }).send();
  return true;
}

/** An object's bytes never change under its key, so a fetched copy may be kept for a day. */
const MAX_OBJECT_CACHE_S = 86400;
