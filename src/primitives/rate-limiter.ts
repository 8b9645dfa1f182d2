// A token bucket per key (a client IP, an app and user): `limit` requests at once, refilled at
// `limit` per window, so a steady client gets limit per window and a burst up to limit. Buckets
// live in an LRU of bounded size: memory stays bounded under a flood of distinct keys, at the
// price that a key pushed out (the least recently seen) starts again with a full bucket.
// Counted in this process only: behind a load balancer each node counts its own share.
import type { LRUCache } from 'lru-cache';
import { boundedCache } from './bounded-cache.ts';

interface Bucket {
  tokens: number;
  /** ms: when tokens was computed */
  at: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterS: number };

export class RateLimiter {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly perMs: number;

  constructor(
    /** requests per window (and the burst); 0 turns the limiter off */
    private readonly limit: number,
    windowMs: number,
    maxKeys = 100_000,
  ) {
    this.perMs = limit / windowMs;
    this.buckets = boundedCache(maxKeys);
  }

  take(key: string, now = Date.now()): Admission {
    if (this.limit === 0) return { ok: true };
    const b = this.buckets.get(key) ?? { tokens: this.limit, at: now };
    const tokens = Math.min(this.limit, b.tokens + (now - b.at) * this.perMs);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return { ok: true };
    }
    this.buckets.set(key, { tokens, at: now });
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000)) };
  }
}
