// GET /file/upload/forward: a new download_url for another conversation, same bytes.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authenticate } from '../../auth/credentials.ts';
import { parseToType } from '../../file-types.ts';
import { parseId } from '../../ids.ts';
import { forwardFile } from '../../pipelines/forward.ts';
import type { Services } from '../../services.ts';
import { ok } from '../envelope.ts';
import { credentialHeaders, querySchema, queryValue } from '../schemas.ts';

const forwardQuery = querySchema({
  file_sign: queryValue(8192, 'Required: the sign of the file to forward (from its download_url); the caller must be able to read it.'),
  to_id: queryValue(40, 'Required: the receiving user (to_type 1) or group (to_type 2), int64 in decimal.'),
  to_type: queryValue(4, '1 a user (default), 2 a group (the caller must be a member).'),
});

export async function forwardRoutes(fastify: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const s = opts.services;
  app.get('/file/upload/forward', { schema: { querystring: forwardQuery, headers: credentialHeaders } }, async (req) => {
    const caller = await authenticate(s.apps, req.headers, req.query);
    const toType = parseToType(req.query.to_type);
    const toId = parseId('to_id', req.query.to_id);
    return ok(await forwardFile(s, caller, { sign: req.query.file_sign, toId, toType }));
  });
}
