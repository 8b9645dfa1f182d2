// An app's lifecycle settings (PATCH /admin/apps/:app_id): retention per kind, quotas, and the
// membership URL. Stored as one JSON document per app. The admin API and the janitor read them
// from the database; the hot path (a quota check on every slot and upload) reuses what this node
// read for up to a second, so a change applies at once on the node that made it and within a
// second on every other node (as an app's membership URL does).
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../primitives/bounded-cache.ts';
import { Codes, FerryError, badParam } from '../errors.ts';
import { checkMembershipUrl, ConfigError } from '../config.ts';
import type { FileRecord, UsageKind } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import { audit, dayOf, type Actor } from './lifecycle.ts';

export const KINDS: readonly UsageKind[] = ['chat', 'voice', 'image', 'video', 'shared', 'avatar'];

export interface AppSettings {
  /** days a file of the kind is kept after its upload; 0 or absent: kept */
  retention_days: Partial<Record<UsageKind, number>>;
  quota: { app_bytes?: number; user_daily_bytes?: number };
  membership_url?: string;
}

export interface SettingsPatch {
  retention_days?: Partial<Record<UsageKind, number>>;
  /** null removes a quota */
  quota?: { app_bytes?: number | null; user_daily_bytes?: number | null };
  membership_url?: string | null;
}

const empty = (): AppSettings => ({ retention_days: {}, quota: {} });

export async function loadSettings(s: Pick<Services, 'meta'>, appId: string): Promise<AppSettings> {
  const [json, membershipUrl] = await Promise.all([s.meta.getAppSettings(appId), s.meta.getMembershipUrl(appId)]);
  const parsed = json === null ? {} : (JSON.parse(json) as Partial<AppSettings>);
  // The membership URL lives where the membership lookups read it (membership_settings).
  delete parsed.membership_url;
  return { ...empty(), ...parsed, retention_days: parsed.retention_days ?? {}, quota: parsed.quota ?? {}, ...(membershipUrl ? { membership_url: membershipUrl } : {}) };
}

/** how long a node reuses an app's settings on the hot path */
export const SETTINGS_TTL_MS = 1_000;

/** app → its settings, as the hot path last read them (Services.settings) */
export type SettingsCache = LRUCache<string, AppSettings>;

export const newSettingsCache = (max = 10_000): SettingsCache => boundedCache<string, AppSettings>(max, { ttl: SETTINGS_TTL_MS });

/** The settings a slot or an upload checks its quota against: this node's copy, at most a second old. */
async function hotSettings(s: Pick<Services, 'meta' | 'settings'>, appId: string): Promise<AppSettings> {
  const hit = s.settings.get(appId);
  if (hit) return hit;
  const read = await loadSettings(s, appId);
  s.settings.set(appId, read);
  return read;
}

/** Apply a patch (already checked by the route's schema) and store the result. */
export async function patchSettings(s: Pick<Services, 'meta'> & Partial<Pick<Services, 'settings'>>, appId: string, patch: SettingsPatch): Promise<AppSettings> {
  const next = await loadSettings(s, appId);
  for (const [kind, days] of Object.entries(patch.retention_days ?? {}) as Array<[UsageKind, number]>) {
    if (days === 0) delete next.retention_days[kind];
    else next.retention_days[kind] = days;
  }
  for (const [name, value] of Object.entries(patch.quota ?? {}) as Array<['app_bytes' | 'user_daily_bytes', number | null]>) {
    if (value === null) delete next.quota[name];
    else next.quota[name] = value;
  }
  if (patch.membership_url !== undefined) {
    if (patch.membership_url !== null) {
      try {
        checkMembershipUrl('membership_url', patch.membership_url);
      } catch (err) {
        if (err instanceof ConfigError) throw badParam(err.message);
        throw err;
      }
    }
    await s.meta.setMembershipUrl(appId, patch.membership_url);
    if (patch.membership_url === null) delete next.membership_url;
    else next.membership_url = patch.membership_url;
  }
  const { membership_url: _kept, ...stored } = next;
  await s.meta.putAppSettings(appId, JSON.stringify(stored));
  // This node applies the change at once (the CLI, another process, has no copy to drop).
  s.settings?.delete(appId);
  return next;
}

/** An app as GET/PATCH /admin/apps/:app_id (and the CLI's `app set`) show it. */
export async function appView(s: Pick<Services, 'meta'>, app: { appId: string; createdAt: number }): Promise<{ app_id: string; created_at: number; settings: AppSettings }> {
  return { app_id: app.appId, created_at: app.createdAt, settings: await loadSettings(s, app.appId) };
}

/** PATCH /admin/apps/:app_id and `ferry app set`: apply, write to the audit log, show the result. */
export async function changeSettings(s: Pick<Services, 'meta'> & Partial<Pick<Services, 'settings'>>, app: { appId: string; createdAt: number }, patch: SettingsPatch, actor: Actor) {
  const settings = await patchSettings(s, app.appId, patch);
  await audit(s.meta, app.appId, actor, 'app.settings', app.appId, patch);
  return { app_id: app.appId, created_at: app.createdAt, settings };
}

/** heaviest users listed by GET …/usage */
const TOP_USERS = 20;

/** How many days of history GET …/usage returns unless asked (?days=), and at most. */
export const HISTORY_DAYS = { default: 30, max: 366 } as const;

/**
 * GET /admin/apps/:app_id/usage and `ferry usage`: bytes and files by kind, the heaviest users,
 * and what was added and removed per UTC day and kind over the last `days` days (today included).
 */
export async function appUsage(s: Pick<Services, 'meta'>, appId: string, days: number = HISTORY_DAYS.default) {
  const rows = await s.meta.getUsage(appId);
  const byKind: Record<string, { bytes: number; files: number }> = {};
  const users = new Map<string, { user_id: string; bytes: number; files: number }>();
  for (const r of rows) {
    if (r.userId === '*') {
      byKind[r.kind] = { bytes: r.bytes, files: r.files };
      continue;
    }
    const u = users.get(r.userId) ?? { user_id: r.userId, bytes: 0, files: 0 };
    u.bytes += r.bytes;
    u.files += r.files;
    users.set(r.userId, u);
  }
  const total = Object.values(byKind).reduce((t, k) => ({ bytes: t.bytes + k.bytes, files: t.files + k.files }), { bytes: 0, files: 0 });
  const heaviest = [...users.values()].filter((u) => u.bytes > 0).sort((x, y) => y.bytes - x.bytes || x.user_id.localeCompare(y.user_id)).slice(0, TOP_USERS);
  const fromDay = dayOf(Date.now() - (days - 1) * 86_400_000);
  const history = (await s.meta.listUsageDays(appId, fromDay)).map((d) => ({
    day: d.day,
    kind: d.kind,
    bytes_added: d.bytesAdded,
    files_added: d.filesAdded,
    bytes_removed: d.bytesRemoved,
    files_removed: d.filesRemoved,
  }));
  return { app_id: appId, ...total, by_kind: byKind, heaviest_users: heaviest, history };
}

/** What a quota leaves for one more upload of this user, and which quota binds (null: none). */
export interface QuotaRoom {
  bytes: number;
  code: typeof Codes.QUOTA_APP_BYTES | typeof Codes.QUOTA_USER_DAILY | null;
}

export async function quotaRoom(s: Services, appId: string, userId: string, now = Date.now()): Promise<QuotaRoom> {
  const { quota } = await hotSettings(s, appId);
  let room: QuotaRoom = { bytes: Number.POSITIVE_INFINITY, code: null };
  if (quota.app_bytes !== undefined) {
    const used = (await s.meta.getUsage(appId, '*')).reduce((sum, r) => sum + r.bytes, 0);
    room = { bytes: quota.app_bytes - used, code: Codes.QUOTA_APP_BYTES };
  }
  if (quota.user_daily_bytes !== undefined) {
    const left = quota.user_daily_bytes - (await s.meta.getDailyBytes(appId, userId, dayOf(now)));
    if (left < room.bytes) room = { bytes: left, code: Codes.QUOTA_USER_DAILY };
  }
  return room;
}

export function quotaError(code: NonNullable<QuotaRoom['code']>): FerryError {
  return code === Codes.QUOTA_APP_BYTES
    ? new FerryError(code, "the app's storage quota (quota.app_bytes) is used up")
    : new FerryError(code, "this user's daily upload quota (quota.user_daily_bytes) is used up");
}

/**
 * Whether the app has no quota, known without a read (this node holds its settings): a slot
 * then has nothing to refuse it for. false says nothing: refuseSlotOverQuota decides.
 */
export function noQuotaToCheck(s: Pick<Services, 'settings'>, appId: string): boolean {
  const quota = s.settings.get(appId)?.quota;
  return quota !== undefined && quota.app_bytes === undefined && quota.user_daily_bytes === undefined;
}

/** A slot is refused when the quota leaves no byte at all. */
export async function refuseSlotOverQuota(s: Services, appId: string, userId: string): Promise<void> {
  const room = await quotaRoom(s, appId, userId);
  if (room.code !== null && room.bytes <= 0) throw quotaError(room.code);
}

/** The uploader, whose usage and daily quota an upload counts against. */
export const uploaderOf = (file: FileRecord) => file.ownerId;
