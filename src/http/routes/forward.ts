// GET /file/upload/forward: a new download_url for another conversation, same bytes.
import type { FastifyInstance } from 'fastify';
import { authenticate, type Query } from '../../auth/credentials.ts';
import { parseToType } from '../../file-types.ts';
import { parseId } from '../../ids.ts';
import { forwardFile } from '../../pipelines/forward.ts';
import type { Services } from '../../services.ts';
import { ok } from '../envelope.ts';
import { credentialHeaders, idProp, querySchema } from '../schemas.ts';

export async function forwardRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const s = opts.services;
  app.get<{ Querystring: Query }>(
    '/file/upload/forward',
    { schema: { querystring: querySchema({ file_sign: { type: 'string', maxLength: 8192 }, to_id: idProp, to_type: { type: 'string', maxLength: 4 } }), headers: credentialHeaders } },
    async (req) => {
      const caller = await authenticate(s.apps, req.headers, req.query);
      const toType = parseToType(req.query.to_type);
      const toId = parseId('to_id', req.query.to_id);
      return ok(await forwardFile(s, caller, { sign: req.query.file_sign as string | undefined, toId, toType }));
    },
  );
}
