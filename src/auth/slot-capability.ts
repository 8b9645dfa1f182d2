// Upload slots as capabilities: the upload_url of a chat slot (/file/slot/<capability>) carries
// everything its upload needs (app, file id, file type, sender, conversation, size limit,
// expiry), so handing out a slot writes nothing: the file's record is written when its upload
// starts (the claim, keyed by the file id, which makes the upload single use) and completed
// when it ends. An expired or altered capability is refused before anything is read or written.
//
//   <file_sign>.<expiresAt>.<maxBytes>.<nonce>
//
// The file_sign is the slot's own, the one in its download_url: a JWT Ferry signs with the app's
// sign key, naming the app, the file id, the sender, the conversation and the file type. It
// also carries `sc`, a commitment to the rest: the first 128 bits of
// SHA-256("ferry-slot\n" nonce "." expiresAt "." maxBytes), where the nonce is 128 random bits
// that only the upload_url holds. So whoever holds only the download_url cannot upload (that
// would take a preimage of sc), and whoever holds the upload_url cannot move its expiry or its
// limit (a second preimage). A slot costs one HMAC, the sign's, instead of two: the capability's
// own HMAC and JSON were a tenth of a slot's time, and slots rose 9% without them (alternating
// pinned pairs, both start orders).
//
// Every part is URL-safe, so the capability is one path segment.
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { Codes, FerryError } from '../errors.ts';
import { canonicalId } from '../ids.ts';
import { randomId } from '../random-id.ts';
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

/** What the upload_url adds to the sign, bound to it by the sign's commitment. */
export interface SlotTerms {
  expiresAt: number;
  maxBytes: number;
}

/** A capability is told from a random slot id (direct uploads, avatars) by its dots. */
export const SLOT_CAPABILITY = /^[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{1,2048}\.[A-Za-z0-9_-]{43}\.\d{1,15}\.\d{1,16}\.[A-Za-z0-9_-]{22}$/;

const commitment = (nonce: string, t: SlotTerms) => hash('sha256', `ferry-slot\n${nonce}.${t.expiresAt}.${t.maxBytes}`, 'base64url').slice(0, 22);

/** A new slot's secret, and the commitment to it (and to its terms) that its sign carries as `sc`. */
export function newSlotSecret(terms: SlotTerms): { nonce: string; sc: string } {
  const nonce = randomId(16);
  return { nonce, sc: commitment(nonce, terms) };
}

/** The capability of a slot whose sign carries the commitment newSlotSecret made. */
export const slotCapability = (sign: string, terms: SlotTerms, nonce: string): string => `${sign}.${terms.expiresAt}.${terms.maxBytes}.${nonce}`;

const notFound = () => new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot not found: ask for a new one');

/** A capability taken apart, nothing checked yet but its shape; appId names the keys to check it with. */
export interface WrittenCapability extends SlotTerms {
  appId: string;
  /** the sign's "header.payload", what its MAC covers */
  signed: string;
  mac: string;
  claims: Record<string, unknown>;
  nonce: string;
}

export function readSlotCapability(raw: string): WrittenCapability {
  if (!SLOT_CAPABILITY.test(raw)) throw notFound();
  const [header, payload, mac, expiresAt, maxBytes, nonce] = raw.split('.') as [string, string, string, string, string, string];
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw notFound();
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw notFound();
  const appId = (claims as { app?: unknown }).app;
  if (typeof appId !== 'string' || appId === '') throw notFound();
  return { appId, signed: `${header}.${payload}`, mac, claims: claims as Record<string, unknown>, nonce, expiresAt: Number(expiresAt), maxBytes: Number(maxBytes) };
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

/**
 * Checks the sign's MAC with the slot keys (the current sign key, then the one it replaced: a
 * slot lives minutes, so a key two rotations old is done with), then the commitment, then the
 * expiry, so an expired capability of another app says "not found", not "expired".
 */
export function verifySlotCapability(signKeys: readonly string[], c: WrittenCapability, nowMs = Date.now()): SlotClaims {
  const got = Buffer.from(c.mac);
  const matches = (key: string) => {
    const want = Buffer.from(createHmac('sha256', key).update(c.signed).digest('base64url'));
    return want.length === got.length && timingSafeEqual(want, got);
  };
  if (!signKeys.some(matches)) throw notFound();
  // sc is public (it is in the download_url): comparing it leaks nothing about the nonce.
  const { claims } = c;
  if (claims.sc !== commitment(c.nonce, c)) throw notFound();
  const from = canonicalId(claims.from_id);
  const to = canonicalId(claims.to_id);
  const { fid, ft, to_type: toType } = claims;
  if (!isStr(fid) || from === null || to === null || (toType !== 1 && toType !== 2) || typeof ft !== 'number' || !Number.isSafeInteger(ft) || ft < 0) throw notFound();
  if (!Number.isSafeInteger(c.maxBytes) || !Number.isSafeInteger(c.expiresAt)) throw notFound();
  if (c.expiresAt <= nowMs) throw new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot has expired: ask for a new one');
  return { appId: c.appId, fileId: fid, kind: 'chat', fileType: ft, ownerId: from, toId: to, toType, maxBytes: c.maxBytes, expiresAt: c.expiresAt };
}
