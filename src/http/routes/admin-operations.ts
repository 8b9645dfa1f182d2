// Admin routes for key rotation and token revocation (src/admin/key-operations.ts), registered
// on the admin plugin's instance so its key check, JSON reader and error handler apply.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { KeyOperations, MAX_SECRET_GRACE_S } from '../../admin/key-operations.ts';
import type { Services } from '../../services.ts';

const appParams = Type.Object({ app_id: Type.String() });
const rotateBody = Type.Object({ grace_s: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SECRET_GRACE_S })) });
const revokeBody = Type.Object({
  user_id: Type.Unsafe<string | number>({ type: ['string', 'integer'], maxLength: 40, minimum: 1 }),
  /** ms since 1970; default now */
  before: Type.Optional(Type.Integer({ minimum: 0 })),
});

export function operationsAdminRoutes(fastify: FastifyInstance, services: Services): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const ops = new KeyOperations(services.meta, services.apps);

  app.post('/admin/apps/:app_id/secret/rotate', { schema: { params: appParams, body: rotateBody } }, async (req) =>
    ops.rotateSecret(req.params.app_id, req.body),
  );

  app.post('/admin/apps/:app_id/tokens/revoke', { schema: { params: appParams, body: revokeBody } }, async (req) =>
    ops.revokeTokens(req.params.app_id, req.body),
  );
}
