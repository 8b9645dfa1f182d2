// Per-object answers a download repeats for every request of the same object, kept so the hot
// path does not rebuild them: the safe headers of a stored object (content-disposition and
// friends depend only on its record, which never changes) and the token-free URL a redirect
// hands out (the same for every request in one window, by design: see windowedExpiry).
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../primitives/bounded-cache.ts';
import type { Servable } from './servable.ts';

export interface DownloadCaches {
  /** object → its safe headers (frozen: shared by every answer) */
  fileHeaders: LRUCache<string, Readonly<Record<string, string>>>;
  /** object and URL window → the location a redirect sends to, while it may be reused */
  redirects: LRUCache<string, { location: string; reusableUntilMs: number; keys: object | null }>;
}

export function newDownloadCaches(max = 10_000): DownloadCaches {
  return { fileHeaders: boundedCache(max), redirects: boundedCache(max) };
}

/**
 * Everything the headers are made of: the same stored bytes can be served under several records
 * (a forward) and every field of the key is part of what is written.
 */
export const headersKey = (f: Servable) => `${f.storageKey}\n${f.sha256}\n${f.contentType}\n${f.fileName ?? ''}`;
