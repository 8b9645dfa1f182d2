// Apps change rarely and are read on every request, so their records and the JWT verifiers
// built from their keys are cached here. An app that does not exist is cached briefly too, so a
// flood of bad app_ids does not become a flood of database reads.
//
// Rotations and revocations (admin API or CLI, on any node) must reach every node quickly: a
// cached app is trusted for at most VERSION_CHECK_MS, then one cheap read of its keys_version
// decides whether to load it again. So a revoked token or a retired secret is refused on every
// node within about a second. When that read fails (the database is unreachable) the cached keys
// keep serving: no rotation or revocation can have been written meanwhile.
import { createHash } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { boundedCache } from '../primitives/bounded-cache.ts';
import type { AppKeyring, AppRecord, MetaStore } from '../meta/meta-store.ts';
import { DEFAULT_TOKEN_POLICY, type TokenPolicy } from '../config.ts';
import { LocalSingleFlight } from '../primitives/single-flight.ts';
import { SIGN_CACHE_MS, TOKEN_CACHE_MS, VerifiedCache } from './verified-cache.ts';
import { hs256Signer, type Sign } from './jwt-sign.ts';
import type { SignClaims } from './file-sign.ts';
import type { BlobClaims } from './blob-capability.ts';

type Verify = (token: string) => Record<string, unknown>;

export interface AppKeys {
  app: AppRecord;
  /** the current secret, or the one it replaced while its grace period lasts */
  verifyToken: Verify;
  /** by the sign's kid; a sign without kid (made before key ids) tries every key the app had */
  verifySign: Verify;
  /** with the current key, its kid in the JWT header */
  sign: Sign;
  /** the kid of the current sign key */
  signKid: string;
  /** Ferry's blob URLs: minted with the first, accepted with either (current, then the one before) */
  blobKeys: readonly string[];
  /** ms: the user's tokens issued (iat) before this are refused; undefined: none revoked */
  revokedBefore(userId: string): number | undefined;
  /**
   * ms: the user's upload slots handed out before this take no upload; undefined: none ended.
   * The later of a token revocation (a slot needs a valid token) and a slot revocation (an
   * admin erasure, which leaves the tokens alone).
   */
  slotsRevokedBefore(userId: string): number | undefined;
  /** what strings verified under these keys said (shared by every app; entries are per keys) */
  verified: Verified;
}

/** Verification results, kept briefly: see verified-cache.ts for why this is safe. */
export interface Verified {
  /** access token → its checked claims (credentials.ts) */
  tokens: VerifiedCache<{ userId: string; admin: boolean }>;
  /** normalised file_sign → its checked claims (file-sign.ts) */
  signs: VerifiedCache<SignClaims>;
  /** blob capability → its checked claims, never past its expiry (download.ts) */
  blobs: VerifiedCache<BlobClaims>;
}

const MISSING_TTL_MS = 5_000;
/** How long a node trusts its cached keys before checking their version: the revocation window. */
export const VERSION_CHECK_MS = 1_000;

/**
 * A sign key's public name: a hash, so it says nothing about the key, and derived, so a key
 * needs no column of its own and every node computes the same kid.
 */
export function kidOf(signKey: string): string {
  return createHash('sha256').update(`ferry-kid\n${signKey}`).digest('base64url').slice(0, 11);
}

interface Entry {
  keys: AppKeys | null;
  version: number;
  /** missing apps: cached until then; present apps: version checked at */
  at: number;
  /** keys, as the settled promise get() answers with */
  answer: Promise<AppKeys | null>;
}

export class AppRegistry {
  private readonly cache = boundedCache<string, Entry>(10_000);
  private readonly loads = new LocalSingleFlight();
  private readonly verified: Verified = {
    tokens: new VerifiedCache(TOKEN_CACHE_MS),
    signs: new VerifiedCache(SIGN_CACHE_MS),
    blobs: new VerifiedCache(SIGN_CACHE_MS),
  };

  constructor(
    private readonly meta: MetaStore,
    /** checked by credentials.ts on every access token */
    readonly tokenPolicy: TokenPolicy = DEFAULT_TOKEN_POLICY,
  ) {}

  /**
   * The app's keys when this node has them and needs no read to trust them (nearly every
   * request): get() without the wait. undefined: ask get(), which reads them (or finds the app
   * missing). See credentials.ts, authenticateNow, for why a hot path avoids the await.
   */
  known(appId: string, now = Date.now()): AppKeys | undefined {
    const hit = this.cache.get(appId);
    return hit?.keys && now - hit.at < VERSION_CHECK_MS ? hit.keys : undefined;
  }

  get(appId: string): Promise<AppKeys | null> {
    const hit = this.cache.get(appId);
    const now = Date.now();
    // A hit answers with the entry's own settled promise: every request asks, twice on a
    // redirect, and an async method would make a promise each time.
    if (hit && (hit.keys === null ? hit.at > now : now - hit.at < VERSION_CHECK_MS)) return hit.answer;
    return this.loads.run(appId, () => this.load(appId, hit));
  }

  private async load(appId: string, hit: Entry | undefined): Promise<AppKeys | null> {
    if (hit?.keys) {
      let version: number | null;
      try {
        version = await this.meta.getAppKeysVersion(appId);
      } catch {
        return hit.keys;
      }
      if (version === hit.version) {
        hit.at = Date.now();
        return hit.keys;
      }
    }
    const keyring = await this.meta.getAppKeyring(appId);
    const keys = keyring ? buildKeys(keyring, this.verified) : null;
    this.cache.set(appId, { keys, version: keyring?.version ?? -1, at: keys ? Date.now() : Date.now() + MISSING_TTL_MS, answer: Promise.resolve(keys) });
    return keys;
  }

  forget(appId: string): void {
    this.cache.delete(appId);
  }
}

const tokenVerifier = (secret: string) => createVerifier({ key: secret, algorithms: ['HS256', 'HS512'], cache: 10_000 }) as Verify;
const signVerifier = (signKey: string) => createVerifier({ key: signKey, algorithms: ['HS256'], cache: 10_000 }) as Verify;

function buildKeys(k: AppKeyring, verified: Verified): AppKeys {
  const { app } = k;
  // Only HMAC algorithms: a token can never pick "none" or a public-key algorithm.
  const current = tokenVerifier(app.secret);
  const previous = k.previousSecret ? { verify: tokenVerifier(k.previousSecret.secret), until: k.previousSecret.until } : null;
  const verifyToken: Verify = (token) => {
    try {
      return current(token);
    } catch (err) {
      // Only a signature the current secret does not make may be the previous secret's; an
      // expired or malformed token is refused as it is.
      if (!previous || previous.until <= Date.now() || (err as { code?: string }).code !== 'FAST_JWT_INVALID_SIGNATURE') throw err;
      return previous.verify(token);
    }
  };

  const signKeys = [app.signKey, ...k.retiredSignKeys.map((r) => r.signKey)];
  const byKid = new Map(signKeys.map((key) => [kidOf(key), key] as const));
  const verifiers = new Map<string, Verify>();
  const verifierFor = (key: string) => {
    let v = verifiers.get(key);
    if (!v) verifiers.set(key, (v = signVerifier(key)));
    return v;
  };
  const verifySign: Verify = (sign) => {
    const kid = headerKid(sign);
    if (kid !== undefined) {
      const key = byKid.get(kid);
      if (key === undefined) throw new Error('unknown kid');
      return verifierFor(key)(sign);
    }
    // Signs made before key ids were introduced carry none: the oldest key made them, so try
    // from the oldest (a handful of rotations at most).
    let last: unknown = new Error('no key');
    for (const key of [...signKeys].reverse()) {
      try {
        return verifierFor(key)(sign);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  };

  const signKid = kidOf(app.signKey);
  const revoked = new Map(k.revocations.map((r) => [r.userId, r.before] as const));
  const slotsRevoked = new Map(revoked);
  for (const r of k.slotRevocations) slotsRevoked.set(r.userId, Math.max(r.before, revoked.get(r.userId) ?? 0));
  return {
    app,
    verified,
    verifyToken,
    verifySign,
    sign: hs256Signer(app.signKey, signKid),
    signKid,
    blobKeys: k.retiredSignKeys[0] ? [app.signKey, k.retiredSignKeys[0].signKey] : [app.signKey],
    revokedBefore: (userId) => revoked.get(userId),
    slotsRevokedBefore: (userId) => slotsRevoked.get(userId),
  };
}

/** The kid in a JWT's header, undefined when there is none (or the header is unreadable). */
function headerKid(jwt: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(jwt.slice(0, jwt.indexOf('.')), 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/** Mint an access token as the IM server would: HS256 over the app secret. */
export function mintAccessToken(
  secret: string,
  claims: { app: string; sub: string; role: 1 | 2 },
  ttlSeconds: number | undefined,
): string {
  const signer = createSigner({ key: secret, algorithm: 'HS256', ...(ttlSeconds ? { expiresIn: ttlSeconds * 1000 } : {}) });
  return signer({ ...claims }) as string;
}
