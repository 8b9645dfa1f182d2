// The operator's file routes (design brief, "Files, for operators"): look a file up, delete,
// quarantine and release URLs, erase a user's files, read the audit log. Registered on the admin
// plugin's instance, so the admin key, JSON parser and error handler apply.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AdminError } from '../../admin/admin-service.ts';
import { isValidAppId } from '../../auth/credentials.ts';
import { canonicalId } from '../../ids.ts';
import { deleteUrls, eraseUser, lookupFile, MAX_URLS, quarantineUrls, releaseUrls } from '../../pipelines/lifecycle.ts';
import type { Services } from '../../services.ts';
import { appUsage, appView, changeSettings, HISTORY_DAYS, KINDS } from '../../pipelines/app-settings.ts';

const appParams = Type.Object({ app_id: Type.String() });
/** MAX_URLS download_urls of a few hundred characters each: far above the admin API's 64 KiB */
const URLS_BODY_LIMIT = 4 * 1024 * 1024;
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
// Query values arrive as strings (the admin validator does not coerce): the route checks the range.
const usageQuery = Type.Object({
  days: Type.Optional(
    Type.String({ maxLength: 8, description: `days of history, today included: 1-${HISTORY_DAYS.max} (default ${HISTORY_DAYS.default})` }),
  ),
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

export function fileAdminRoutes(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const appOf = (appId: string) => {
    if (!isValidAppId(appId)) throw new AdminError(404, `app ${appId} not found`);
    return appId;
  };

  app.get('/admin/apps/:app_id/files', { schema: { params: appParams, querystring: lookupQuery } }, async (req) =>
    lookupFile(s, appOf(req.params.app_id), req.query.url),
  );

  app.post('/admin/apps/:app_id/files/delete', { bodyLimit: URLS_BODY_LIMIT, schema: { params: appParams, body: deleteBody } }, async (req) =>
    deleteUrls(s, appOf(req.params.app_id), req.body.urls, { allCopies: req.body.all_copies }, 'admin-key'),
  );

  app.post('/admin/apps/:app_id/files/quarantine', { bodyLimit: URLS_BODY_LIMIT, schema: { params: appParams, body: quarantineBody } }, async (req) =>
    quarantineUrls(s, appOf(req.params.app_id), req.body.urls, req.body.reason, 'admin-key'),
  );

  app.post('/admin/apps/:app_id/files/release', { bodyLimit: URLS_BODY_LIMIT, schema: { params: appParams, body: releaseBody } }, async (req) =>
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

  app.get('/admin/apps/:app_id', { schema: { params: appParams } }, async (req) => appView(s, await existing(req.params.app_id)));

  app.patch('/admin/apps/:app_id', { schema: { params: appParams, body: settingsBody } }, async (req) =>
    changeSettings(s, await existing(req.params.app_id), req.body, 'admin-key'),
  );

  app.get('/admin/apps/:app_id/usage', { schema: { params: appParams, querystring: usageQuery } }, async (req) => {
    const raw = req.query.days;
    const n = raw === undefined ? HISTORY_DAYS.default : /^[0-9]{1,3}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= HISTORY_DAYS.max)) throw new AdminError(400, `days must be a whole number from 1 to ${HISTORY_DAYS.max}`);
    return appUsage(s, (await existing(req.params.app_id)).appId, n);
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
