// Paged listings on the admin API (GET /admin/apps, GET /admin/apps/:app_id/groups), registered
// on the admin plugin's instance so the admin key hook and error handler apply.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AdminLists } from '../../admin/lists.ts';
import type { Services } from '../../services.ts';

// Query values arrive as strings; AdminLists checks them and names the bad one.
const pageQuery = Type.Object({ after: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.String({ maxLength: 8 })) });
const groupQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 40 })),
  limit: Type.Optional(Type.String({ maxLength: 8 })),
  owner_id: Type.Optional(Type.String({ maxLength: 40 })),
  group_id: Type.Optional(Type.String({ maxLength: 40 })),
});
const appParams = Type.Object({ app_id: Type.String() });

export function listAdminRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const lists = new AdminLists(services.meta);
  app.get('/admin/apps', { schema: { querystring: pageQuery } }, async (req) => lists.apps(req.query));
  app.get('/admin/apps/:app_id/groups', { schema: { params: appParams, querystring: groupQuery } }, async (req) => lists.groups(req.params.app_id, req.query));
}
