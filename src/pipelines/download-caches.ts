// Per-object answers a download repeats for every request of the same object, kept so the hot
// path does not rebuild them: the safe headers of a stored object (content-disposition and
// friends depend only on its record, which never changes) and the token-free URL a redirect
// hands out (the same for every request in one window, by design: see windowedExpiry).
//
// Both are found by the object's storage key, short and unique per stored object, and an entry
// counts only for a record that would make the same answer: every field the answer is made of
// is compared, so a record sharing the key but not its name, type or id never gets another's
// answer. A key built from all those fields was a fresh ~200-character string to hash on every
// request.
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../primitives/bounded-cache.ts';
import type { Servable } from './servable.ts';

/** What safeFileHeaders reads of a record, besides its storage key. */
interface HeaderFacts {
  sha256: string;
  contentType: string;
  fileName: string | null;
}

export interface RedirectTarget {
  location: string;
  reusableUntilMs: number;
  /** the app keys a blob URL was signed with (identity); null for a store's presigned URL */
  keys: object | null;
}

interface RedirectEntry extends HeaderFacts, RedirectTarget {
  appId: string;
  fileId: string;
  variant: string | null;
  /** the blob URL's window (its expiry, unix seconds), or 'presigned' */
  window: number | 'presigned';
}

export interface DownloadCaches {
  /** storage key → the safe headers of the record they were made for (frozen: shared by every answer) */
  fileHeaders: LRUCache<string, HeaderFacts & { headers: Readonly<Record<string, string>> }>;
  /** storage key → the location a redirect sends to, for one record and URL window, while it may be reused */
  redirects: LRUCache<string, RedirectEntry>;
}

export function newDownloadCaches(max = 10_000): DownloadCaches {
  return { fileHeaders: boundedCache(max), redirects: boundedCache(max) };
}

const sameHeaderFacts = (e: HeaderFacts, f: Servable) => e.sha256 === f.sha256 && e.contentType === f.contentType && e.fileName === f.fileName;

/** The object's safe headers, made by make(f) the first time this record asks. */
export function headersOf(c: DownloadCaches, f: Servable, make: (f: Servable) => Record<string, string>): Readonly<Record<string, string>> {
  const hit = c.fileHeaders.get(f.storageKey);
  if (hit !== undefined && sameHeaderFacts(hit, f)) return hit.headers;
  const headers = Object.freeze(make(f));
  c.fileHeaders.set(f.storageKey, { sha256: f.sha256, contentType: f.contentType, fileName: f.fileName, headers });
  return headers;
}

/** The redirect target kept for this record and window, if it is still reusable at nowMs with these keys. */
export function keptRedirect(c: DownloadCaches, f: Servable, window: number | 'presigned', keys: object | null, nowMs: number): RedirectTarget | undefined {
  const hit = c.redirects.get(f.storageKey);
  if (hit === undefined || !sameHeaderFacts(hit, f)) return undefined;
  if (hit.appId !== f.appId || hit.fileId !== f.fileId || hit.variant !== f.variant || hit.window !== window) return undefined;
  return hit.reusableUntilMs > nowMs && hit.keys === keys ? hit : undefined;
}

export function keepRedirect(c: DownloadCaches, f: Servable, window: number | 'presigned', target: RedirectTarget): void {
  c.redirects.set(f.storageKey, {
    sha256: f.sha256,
    contentType: f.contentType,
    fileName: f.fileName,
    appId: f.appId,
    fileId: f.fileId,
    variant: f.variant,
    window,
    ...target,
  });
}
