// The operator's file routes (design brief, "Files, for operators"): look a file up, delete,
// quarantine and release URLs, erase a user's files, read the audit log. Registered on the admin
// plugin's instance, so the admin key, JSON parser and error handler apply.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AdminError } from '../../admin/admin-service.ts';
import { isValidAppId } from '../../auth/credentials.ts';
import { canonicalId } from '../../ids.ts';
import { audit, deleteUrls, eraseUser, lookupFile, MAX_URLS, quarantineUrls, releaseUrls } from '../../pipelines/lifecycle.ts';
import type { Services } from '../../services.ts';
import { KINDS, loadSettings, patchSettings } from '../../pipelines/app-settings.ts';

const appParams = Type.Object({ app_id: Type.String() });
const userParams = Type.Object({ app_id: Type.String(), user_id: Type.String() });
// Items are checked one by one: a malformed URL is a result of its own, not a failed request.
const urls = Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_URLS });
const deleteBody = Type.Object({ urls, all_copies: Type.Optional(Type.Boolean()) });
const quarantineBody = Type.Object({ urls, reason: Type.String({ minLength: 1, maxLength: 1000 }) });
const releaseBody = Type.Object({ urls });
const lookupQuery = Type.Object({ url: Type.String({ minLength: 1, maxLength: 8192 }) });
const auditQuery = Type.Object({
  before: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
});

const days = Type.Integer({ minimum: 0, maximum: 36500 });
const bytes = Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()]);
const settingsBody = Type.Object(
  {
    retention_days: Type.Optional(Type.Object(Object.fromEntries(KINDS.map((k) => [k, Type.Optional(days)])), { additionalProperties: false })),
    quota: Type.Optional(Type.Object({ app_bytes: Type.Optional(bytes), user_daily_bytes: Type.Optional(bytes) }, { additionalProperties: false })),
    membership_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048, pattern: '^https?://' }), Type.Null()])),
  },
  { additionalProperties: false },
);
/** heaviest users listed by GET …/usage */
const TOP_USERS = 20;

export function fileAdminRoutes(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const appOf = (appId: string) => {
    if (!isValidAppId(appId)) throw new AdminError(404, `app ${appId} not found`);
    return appId;
  };

  app.get('/admin/apps/:app_id/files', { schema: { params: appParams, querystring: lookupQuery } }, async (req) =>
    lookupFile(s, appOf(req.params.app_id), req.query.url),
  );

  app.post('/admin/apps/:app_id/files/delete', { schema: { params: appParams, body: deleteBody } }, async (req) =>
    deleteUrls(s, appOf(req.params.app_id), req.body.urls, { allCopies: req.body.all_copies }, 'admin-key'),
  );

  app.post('/admin/apps/:app_id/files/quarantine', { schema: { params: appParams, body: quarantineBody } }, async (req) =>
    quarantineUrls(s, appOf(req.params.app_id), req.body.urls, req.body.reason, 'admin-key'),
  );

  app.post('/admin/apps/:app_id/files/release', { schema: { params: appParams, body: releaseBody } }, async (req) =>
    releaseUrls(s, appOf(req.params.app_id), req.body.urls, 'admin-key'),
  );

  app.delete('/admin/apps/:app_id/users/:user_id/files', { schema: { params: userParams } }, async (req) => {
    const userId = canonicalId(req.params.user_id);
    if (userId === null) throw new AdminError(400, 'user_id must be a positive 64-bit integer');
    return eraseUser(s, appOf(req.params.app_id), userId, 'admin-key');
  });

  const existing = async (appId: string) => {
    const app = await s.meta.getApp(appOf(appId));
    if (!app) throw new AdminError(404, `app ${appId} not found`);
    return app;
  };

  app.get('/admin/apps/:app_id', { schema: { params: appParams } }, async (req) => {
    const a = await existing(req.params.app_id);
    return { app_id: a.appId, created_at: a.createdAt, settings: await loadSettings(s, a.appId) };
  });

  app.patch('/admin/apps/:app_id', { schema: { params: appParams, body: settingsBody } }, async (req) => {
    const a = await existing(req.params.app_id);
    const settings = await patchSettings(s, a.appId, req.body);
    await audit(s.meta, a.appId, 'admin-key', 'app.settings', a.appId, req.body);
    return { app_id: a.appId, created_at: a.createdAt, settings };
  });

  app.get('/admin/apps/:app_id/usage', { schema: { params: appParams } }, async (req) => {
    const a = await existing(req.params.app_id);
    const rows = await s.meta.getUsage(a.appId);
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
    return { app_id: a.appId, ...total, by_kind: byKind, heaviest_users: heaviest };
  });

  app.get('/admin/apps/:app_id/audit', { schema: { params: appParams, querystring: auditQuery } }, async (req) => {
    const appId = appOf(req.params.app_id);
    if (!(await s.meta.getApp(appId))) throw new AdminError(404, `app ${appId} not found`);
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100), 1), 1000);
    const entries = await s.meta.listAudit(appId, req.query.before ?? null, limit);
    return {
      entries: entries.map((e) => ({ id: e.id, at: e.at, actor: e.actor, action: e.action, target: e.target, detail: e.detail === null ? null : (JSON.parse(e.detail) as unknown) })),
      // the next page: pass it as ?before=
      next: entries.length === limit ? entries[entries.length - 1]!.id : null,
    };
  });
}
