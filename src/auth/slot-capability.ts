// Upload slots as capabilities: the upload_url of a chat slot (/file/slot/<capability>) carries
// everything its upload needs (app, kind, file type, sender, conversation, size limit, file id,
// expiry), HMAC'd with the app's sign key, which only Ferry holds. So handing out a slot writes
// nothing: the file's record is written when its upload starts (the claim, keyed by the file id,
// which makes the upload single use) and completed when it ends. An expired or altered
// capability is refused before anything is read or written.
//
//   <base64url(JSON claims)>.<base64url HMAC-SHA256>
//
// The claims are readable by whoever holds the URL (as a file_sign's are); the MAC makes them
// unforgeable. Both parts are URL-safe, so the capability is one path segment.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Codes, FerryError } from '../errors.ts';
import type { FileKind } from '../meta/meta-store.ts';

export interface SlotClaims {
  appId: string;
  /** the file record the upload creates */
  fileId: string;
  kind: FileKind;
  /** Lanying file_type; 0 for avatars */
  fileType: number;
  /** the sender */
  ownerId: string;
  toId: string | null;
  toType: 1 | 2 | null;
  /** bytes: the type's limit when the slot was handed out */
  maxBytes: number;
  /** ms since the epoch */
  expiresAt: number;
}

/** A capability is told from a random slot id (direct uploads, avatars) by its ".". */
export const SLOT_CAPABILITY = /^[A-Za-z0-9_-]{16,1900}\.[A-Za-z0-9_-]{43}$/;

const VERSION = 1;
const KINDS: readonly FileKind[] = ['chat', 'avatar-user', 'avatar-group'];

function mac(signKey: string, payload: string): string {
  // Domain-separated from file_sign and blob capabilities, which are signed with the same key.
  return createHmac('sha256', signKey).update(`ferry-slot\n${payload}`).digest('base64url');
}

export function mintSlotCapability(signKey: string, c: SlotClaims): string {
  const payload = Buffer.from(
    JSON.stringify([VERSION, c.appId, c.fileId, c.kind, c.fileType, c.ownerId, c.toId, c.toType, c.maxBytes, c.expiresAt]),
  ).toString('base64url');
  return `${payload}.${mac(signKey, payload)}`;
}

const notFound = () => new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot not found: ask for a new one');

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The claims as written, before the MAC is checked (their app names the keys to check it with). */
export function readSlotCapability(raw: string): SlotClaims & { payload: string; mac: string } {
  if (!SLOT_CAPABILITY.test(raw)) throw notFound();
  const dot = raw.indexOf('.');
  const payload = raw.slice(0, dot);
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw notFound();
  }
  if (!Array.isArray(parts) || parts.length !== 10 || parts[0] !== VERSION) throw notFound();
  const [, appId, fileId, kind, fileType, ownerId, toId, toType, maxBytes, expiresAt] = parts as unknown[];
  if (!isStr(appId) || !isStr(fileId) || !KINDS.includes(kind as FileKind) || !isCount(fileType) || !isStr(ownerId)) throw notFound();
  if (!(toId === null || isStr(toId)) || !(toType === null || toType === 1 || toType === 2) || !isCount(maxBytes) || !isCount(expiresAt)) throw notFound();
  return { appId, fileId, kind: kind as FileKind, fileType, ownerId, toId, toType, maxBytes, expiresAt, payload, mac: raw.slice(dot + 1) };
}

/**
 * Checks the MAC with each key (current, then the one it replaced), then the expiry, so an
 * expired capability of another app says "not found", not "expired".
 */
export function verifySlotCapability(signKeys: readonly string[], c: SlotClaims & { payload: string; mac: string }, nowMs = Date.now()): SlotClaims {
  const got = Buffer.from(c.mac);
  const matches = (key: string) => {
    const want = Buffer.from(mac(key, c.payload));
    return want.length === got.length && timingSafeEqual(want, got);
  };
  if (!signKeys.some(matches)) throw notFound();
  if (c.expiresAt <= nowMs) throw new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot has expired: ask for a new one');
  const { payload: _p, mac: _m, ...claims } = c;
  return claims;
}
