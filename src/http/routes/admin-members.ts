// The admin API's membership routes (design brief, "Bulk push"), registered on the admin
// plugin's instance so its key check, JSON reader and error handler apply.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MembershipAdmin } from '../../admin/membership-admin.ts';
import type { Services } from '../../services.ts';

const groupParams = Type.Object({ app_id: Type.String(), group_id: Type.String() });
// Members are checked one by one by the admin service, which names the first bad one.
const pushBody = Type.Object({ members: Type.Array(Type.Unknown()), version: Type.Optional(Type.Unknown()) });
const patchBody = Type.Object({ history_visible: Type.Boolean() });
/** 200,000 members of about 80 bytes each, with room */
const PUSH_BODY_LIMIT = 32 * 1024 * 1024;

export function membershipAdminRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const admin = new MembershipAdmin(services.meta, services.membership);

  app.put('/admin/apps/:app_id/groups/:group_id/members', { bodyLimit: PUSH_BODY_LIMIT, schema: { params: groupParams, body: pushBody } }, async (req) =>
    admin.push(req.params.app_id, req.params.group_id, req.body),
  );
  app.get('/admin/apps/:app_id/groups/:group_id/members', { schema: { params: groupParams } }, async (req) => admin.list(req.params.app_id, req.params.group_id));
  app.delete('/admin/apps/:app_id/groups/:group_id', { schema: { params: groupParams } }, async (req) => admin.dissolve(req.params.app_id, req.params.group_id));
  app.patch('/admin/apps/:app_id/groups/:group_id', { schema: { params: groupParams, body: patchBody } }, async (req) =>
    admin.patch(req.params.app_id, req.params.group_id, req.body),
  );
}
