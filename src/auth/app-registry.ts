// Apps change rarely and are read on every request, so their records and the JWT verifiers
// built from their keys are cached here. An app that does not exist is cached briefly too, so a
// flood of bad app_ids does not become a flood of database reads.
import { createSigner, createVerifier } from 'fast-jwt';
import { LRUCache } from 'lru-cache';
import type { AppRecord, MetaStore } from '../meta/meta-store.ts';
import { DEFAULT_TOKEN_POLICY, type TokenPolicy } from '../config.ts';
import { SIGN_CACHE_MS, TOKEN_CACHE_MS, VerifiedCache } from './verified-cache.ts';
import type { SignClaims } from './file-sign.ts';
import type { BlobClaims } from './blob-capability.ts';

type Verify = (token: string) => Record<string, unknown>;
type Sign = (payload: Record<string, unknown>) => string;

export interface AppKeys {
  app: AppRecord;
  verifyToken: Verify;
  verifySign: Verify;
  sign: Sign;
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

export class AppRegistry {
  private readonly cache = new LRUCache<string, { keys: AppKeys | null; until: number }>({ max: 10_000 });
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

  async get(appId: string): Promise<AppKeys | null> {
    const hit = this.cache.get(appId);
    if (hit && (hit.keys !== null || hit.until > Date.now())) return hit.keys;
    const app = await this.meta.getApp(appId);
    const keys = app ? buildKeys(app, this.verified) : null;
    this.cache.set(appId, { keys, until: Date.now() + MISSING_TTL_MS });
    return keys;
  }

  forget(appId: string): void {
    this.cache.delete(appId);
  }
}

function buildKeys(app: AppRecord, verified: Verified): AppKeys {
  return {
    app,
    verified,
    // Only HMAC algorithms: a token can never pick "none" or a public-key algorithm.
    verifyToken: createVerifier({ key: app.secret, algorithms: ['HS256', 'HS512'], cache: 10_000 }) as Verify,
    verifySign: createVerifier({ key: app.signKey, algorithms: ['HS256'], cache: 10_000 }) as Verify,
    sign: createSigner({ key: app.signKey, algorithm: 'HS256' }) as Sign,
  };
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
