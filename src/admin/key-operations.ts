// Rotating an app's keys and revoking a user's tokens: the operator's answer to a leaked secret
// or a lost phone. Shared by the admin HTTP API and the ferry CLI.
import { randomBytes } from 'node:crypto';
import { isValidAppId } from '../auth/credentials.ts';
import { kidOf, type AppRegistry } from '../auth/app-registry.ts';
import { canonicalId } from '../ids.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { AdminError } from './admin-service.ts';

/** How long the replaced secret keeps working when the operator names no grace period. */
export const DEFAULT_SECRET_GRACE_S = 3600;
/** Long enough to roll a secret through a fleet of IM servers, short enough to matter. */
export const MAX_SECRET_GRACE_S = 30 * 86400;

export interface Rotated {
  app_id: string;
  /** shown once: Ferry does not answer it again */
  secret: string;
  /** the kid of the new file-sign key (signs made from now on carry it) */
  sign_kid: string;
  /** ms: the replaced secret is accepted until then */
  previous_secret_valid_until: number;
}

export class KeyOperations {
  constructor(
    private readonly meta: MetaStore,
    /** this node's cache, dropped at once (other nodes notice within a second) */
    private readonly apps?: AppRegistry,
  ) {}

  private notFound(appId: string): AdminError {
    return new AdminError(404, `app ${appId} not found`);
  }

  /**
   * A new secret and a new file-sign key. The replaced secret stays accepted for grace_s (tokens
   * the IM server minted with it keep working while it switches); a secret replaced by an
   * earlier rotation stops at once. Every sign already handed out keeps working: its kid names
   * the key that made it.
   */
  async rotateSecret(appId: string, body: { grace_s?: unknown }, now = Date.now()): Promise<Rotated> {
    const grace = body.grace_s ?? DEFAULT_SECRET_GRACE_S;
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > MAX_SECRET_GRACE_S) {
      throw new AdminError(400, `grace_s must be a whole number of seconds from 0 to ${MAX_SECRET_GRACE_S}`);
    }
    if (!isValidAppId(appId)) throw this.notFound(appId);
    const secret = randomBytes(32).toString('base64url');
    const signKey = randomBytes(32).toString('base64url');
    const until = now + grace * 1000;
    if (!(await this.meta.rotateAppKeys(appId, { secret, signKey }, until, now))) throw this.notFound(appId);
    this.apps?.forget(appId);
    return { app_id: appId, secret, sign_kid: kidOf(signKey), previous_secret_valid_until: until };
  }

  /**
   * Refuse the user's tokens issued before `before` (ms, default now; never in the future, which
   * would refuse tokens not minted yet). Tokens the IM server mints afterwards work.
   */
  async revokeTokens(appId: string, body: { user_id?: unknown; before?: unknown }, now = Date.now()): Promise<{ app_id: string; user_id: string; before: number }> {
    const userId = canonicalId(body.user_id);
    if (userId === null) throw new AdminError(400, 'user_id must be a positive 64-bit integer (a string keeps large values exact)');
    const before = body.before ?? now;
    if (typeof before !== 'number' || !Number.isSafeInteger(before) || before < 0) {
      throw new AdminError(400, 'before must be a time in milliseconds since 1970 (an integer)');
    }
    if (before > now) throw new AdminError(400, `before is in the future (${before} > now ${now}): it may be at most the current time`);
    if (!isValidAppId(appId) || !(await this.meta.revokeTokens(appId, userId, before))) throw this.notFound(appId);
    this.apps?.forget(appId);
    return { app_id: appId, user_id: userId, before };
  }
}
