// The admin HTTP API (design brief): plain JSON with real HTTP statuses, behind x-admin-key.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AdminError, AdminService, adminStatusOf } from '../../admin/admin-service.ts';
import { FerryError } from '../../errors.ts';
import { createPublicLink } from '../../pipelines/links.ts';
import type { Services } from '../../services.ts';

type Body = Record<string, unknown>;

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Ids above 2^53 lose precision in JSON.parse, so large integer literals are read as strings
 * before parsing: {"user_id": 9223372036854775807} keeps every digit. String literals are
 * matched first and kept as they are, so digits inside a string are never touched.
 */
const STRING_OR_BIG_INT = /"(?:[^"\\]|\\.)*"|([:[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g;

export function parseAdminJson(text: string): unknown {
  if (text.trim() === '') return {};
  return JSON.parse(
    text.replace(STRING_OR_BIG_INT, (match, lead: string | undefined, digits: string | undefined) =>
      digits === undefined ? match : `${lead}"${digits}"`,
    ),
  );
}

export async function adminRoutes(app: FastifyInstance, opts: { services: Services; adminKey: string }): Promise<void> {
  const admin = new AdminService(opts.services.meta, opts.services.apps);
  const key = digest(opts.adminKey);

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseAdminJson(body as string));
    } catch {
      done(new AdminError(400, 'body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const given = req.headers['x-admin-key'];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), key)) {
      return reply.code(401).send({ error: 'missing or wrong x-admin-key' });
    }
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof AdminError) return reply.code(err.status).send({ error: err.message });
    if (err instanceof FerryError) return reply.code(adminStatusOf(err)).send({ error: err.message });
    const fe = err as { statusCode?: number; message: string };
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return reply.code(fe.statusCode).send({ error: fe.message });
    req.log.error({ err }, 'admin API error');
    return reply.code(500).send({ error: `internal error (request ${req.id})` });
  });

  // A body that is not a JSON object (an array, null, or text/plain that fastify parses as a
  // string) would otherwise be read as {} and, say, create an app with a random id.
  const body = (req: FastifyRequest): Body => {
    if (req.body === undefined || req.body === '') return {};
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw new AdminError(400, 'the body must be a JSON object sent with content-type: application/json');
    }
    return req.body as Body;
  };
  type P = { Params: Record<string, string> };

  app.post('/admin/apps', async (req, reply) => reply.code(201).send(await admin.createApp(body(req).app_id)));
  app.post<P>('/admin/apps/:app_id/tokens', async (req, reply) => reply.code(201).send(await admin.mintToken(req.params.app_id!, body(req))));
  app.put<P>('/admin/apps/:app_id/groups/:group_id', async (req) => admin.putGroup(req.params.app_id!, req.params.group_id!, body(req)));
  app.put<P>('/admin/apps/:app_id/groups/:group_id/members/:user_id', async (req) =>
    admin.putMember(req.params.app_id!, req.params.group_id!, req.params.user_id!, body(req)),
  );
  app.delete<P>('/admin/apps/:app_id/groups/:group_id/members/:user_id', async (req) =>
    admin.removeMember(req.params.app_id!, req.params.group_id!, req.params.user_id!),
  );
  // An expiring, token-free link to a file (or its thumbnail or cover): pipelines/links.ts.
  app.post<P>('/admin/apps/:app_id/links', async (req, reply) => reply.code(201).send(await createPublicLink(opts.services, req.params.app_id!, body(req))));
}
