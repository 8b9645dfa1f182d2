// The operator's operations, shared by the admin HTTP API and the ferry CLI.
import { randomBytes } from 'node:crypto';
import { isValidAppId } from '../auth/credentials.ts';
import { mintAccessToken, type AppRegistry } from '../auth/app-registry.ts';
import { canonicalId } from '../ids.ts';
import { Codes, type FerryError } from '../errors.ts';
import { AlreadyExistsError, type MemberRole, type MetaStore } from '../meta/meta-store.ts';
import { DEFAULT_TOKEN_POLICY, type TokenPolicy } from '../config.ts';

/** Tokens minted without ttl_s live this long (or FERRY_TOKEN_MAX_TTL_S, when shorter). */
const DEFAULT_TOKEN_TTL_S = 7 * 86400;

/** An admin failure with its real HTTP status (the admin API is plain REST, not Lanying). */
export class AdminError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The admin API's status for a client-facing refusal raised by a pipeline it calls (links make
 * previews): missing things are 404, a busy media queue or a timeout 503, the rest the caller's
 * mistake.
 */
export function adminStatusOf(err: FerryError): 400 | 404 | 503 {
  switch (err.code) {
    case Codes.NOT_FOUND:
    case Codes.NOT_UPLOADED:
    case Codes.APP_NOT_FOUND:
      return 404;
    case Codes.MEDIA_BUSY:
    case Codes.MEDIA_TIMEOUT:
    case Codes.STORAGE:
    case Codes.MEMBERSHIP_UNAVAILABLE:
      return 503;
    default:
      return 400;
  }
}

function id(name: string, value: unknown): string {
  const v = canonicalId(value);
  if (v === null) throw new AdminError(400, `${name} must be a positive 64-bit integer (a string keeps large values exact)`);
  return v;
}

const ROLES: readonly MemberRole[] = ['member', 'admin', 'owner'];

export class AdminService {
  constructor(
    private readonly meta: MetaStore,
    private readonly apps?: AppRegistry,
    /** minted tokens must pass the same policy the server checks */
    private readonly tokens: TokenPolicy = apps?.tokenPolicy ?? DEFAULT_TOKEN_POLICY,
  ) {}

  private async app(appId: string) {
    const app = isValidAppId(appId) ? await this.meta.getApp(appId) : null;
    if (!app) throw new AdminError(404, `app ${appId} not found`);
    return app;
  }

  private async group(appId: string, groupId: string) {
    const group = await this.meta.getGroup(appId, groupId);
    if (!group) throw new AdminError(404, `group ${groupId} not found in app ${appId}: create it with PUT /admin/apps/${appId}/groups/${groupId}`);
    return group;
  }

  async createApp(requested: unknown): Promise<{ app_id: string; secret: string }> {
    if (requested !== undefined && (typeof requested !== 'string' || !isValidAppId(requested))) {
      throw new AdminError(400, 'app_id must be 1–64 letters, digits, "_" or "-"');
    }
    const appId = (requested as string | undefined) ?? randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    try {
      await this.meta.createApp({ appId, secret, signKey: randomBytes(32).toString('base64url'), createdAt: Date.now() });
    } catch (err) {
      if (err instanceof AlreadyExistsError) throw new AdminError(409, `app ${appId} already exists`);
      throw err;
    }
    this.apps?.forget(appId);
    return { app_id: appId, secret };
  }

  async mintToken(appId: string, body: { user_id?: unknown; role?: unknown; ttl_s?: unknown }): Promise<{ token: string }> {
    const app = await this.app(appId);
    const userId = id('user_id', body.user_id);
    if (body.role !== undefined && body.role !== 'user' && body.role !== 'admin') throw new AdminError(400, 'role must be "user" or "admin"');
    let ttl: number | undefined;
    if (body.ttl_s !== undefined) {
      if (typeof body.ttl_s !== 'number' || !Number.isInteger(body.ttl_s) || body.ttl_s < 1) {
        throw new AdminError(400, 'ttl_s must be a whole number of seconds, at least 1');
      }
      if (body.ttl_s > this.tokens.maxTtlSeconds) {
        throw new AdminError(400, `ttl_s may be at most ${this.tokens.maxTtlSeconds} (FERRY_TOKEN_MAX_TTL_S)`);
      }
      ttl = body.ttl_s;
    }
    const token = mintAccessToken(app.secret, { app: appId, sub: userId, role: body.role === 'admin' ? 2 : 1 }, ttl ?? Math.min(DEFAULT_TOKEN_TTL_S, this.tokens.maxTtlSeconds));
    return { token };
  }

  async putGroup(appId: string, rawGroupId: string, body: { owner_id?: unknown }): Promise<{ app_id: string; group_id: string; owner_id: string }> {
    await this.app(appId);
    const groupId = id('group_id', rawGroupId);
    const ownerId = id('owner_id', body.owner_id);
    await this.meta.putGroup({ appId, groupId, ownerId });
    return { app_id: appId, group_id: groupId, owner_id: ownerId };
  }

  async putMember(appId: string, rawGroupId: string, rawUserId: string, body: { role?: unknown }) {
    await this.app(appId);
    const groupId = id('group_id', rawGroupId);
    const userId = id('user_id', rawUserId);
    const role = (body.role ?? 'member') as MemberRole;
    if (!ROLES.includes(role)) throw new AdminError(400, 'role must be "member", "admin" or "owner"');
    const group = await this.group(appId, groupId);
    // Demoting the owner would leave a group whose owner holds no owner role: ownership moves
    // only by naming the new owner, as with leaving.
    if (group.ownerId === userId && role !== 'owner') {
      throw new AdminError(409, `user ${userId} owns group ${groupId}: make someone else owner first`);
    }
    await this.meta.putMember(appId, groupId, userId, role);
    return { app_id: appId, group_id: groupId, user_id: userId, role };
  }

  async removeMember(appId: string, rawGroupId: string, rawUserId: string) {
    await this.app(appId);
    const groupId = id('group_id', rawGroupId);
    const userId = id('user_id', rawUserId);
    const group = await this.group(appId, groupId);
    if (group.ownerId === userId) throw new AdminError(409, 'the owner cannot leave the group: make someone else owner first');
    if (!(await this.meta.removeMember(appId, groupId, userId))) throw new AdminError(404, `user ${userId} is not a member of group ${groupId}`);
    return { app_id: appId, group_id: groupId, user_id: userId, removed: true };
  }
}
