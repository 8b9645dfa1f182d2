// What a token, a file_sign or a blob capability was found to say, kept briefly so a client
// that sends the same string again (every download of a chat screen, every thumbnail) does not
// pay for the HMAC, the JSON and the claim checks each time.
//
// Safe because:
// - an entry counts only for the exact string that was verified: a string that differs in one
//   character (tampered, truncated, another spelling) is a miss and is verified in full. It is
//   found by the string's last characters (where tokens, signs and capabilities carry their
//   MAC) and then compared whole: hashing the whole fresh string of every request for the
//   lookup cost more than the comparison;
// - only successes are kept: a refusal is never cached, so it costs what it always did;
// - an entry counts only for the very keys it was verified with (the AppKeys object of the
//   app registry): when an app's keys change or the registry forgets the app, every entry of
//   that app stops counting at once;
// - an entry lives at most `ttlMs` and never past the claims' own exp: for access tokens that
//   is one second, so a token revoked (by whatever check follows verification, or by the app
//   being forgotten) stops working within a second.
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../primitives/bounded-cache.ts';

interface Entry<T> {
  /** the string that was verified */
  text: string;
  /** the keys it was verified with: identity, not equality */
  keys: object;
  value: T;
  /** ms since the epoch */
  until: number;
}

/** How many of a string's last characters find its entry: a MAC's worth (192 bits of an HMAC-SHA256). */
const FIND_BY = 32;
const findKey = (text: string) => (text.length > FIND_BY ? text.slice(-FIND_BY) : text);

export class VerifiedCache<T extends object> {
  private readonly entries: LRUCache<string, Entry<T>>;

  constructor(
    private readonly ttlMs: number,
    max = 10_000,
  ) {
    this.entries = boundedCache<string, Entry<T>>(max);
  }

  /**
   * The value verified for this exact string under these keys, or verify() run now (its
   * throw is the caller's refusal, and nothing is kept). expiresAtMs: when the string itself
   * stops being valid (a token's exp), if it says.
   */
  get(keys: object, text: string, verify: () => { value: T; expiresAtMs?: number }, now = Date.now()): T {
    const hit = this.entries.get(findKey(text));
    if (hit !== undefined && hit.text === text && hit.keys === keys && hit.until > now) return hit.value;
    const { value, expiresAtMs } = verify();
    const until = Math.min(now + this.ttlMs, expiresAtMs ?? Number.POSITIVE_INFINITY);
    if (until > now) this.entries.set(findKey(text), { text, keys, value: Object.freeze(value), until });
    return value;
  }

  /** Drop everything (tests; an operator action that must take effect at once). */
  clear(): void {
    this.entries.clear();
  }
}

/** Access tokens: at most one second, so revocation is never more than a second late. */
export const TOKEN_CACHE_MS = 1_000;
/** file_signs never expire and are never revoked one by one (the file record decides): longer. */
export const SIGN_CACHE_MS = 60_000;
