// Paged listings for operators (the console, `ferry app list`, `ferry group list`): keyset
// paging, where `next` is the last id of a full page and is passed back as `after`.
import { isValidAppId } from '../auth/credentials.ts';
import { canonicalId } from '../ids.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import { AdminError } from './admin-service.ts';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

export interface PageQuery {
  after?: unknown;
  limit?: unknown;
}

function limitOf(raw: unknown): number {
  if (raw === undefined || raw === '') return DEFAULT_PAGE;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new AdminError(400, `limit must be a whole number from 1 to ${MAX_PAGE}`);
  return n;
}

function optionalId(name: string, raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const v = canonicalId(raw);
  if (v === null) throw new AdminError(400, `${name} must be a positive 64-bit integer`);
  return v;
}

export class AdminLists {
  constructor(private readonly meta: MetaStore) {}

  /** {apps: [{app_id, created_at}], next}; secrets are never listed. */
  async apps(q: PageQuery): Promise<{ apps: { app_id: string; created_at: number }[]; next: string | null }> {
    const limit = limitOf(q.limit);
    let after: string | undefined;
    if (q.after !== undefined && q.after !== '') {
      if (typeof q.after !== 'string' || !isValidAppId(q.after)) throw new AdminError(400, 'after must be an app_id (1–64 letters, digits, "_" or "-")');
      after = q.after;
    }
    const rows = await this.meta.listApps({ after, limit });
    return {
      apps: rows.map((a) => ({ app_id: a.appId, created_at: a.createdAt })),
      next: rows.length === limit ? rows[rows.length - 1]!.appId : null,
    };
  }

  /** {groups: [{group_id, owner_id}], next}; group_id finds one group, owner_id filters. */
  async groups(appId: string, q: PageQuery & { owner_id?: unknown; group_id?: unknown }) {
    if (!isValidAppId(appId) || !(await this.meta.getApp(appId))) throw new AdminError(404, `app ${appId} not found`);
    const limit = limitOf(q.limit);
    const after = optionalId('after', q.after);
    const ownerId = optionalId('owner_id', q.owner_id);
    const groupId = optionalId('group_id', q.group_id);
    let rows;
    if (groupId !== undefined) {
      const g = await this.meta.getGroup(appId, groupId);
      rows = g && (ownerId === undefined || g.ownerId === ownerId) ? [g] : [];
    } else {
      rows = await this.meta.listGroups(appId, { after, limit, ownerId });
    }
    return {
      app_id: appId,
      groups: rows.map((g) => ({ group_id: g.groupId, owner_id: g.ownerId })),
      next: groupId === undefined && rows.length === limit ? rows[rows.length - 1]!.groupId : null,
    };
  }
}
