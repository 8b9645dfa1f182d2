// The operator's membership operations (design brief, "Bulk push"), shared by the admin HTTP
// API and `ferry members import`: replace a group's member list, list it, dissolve a group, set
// whether new members see its history, and an app's own IM server URL.
import { isValidAppId } from '../auth/credentials.ts';
import { checkMembershipUrl, ConfigError } from '../config.ts';
import { canonicalId } from '../ids.ts';
import type { MemberEntry, MemberRole, MetaStore } from '../meta/meta-store.ts';
import type { Membership } from '../membership/membership.ts';
import { AdminError } from './admin-service.ts';

/** members in one push; bigger groups come in through `ferry members import` */
export const MAX_PUSH_MEMBERS = 200_000;
/** a joined_at ahead of Ferry's clock by more than this is refused (clocks drift a little) */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const ROLES: readonly MemberRole[] = ['member', 'admin', 'owner'];

export interface MemberJson {
  user_id: string;
  role: MemberRole;
  joined_at: number | null;
}

function id(name: string, value: unknown): string {
  const v = canonicalId(value);
  if (v === null) throw new AdminError(400, `${name} must be a positive 64-bit integer (a string keeps large values exact)`);
  return v;
}

/** One member as pushed or imported: {user_id, role?, joined_at?}; `where` names it in errors. */
export function parseMember(raw: unknown, where: string, now: number): MemberEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AdminError(400, `${where} must be an object {"user_id", "role"?, "joined_at"?}`);
  const o = raw as Record<string, unknown>;
  const userId = canonicalId(o.user_id);
  if (userId === null) throw new AdminError(400, `${where}.user_id must be a positive 64-bit integer (a string keeps large values exact)`);
  const role = (o.role ?? 'member') as MemberRole;
  if (!ROLES.includes(role)) throw new AdminError(400, `${where}.role must be "member", "admin" or "owner"`);
  let joinedAt: number | null = null;
  if (o.joined_at !== undefined && o.joined_at !== null) {
    if (typeof o.joined_at !== 'number' || !Number.isSafeInteger(o.joined_at) || o.joined_at < 0) {
      throw new AdminError(400, `${where}.joined_at must be a time in ms (a whole number)`);
    }
    if (o.joined_at > now + MAX_CLOCK_SKEW_MS) throw new AdminError(400, `${where}.joined_at (${o.joined_at}) is in the future`);
    joinedAt = o.joined_at;
  }
  return { userId, role, joinedAt };
}

/** Every member checked, no user twice, at most one owner: the first problem is named. */
export function parseMemberList(raw: unknown, now: number): MemberEntry[] {
  if (!Array.isArray(raw)) throw new AdminError(400, '"members" must be an array of {"user_id", "role"?, "joined_at"?}');
  if (raw.length > MAX_PUSH_MEMBERS) {
    throw new AdminError(400, `"members" holds ${raw.length} members; at most ${MAX_PUSH_MEMBERS} per push (use \`ferry members import\` for more)`);
  }
  const seen = new Set<string>();
  let owner: string | null = null;
  return raw.map((m, i) => {
    const e = parseMember(m, `members[${i}]`, now);
    if (seen.has(e.userId)) throw new AdminError(400, `members[${i}].user_id ${e.userId} is listed twice`);
    seen.add(e.userId);
    if (e.role === 'owner') {
      if (owner !== null) throw new AdminError(400, `members[${i}]: a group has one owner, and ${owner} is already listed as owner`);
      owner = e.userId;
    }
    return e;
  });
}

const memberJson = (m: MemberEntry): MemberJson => ({ user_id: m.userId, role: m.role, joined_at: m.joinedAt });

export class MembershipAdmin {
  constructor(
    private readonly meta: MetaStore,
    /** the server's membership service, whose node-local copies go at once after a change */
    private readonly membership?: Membership,
  ) {}

  private async app(appId: string): Promise<void> {
    if (!isValidAppId(appId) || !(await this.meta.getApp(appId))) throw new AdminError(404, `app ${appId} not found`);
  }

  async push(appId: string, rawGroupId: string, body: { members?: unknown; version?: unknown }) {
    await this.app(appId);
    const groupId = id('group_id', rawGroupId);
    if (body.version !== undefined && (typeof body.version !== 'number' || !Number.isSafeInteger(body.version) || body.version < 0)) {
      throw new AdminError(400, 'version must be a whole number, 0 or more');
    }
    const now = Date.now();
    const members = parseMemberList(body.members, now);
    const res = await this.meta.replaceMembers(appId, groupId, members, { now, ...(body.version === undefined ? {} : { version: body.version }) });
    this.membership?.forget();
    if (!res.applied) {
      return { app_id: appId, group_id: groupId, applied: false, version: res.version, message: `version ${String(body.version)} is not above the stored version ${res.version}: nothing changed` };
    }
    return { app_id: appId, group_id: groupId, applied: true, version: res.version, count: res.count };
  }

  async list(appId: string, rawGroupId: string) {
    await this.app(appId);
    const groupId = id('group_id', rawGroupId);
    const g = await this.meta.listMembers(appId, groupId);
    if (!g) throw new AdminError(404, `group ${groupId} not found in app ${appId}`);
    return { app_id: appId, group_id: groupId, version: g.version, history_visible: g.historyVisible, members: g.members.map(memberJson) };
  }

  async dissolve(appId: string, rawGroupId: string) {
    await this.app(appId);
    const groupId = id('group_id', rawGroupId);
    if (!(await this.meta.dismissGroup(appId, groupId, Date.now()))) throw new AdminError(404, `group ${groupId} not found in app ${appId}`);
    this.membership?.forget();
    return { app_id: appId, group_id: groupId, dissolved: true };
  }

  async patch(appId: string, rawGroupId: string, body: { history_visible?: unknown }) {
    await this.app(appId);
    const groupId = id('group_id', rawGroupId);
    if (typeof body.history_visible !== 'boolean') throw new AdminError(400, 'history_visible must be true or false');
    if (!(await this.meta.setHistoryVisible(appId, groupId, body.history_visible))) throw new AdminError(404, `group ${groupId} not found in app ${appId}`);
    this.membership?.forget();
    return { app_id: appId, group_id: groupId, history_visible: body.history_visible };
  }

  /**
   * An app's own IM server URL (null: FERRY_MEMBERSHIP_URL). The design brief puts it under
   * PATCH /admin/apps/:app_id, whose route belongs with the other app settings: it calls this.
   */
  async setMembershipUrl(appId: string, url: unknown): Promise<{ membership_url: string | null }> {
    await this.app(appId);
    if (url !== null && typeof url !== 'string') throw new AdminError(400, 'membership_url must be an http(s) URL or null');
    try {
      if (typeof url === 'string') checkMembershipUrl('membership_url', url);
    } catch (err) {
      if (err instanceof ConfigError) throw new AdminError(400, err.message);
      throw err;
    }
    await this.meta.setMembershipUrl(appId, url);
    this.membership?.forget();
    return { membership_url: url };
  }
}
