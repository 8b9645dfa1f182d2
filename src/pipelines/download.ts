// Download: who asks (credentials), for what (the file_sign or avatar name, checked against the
// access rules), the file record, the media variant, and then one outcome, returned as a value
// for http/ to write: not modified, a redirect (to the store, to the external image service, or
// to Ferry's own signed blob URL), the bytes (whole or a range), or a range it cannot satisfy.
import type { Readable } from 'node:stream';
import { authenticate, authenticateNow, type Headers, type Query } from '../auth/credentials.ts';
import { mintBlobCapability, readBlobCapability, verifyBlobCapability, windowedExpiry } from '../auth/blob-capability.ts';
import { ObjectNotFoundError, SMALL_READ_BYTES, type ByteRange } from '../bytes/byte-store.ts';
import { Codes, FerryError } from '../errors.ts';
import type { Services } from '../services.ts';
import { derivativeOf, originalOf, parseMediaRequest, resolveMedia, resolveMediaNow, type MediaRequest } from './derivatives.ts';
import { findAvatar, findChatFile, requireLive, requireReady, type ReadyFile } from './ready-file.ts';
import { placeholderOr } from './placeholder.ts';
import { etagOf, isNotModified, linkName, rangeFor, safeFileHeaders, type Servable } from './servable.ts';
import { headersOf, keepRedirect, keptRedirect, type RedirectTarget } from './download-caches.ts';

/** The request as the pipeline needs it: every value still as the client sent it. */
export interface DownloadRequest {
  method: 'GET' | 'HEAD';
  /** the client's address (per-IP rate limit) */
  ip: string;
  headers: Headers;
  query: Query;
}

export type DownloadOutcome =
  | { kind: 'not-modified'; headers: Record<string, string> }
  | { kind: 'redirect'; location: string; headers: Record<string, string> }
  | { kind: 'bytes'; status: 200 | 206; headers: Record<string, string>; body: Readable | Buffer | null }
  | { kind: 'unsatisfiable'; size: number };

/** The URL carries the caller's token, so only the caller's own cache may keep the answer. */
const TOKEN_URL_CACHE = 'private, max-age=86400';
/** An object's bytes never change under its key, so a fetched copy may be kept for a day. */
const MAX_OBJECT_CACHE_S = 86400;

/** GET/HEAD /file/download/chat */
export async function runChatDownload(s: Services, req: DownloadRequest): Promise<DownloadOutcome> {
  s.rateLimits.byIp('downloads', req.ip);
  // Each "…Now ?? await …" below answers at once from what this node has at hand, and waits
  // only when it must read first (credentials.ts, authenticateNow, says why).
  const caller = authenticateNow(s.apps, req.headers, req.query) ?? (await authenticate(s.apps, req.headers, req.query));
  s.rateLimits.byUser('downloads', caller.principal.appId, caller.principal.userId);
  const media = parseMediaRequest(req.query);
  try {
    const { file } = await findChatFile(s, caller, first(req.query.file_sign));
    return await deliverMedia(s, req, file, media);
  } catch (err) {
    return placeholderOr(media, err);
  }
}

/** Avatars are read as the token's own user: user_id and group_id mean nothing here. */
const NO_ACTING_AS = { actAs: { userId: false, groupId: false } } as const;

/** GET/HEAD /file/download/avatar: avatars are public within their app. */
export async function runAvatarDownload(s: Services, req: DownloadRequest): Promise<DownloadOutcome> {
  s.rateLimits.byIp('downloads', req.ip);
  const caller = authenticateNow(s.apps, req.headers, req.query, NO_ACTING_AS) ?? (await authenticate(s.apps, req.headers, req.query, NO_ACTING_AS));
  s.rateLimits.byUser('downloads', caller.principal.appId, caller.principal.userId);
  const media = parseMediaRequest(req.query);
  try {
    const file = await findAvatar(s, caller.principal.appId, first(req.query.object_name));
    return await deliverMedia(s, req, file, media);
  } catch (err) {
    return placeholderOr(media, err);
  }
}

/**
 * GET/HEAD /file/blob/<capability>/<name>: the capability is the only credential. It names one
 * stored object; what that object is (type, name, size) comes from its record, as for any
 * download, so the answer carries the same safe headers.
 */
export async function runBlobDownload(s: Services, req: DownloadRequest, capability: string): Promise<DownloadOutcome> {
  // No user here: the capability is the only credential, so only the address is counted.
  s.rateLimits.byIp('downloads', req.ip);
  const claimed = readBlobCapability(capability);
  const keys = s.apps.known(claimed.appId) ?? (await s.apps.get(claimed.appId));
  if (!keys) throw new FerryError(Codes.BAD_LINK, 'download link is invalid (tampered, or of another file)');
  // The same blob URL is fetched again and again (every client a redirect sent there): its
  // HMAC is checked once a minute per process at most, and never trusted past its expiry.
  const cap = keys.verified.blobs.get(keys, capability, () => {
    const checked = verifyBlobCapability(keys.blobKeys, claimed);
    return { value: checked, expiresAtMs: checked.expiresAt * 1000 };
  });
  // The file's state is read every time, never cached: a delete is in force at once.
  const [record, state] = await Promise.all([s.meta.getFile(cap.appId, cap.fileId), s.meta.getFileState(cap.appId, cap.fileId)]);
  requireLive(state);
  const file = requireReady(record);
  const servable = cap.variant === null ? originalOf(file) : await storedObject(s, file, cap.variant);
  const maxAge = Math.min(MAX_OBJECT_CACHE_S, Math.max(0, cap.expiresAt - Math.floor(Date.now() / 1000)));
  return deliver(s, req, servable, { mayRedirect: false, cacheControl: `private, max-age=${maxAge}` });
}

/** A derivative that has been made already. */
async function storedObject(s: Services, file: ReadyFile, variant: string): Promise<Servable> {
  const d = await s.meta.getDerivative(file.id, variant);
  if (!d) throw new FerryError(Codes.NOT_FOUND, 'file not found');
  return derivativeOf(file, d);
}

async function deliverMedia(s: Services, req: DownloadRequest, file: ReadyFile, media: MediaRequest): Promise<DownloadOutcome> {
  const target = resolveMediaNow(file, media) ?? (await resolveMedia(s, file, media));
  if (target.kind === 'external') {
    // Cached no longer than the same URL comes back: a browser never holds one past its expiry.
    const maxAge = Math.max(0, Math.floor((target.reusableUntil - Date.now()) / 1000));
    return { kind: 'redirect', location: target.location, headers: { 'cache-control': `private, max-age=${maxAge}` } };
  }
  // Mini-programs may only fetch from the domains their operator whitelisted, which the store
  // (or a blob URL on another host name) usually is not: they are always streamed.
  return deliver(s, req, target.file, { mayRedirect: !media.miniProgram, cacheControl: TOKEN_URL_CACHE });
}

/**
 * The last step of every download: a revalidation that matches is answered at once; a GET in
 * redirect mode goes to a token-free URL (HEAD stays here: it is cheap, and a presigned GET
 * does not answer HEAD); otherwise the bytes, whole or one range.
 */
async function deliver(
  s: Services,
  req: DownloadRequest,
  file: Servable,
  opts: { mayRedirect: boolean; cacheControl: string },
): Promise<DownloadOutcome> {
  const headers: Record<string, string> = { ...fileHeadersOf(s, file), 'cache-control': opts.cacheControl };
  if (isNotModified(first(req.headers['if-none-match']), file)) return { kind: 'not-modified', headers };
  const range = rangeFor({ range: first(req.headers.range), ifRange: first(req.headers['if-range']) }, file);
  if (range === 'unsatisfiable') return { kind: 'unsatisfiable', size: file.size };
  if (req.method === 'GET' && opts.mayRedirect && s.config.download === 'redirect') return redirectFor(s, file);
  // headers is this request's own copy: the lengths go straight into it.
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${file.size}`;
    headers['content-length'] = String(range.end - range.start + 1);
  } else {
    headers['content-length'] = String(file.size);
  }
  const body = req.method === 'HEAD' ? null : (cachedBody(s, file, range) ?? (await openBody(s, file, range)));
  return { kind: 'bytes', status: range ? 206 : 200, headers, body };
}

/** safeFileHeaders, made once per stored object: they depend on its record alone. */
function fileHeadersOf(s: Services, file: Servable): Readonly<Record<string, string>> {
  return headersOf(s.downloadCaches, file, safeFileHeaders);
}

/** The bytes asked for, whole or one range. */
const wanted = (file: Servable, range: ByteRange | null): ByteRange => range ?? { start: 0, end: file.size - 1 };
/** Small reads come in one buffer (readSmall), and may be in memory already (cachedSmall). */
const isSmall = (file: Servable, want: ByteRange) => file.size > 0 && want.end - want.start < SMALL_READ_BYTES;

/** The body at once, when the store holds these bytes in memory (small, hot files); else undefined. */
function cachedBody(s: Services, file: Servable, range: ByteRange | null): Buffer | undefined {
  const want = wanted(file, range);
  return s.bytes.cachedSmall && isSmall(file, want) ? s.bytes.cachedSmall(file.storageKey, want) : undefined;
}

async function openBody(s: Services, file: Servable, range: ByteRange | null): Promise<Readable | Buffer> {
  const want = wanted(file, range);
  try {
    if (s.bytes.readSmall && isSmall(file, want)) return await s.bytes.readSmall(file.storageKey, want);
    return await s.bytes.read(file.storageKey, range ?? undefined);
  } catch (err) {
    // A delete that landed between the check and the read: say so, rather than "storage error".
    if (err instanceof ObjectNotFoundError) requireLive(await s.meta.getFileState(file.appId, file.fileId));
    throw err;
  }
}

/**
 * 302 to a URL that needs no token: a presigned URL when the store hands them out (it answers
 * with the same type and disposition Ferry would), else Ferry's own blob URL. Either is reused
 * for part of its life, and the redirect may be cached as long as the same URL would come back
 * anyway, so a browser's cached copy keeps being used. The ETag stays, for revalidation.
 */
async function redirectFor(s: Services, file: Servable): Promise<DownloadOutcome> {
  const { location, reusableUntilMs } = await reusableLocation(s, file);
  const maxAge = Math.max(0, Math.floor((reusableUntilMs - Date.now()) / 1000));
  return { kind: 'redirect', location, headers: { etag: etagOf(file), 'cache-control': `private, max-age=${maxAge}` } };
}

/**
 * The token-free URL for this object now. Both kinds are the same for every request in one
 * window (that is what keeps caches working), so the URL is made once per window and object
 * and kept until the window ends, not signed again on every request. A blob URL is also tied
 * to the app keys it was made with: new keys, a new URL.
 */
async function reusableLocation(s: Services, file: Servable): Promise<{ location: string; reusableUntilMs: number }> {
  const now = Date.now();
  const presigner = s.bytes.presigner;
  const keys = presigner ? null : (s.apps.known(file.appId) ?? (await s.apps.get(file.appId)));
  const window = presigner ? null : windowedExpiry(s.config.blobUrlTtlSeconds, now);
  const windowTag = window?.expiresAt ?? 'presigned';
  const hit = keptRedirect(s.downloadCaches, file, windowTag, keys, now);
  if (hit !== undefined) return hit;
  let made: RedirectTarget;
  if (presigner) {
    const signed = await presigner.presignGet(file.storageKey, {
      contentType: file.contentType,
      contentDisposition: fileHeadersOf(s, file)['content-disposition']!,
      cacheControl: `private, max-age=${MAX_OBJECT_CACHE_S}, immutable`,
    });
    made = { location: signed.url, reusableUntilMs: signed.reusableUntil, keys: null };
  } else {
    if (!keys) throw new FerryError(Codes.APP_NOT_FOUND, 'app_id not found');
    made = { location: await blobUrl(s, file, window!.expiresAt), reusableUntilMs: window!.reusableUntil * 1000, keys };
  }
  keepRedirect(s.downloadCaches, file, windowTag, made);
  return made;
}

/** Ferry's own token-free URL for one stored object until expiresAt (unix seconds). */
export async function blobUrl(s: Services, file: Servable, expiresAt: number): Promise<string> {
  const keys = await s.apps.get(file.appId);
  if (!keys) throw new FerryError(Codes.APP_NOT_FOUND, 'app_id not found');
  const cap = mintBlobCapability(keys.blobKeys[0]!, { appId: file.appId, fileId: file.fileId, variant: file.variant, expiresAt });
  return s.urls.blob(cap, linkName(file));
}

/** uni-app can send a key twice: the first one wins. */
function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
