// Lanying's /group/file/* routes: the envelope with HTTP 200, credentials as on /file/*, and
// both methods where Lanying lists two. JSON bodies keep int64 ids exact (integers beyond 2^53
// become strings before anything reads them).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { authenticate } from '../../auth/credentials.ts';
import { badParam } from '../../errors.ts';
import { deleteSharedFiles, getSharedFile, listSharedFiles, registerSharedFile, renameSharedFile } from '../../pipelines/group-files.ts';
import type { Services } from '../../services.ts';
import { parseAdminJson } from '../../primitives/exact-json.ts';
import { ok } from '../envelope.ts';
import { credentialHeaders, idProp, querySchema } from '../schemas.ts';

const listQuery = querySchema({ group_id: idProp });
const getQuery = querySchema({ group_id: idProp, file_id: idProp });
/** Any JSON object: fields are checked by the pipeline, which names the one at fault. */
const jsonBody = Type.Object({}, { additionalProperties: true });

export async function groupFileRoutes(fastify: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const s = opts.services;

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_req, body, done) => {
    try {
      done(null, parseAdminJson(body as string));
    } catch {
      done(badParam('the body is not valid JSON'), undefined);
    }
  });
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      if (req.method !== 'GET') throw badParam('the body must be a JSON object sent with content-type: application/json');
    }
  });

  const caller = (req: { headers: Record<string, string | string[] | undefined>; query: unknown }) =>
    // group_id names the group the call is about (an admin token may act on any group), so it
    // is not "act as that group's admin" here; user_id still is, for admin tokens.
    authenticate(s.apps, req.headers, req.query as Record<string, string>, { actAs: { userId: true, groupId: false } });
  const bodyOf = (req: { body: unknown }) => req.body as Record<string, unknown>;

  app.post('/group/file/upload', { schema: { body: jsonBody, headers: credentialHeaders } }, async (req) =>
    ok(await registerSharedFile(s, await caller(req), bodyOf(req))),
  );
  app.get('/group/file/list', { schema: { querystring: listQuery, headers: credentialHeaders } }, async (req) =>
    ok(await listSharedFiles(s, await caller(req), req.query.group_id)),
  );
  app.get('/group/file', { schema: { querystring: getQuery, headers: credentialHeaders } }, async (req) =>
    ok(await getSharedFile(s, await caller(req), req.query.group_id, req.query.file_id)),
  );
  app.route({
    method: ['POST', 'DELETE'],
    url: '/group/file/delete',
    schema: { body: jsonBody, headers: credentialHeaders },
    handler: async (req) => ok(await deleteSharedFiles(s, await caller(req), bodyOf(req))),
  });
  app.route({
    method: ['POST', 'PUT'],
    url: '/group/file/update_name',
    schema: { body: jsonBody, headers: credentialHeaders },
    handler: async (req) => ok(await renameSharedFile(s, await caller(req), bodyOf(req))),
  });
}
