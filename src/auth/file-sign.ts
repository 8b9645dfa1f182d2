// file_sign: the capability inside every chat download_url. A JWT (so third-party validators can
// read from_id, to_id and to_type, as with the private-cloud Lanying server) signed with the
// app's sign key, which only Ferry holds. Its alphabet (base64url and ".") is URL-safe, so
// clients can append "&access-token=…" to the URL by string concatenation.
import { Codes, FerryError } from '../errors.ts';
import { canonicalId } from '../ids.ts';
import type { AppKeys } from './app-registry.ts';
import { hasCanonicalSignature } from './canonical.ts';

export interface SignClaims {
  app: string;
  /** the file record */
  fid: string;
  from_id: string;
  to_id: string;
  to_type: 1 | 2;
  /** Lanying file_type */
  ft: number;
  /** when the sign was minted (unix seconds): a forward's is the time it was forwarded */
  iat?: number;
  /**
   * the reference (one download_url) this sign is: set on forwards. Absent on an upload's own
   * sign, whose reference has the file's id, and on every sign minted before references existed.
   */
  rid?: string;
  /**
   * on the sign an upload slot hands out: its commitment to the slot's secret and terms
   * (slot-capability.ts). Downloads ignore it.
   */
  sc?: string;
}

/** The reference a sign names (see SignClaims.rid). */
export const refIdOf = (sign: SignClaims): string => sign.rid ?? sign.fid;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The claims mintSign writes out one by one. */
type WrittenOut = 'app' | 'fid' | 'from_id' | 'to_id' | 'to_type' | 'ft' | 'iat' | 'rid' | 'sc';
type Assert<T extends true> = T;
/** Compiles only while mintSign writes every field of SignClaims: a new one must be added there. */
export type MintSignWritesEveryClaim = Assert<[Exclude<keyof SignClaims, WrittenOut>] extends [never] ? true : false>;

export function mintSign(keys: AppKeys, claims: Omit<SignClaims, 'app'>): string {
  // Written out rather than spread: two object spreads were a quarter of a sign's time.
  const c: SignClaims = { app: keys.app.appId, fid: claims.fid, from_id: claims.from_id, to_id: claims.to_id, to_type: claims.to_type, ft: claims.ft };
  if (claims.iat !== undefined) c.iat = claims.iat;
  if (claims.rid !== undefined) c.rid = claims.rid;
  if (claims.sc !== undefined) c.sc = claims.sc;
  return keys.sign(c);
}

const badSign = (why: string) => new FerryError(Codes.BAD_FILE_SIGN, `file_sign is invalid: ${why}`);

/**
 * Undo what clients do to a sign on its way back: the web forward code re-encodes it, so it
 * may arrive percent-encoded once more; a client that copied the whole tail of a URL may have
 * dragged "&access-token=…" along.
 */
export function normalizeSign(raw: string): string {
  let s = raw.trim();
  for (let i = 0; i < 2 && s.includes('%'); i++) {
    try {
      s = decodeURIComponent(s);
    } catch {
      break;
    }
  }
  const amp = s.indexOf('&');
  if (amp >= 0) s = s.slice(0, amp);
  return s;
}

/**
 * The sign's checked claims. The same (normalised) sign string under the same keys is verified
 * in full at most once a minute per process (verified-cache.ts); any other string is a miss.
 */
export function verifySign(keys: AppKeys, raw: string | undefined): SignClaims {
  if (raw === undefined || raw === '') throw new FerryError(Codes.BAD_PARAM, 'file_sign is required');
  const sign = normalizeSign(raw);
  return keys.verified.signs.get(keys, sign, () => ({ value: checkSign(keys, sign) }));
}

function checkSign(keys: AppKeys, sign: string): SignClaims {
  if (sign.length > 2048 || !JWT_SHAPE.test(sign)) throw badSign('not a file_sign');
  if (!hasCanonicalSignature(sign)) throw badSign('its signature is not in canonical form');
  let c: Record<string, unknown>;
  try {
    c = keys.verifySign(sign);
  } catch {
    throw badSign('tampered, truncated, or from another app');
  }
  const from = canonicalId(c.from_id);
  const to = canonicalId(c.to_id);
  if (
    c.app !== keys.app.appId ||
    typeof c.fid !== 'string' ||
    from === null ||
    to === null ||
    (c.to_type !== 1 && c.to_type !== 2) ||
    (c.rid !== undefined && typeof c.rid !== 'string')
  ) {
    throw badSign('unexpected claims');
  }
  const claims: SignClaims = { app: c.app, fid: c.fid, from_id: from, to_id: to, to_type: c.to_type, ft: Number(c.ft) };
  if (typeof c.iat === 'number') claims.iat = c.iat;
  if (typeof c.rid === 'string') claims.rid = c.rid;
  return claims;
}
