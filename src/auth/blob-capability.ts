// Ferry's own token-free download URLs (/file/blob/<capability>/<name>): what a download
// redirects to in the embedded mode, and what an expiring public link is. The capability names
// one stored object (a file, or one derivative of it), an expiry, and nothing else, and is an
// HMAC under the app's sign key, which only Ferry holds. Anyone holding the URL may read that one
// object until it expires, exactly like a presigned store URL. After a key rotation, URLs made
// with the key it replaced keep working (they live an hour or so); older ones do not.
//
//   <app_id>.<file_id>.<variant or "o">.<expiry, unix seconds>.<base64url HMAC-SHA256>
//
// Every part is URL-safe and none contains ".", so the capability is one path segment.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Codes, FerryError } from '../errors.ts';

export interface BlobClaims {
  appId: string;
  fileId: string;
  /** null: the original */
  variant: string | null;
  /** unix seconds */
  expiresAt: number;
}

const PART = /^[A-Za-z0-9_-]{1,128}$/;
const EXPIRY = /^[1-9]\d{0,11}$/;
const MAC = /^[A-Za-z0-9_-]{43}$/;

function mac(signKey: string, c: BlobClaims): string {
  // Domain-separated from file_sign, which is signed with the same key.
  return createHmac('sha256', signKey)
    .update(`ferry-blob\n${c.appId}\n${c.fileId}\n${c.variant ?? ''}\n${c.expiresAt}`)
    .digest('base64url');
}

export function mintBlobCapability(signKey: string, c: BlobClaims): string {
  return `${c.appId}.${c.fileId}.${c.variant ?? 'o'}.${c.expiresAt}.${mac(signKey, c)}`;
}

const refused = (why: string) => new FerryError(Codes.BAD_LINK, `download link is ${why}`);

/** The claims as written, before the MAC is checked (the app names the key to check it with). */
export function readBlobCapability(raw: string): BlobClaims & { mac: string } {
  const parts = raw.split('.');
  if (parts.length !== 5) throw refused('not a Ferry download link');
  const [appId, fileId, variant, expiry, given] = parts as [string, string, string, string, string];
  if (!PART.test(appId) || !PART.test(fileId) || !PART.test(variant) || !EXPIRY.test(expiry) || !MAC.test(given)) {
    throw refused('not a Ferry download link');
  }
  return { appId, fileId, variant: variant === 'o' ? null : variant, expiresAt: Number(expiry), mac: given };
}

/** Checks the MAC, then the expiry (so an expired link of another app says "invalid", not "expired"). */
export function verifyBlobCapability(signKeys: readonly string[], c: BlobClaims & { mac: string }, nowMs = Date.now()): BlobClaims {
  const got = Buffer.from(c.mac);
  const matches = (key: string) => {
    const want = Buffer.from(mac(key, c));
    return want.length === got.length && timingSafeEqual(want, got);
  };
  if (!signKeys.some(matches)) throw refused('invalid (tampered, or of another file)');
  if (c.expiresAt * 1000 <= nowMs) throw refused('expired: ask for the file again');
  return { appId: c.appId, fileId: c.fileId, variant: c.variant, expiresAt: c.expiresAt };
}

/**
 * The expiry a redirect hands out now: aligned to windows of half the lifetime, so every
 * request in one window (from any node) gets the same URL and caches keep working, and a URL
 * handed out at the end of its window still has half its life left.
 */
export function windowedExpiry(ttlSeconds: number, nowMs = Date.now()): { expiresAt: number; reusableUntil: number } {
  const window = Math.max(1, Math.floor(ttlSeconds / 2));
  const start = Math.floor(nowMs / 1000 / window) * window;
  return { expiresAt: start + ttlSeconds, reusableUntil: start + window };
}
