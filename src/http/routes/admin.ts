// The admin HTTP API (design brief): plain JSON with real HTTP statuses, behind x-admin-key.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AdminError, AdminService, adminStatusOf } from '../../admin/admin-service.ts';
import { FerryError } from '../../errors.ts';
import { createPublicLink, MAX_LINK_TTL_S } from '../../pipelines/links.ts';
import type { Services } from '../../services.ts';
import { ForbiddenKeyError, parseAdminJson } from '../../primitives/exact-json.ts';
import { membershipAdminRoutes } from './admin-members.ts';
import { fileAdminRoutes } from './admin-files.ts';
import { operationsAdminRoutes } from './admin-operations.ts';
import { listAdminRoutes } from './admin-lists.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

// Path segments arrive as strings; whether they name an app or a valid id is the admin service's
// call (it answers 404 for an unknown app, 400 for a bad id), shared with the CLI.
const appParams = Type.Object({ app_id: Type.String() });
const groupParams = Type.Object({ app_id: Type.String(), group_id: Type.String() });
const memberParams = Type.Object({ app_id: Type.String(), group_id: Type.String(), user_id: Type.String() });

/**
 * An int64 id as a JSON string or number (the body parser turns integers beyond 2^53 into
 * strings). One "type" list rather than a union, so a wrong type gets one clear message.
 */
const id = Type.Unsafe<string | number>({ type: ['string', 'integer'], maxLength: 40, minimum: 1 });

// Unknown keys are ignored; the admin service checks values (id ranges, app_id characters).
const createAppBody = Type.Object({ app_id: Type.Optional(Type.String({ maxLength: 64 })) });
const tokenBody = Type.Object({
  user_id: id,
  role: Type.Optional(Type.Enum(['user', 'admin'])),
  ttl_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 86400 })),
});
const groupBody = Type.Object({ owner_id: id });
const memberBody = Type.Object({ role: Type.Optional(Type.Enum(['member', 'admin', 'owner'])) });
const linkBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 8192 }),
  ttl_s: Type.Integer({ minimum: 1, maximum: MAX_LINK_TTL_S }),
  image_type: Type.Optional(Type.Enum([1, 2, 3, '1', '2', '3'])),
});

/** fastify's message format ("body/role must be …"), naming the allowed values of an enum. */
function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0];
  if (!first) return new Error(`${dataVar} is invalid`);
  if (dataVar === 'body' && first.instancePath === '' && first.keyword === 'type') {
    return new Error('the body must be a JSON object sent with content-type: application/json');
  }
  const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues;
  const suffix = Array.isArray(allowed) ? `: ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : '';
  return new Error(`${dataVar}${first.instancePath} ${first.message}${suffix}`);
}

export async function adminRoutes(fastify: FastifyInstance, opts: { services: Services; adminKey: string }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const admin = new AdminService(opts.services.meta, opts.services.apps);
  const key = digest(opts.adminKey);

  // TypeBox's compiler never coerces a body (fastify's default would turn {"app_id": 5} into "5"
  // and ["x"] into "x"); the Lanying routes keep the default, whose query values are strings.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.setSchemaErrorFormatter(formatSchemaErrors);

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseAdminJson(body as string));
    } catch (err) {
      if (err instanceof ForbiddenKeyError) return done(new AdminError(400, err.message), undefined);
      const reason = err instanceof SyntaxError ? `: ${err.message}` : '';
      done(new AdminError(400, `body is not valid JSON${reason}`), undefined);
    }
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const given = req.headers['x-admin-key'];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), key)) {
      return reply.code(401).send({ error: 'missing or wrong x-admin-key' });
    }
  });

  // No body at all (or an empty one) means {}: every field of every body is optional or
  // reported by name. Any other body must be a JSON object, which the body schemas check: an
  // array, null, or text/plain (which fastify parses as a string) would otherwise be read as {}
  // and, say, create an app with a random id.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === '') req.body = {};
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof AdminError) return reply.code(err.status).send({ error: err.message });
    if (err instanceof FerryError) return reply.code(adminStatusOf(err)).send({ error: err.message });
    const fe = err as { statusCode?: number; message: string };
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return reply.code(fe.statusCode).send({ error: fe.message });
    req.log.error({ err }, 'admin API error');
    return reply.code(500).send({ error: `internal error (request ${req.id})` });
  });

  app.post('/admin/apps', { schema: { body: createAppBody } }, async (req, reply) => reply.code(201).send(await admin.createApp(req.body.app_id)));

  app.post('/admin/apps/:app_id/tokens', { schema: { params: appParams, body: tokenBody } }, async (req, reply) =>
    reply.code(201).send(await admin.mintToken(req.params.app_id, req.body)),
  );

  app.put('/admin/apps/:app_id/groups/:group_id', { schema: { params: groupParams, body: groupBody } }, async (req) =>
    admin.putGroup(req.params.app_id, req.params.group_id, req.body),
  );

  app.put('/admin/apps/:app_id/groups/:group_id/members/:user_id', { schema: { params: memberParams, body: memberBody } }, async (req) =>
    admin.putMember(req.params.app_id, req.params.group_id, req.params.user_id, req.body),
  );

  app.delete('/admin/apps/:app_id/groups/:group_id/members/:user_id', { schema: { params: memberParams } }, async (req) =>
    admin.removeMember(req.params.app_id, req.params.group_id, req.params.user_id),
  );

  membershipAdminRoutes(app, opts.services);
  // Any admin change may touch membership: this node's short-lived copies go before the answer
  // is sent, so the caller's next request sees the change (other nodes within a second).
  app.addHook('onSend', async (req, _reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') opts.services.membership.forget();
    return payload;
  });

  // An expiring, token-free link to a file (or its thumbnail or cover): pipelines/links.ts.
  app.post('/admin/apps/:app_id/links', { schema: { params: appParams, body: linkBody } }, async (req, reply) =>
    reply.code(201).send(await createPublicLink(opts.services, req.params.app_id, req.body)),
  );

  fileAdminRoutes(app, opts.services);
  operationsAdminRoutes(app, opts.services);
  listAdminRoutes(app, opts.services);
}
