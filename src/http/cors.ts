// CORS for browsers: every answer may be read from any origin (the credentials travel in the
// URL or in headers, never in cookies), and the upload POST's preflight is answered.
//
// The answer's two headers never change, so they are set from constants. @fastify/cors answers
// only the preflights: it is registered in a context of its own, where its OPTIONS route is the
// only route, because its hook copies its options into a new object on every request it sees,
// which cost a 16 KiB download about 5% of its rate (measured in alternating pairs, pinned as
// the benchmarks are).
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

const EXPOSED = ['content-length', 'content-range', 'content-disposition', 'etag', 'accept-ranges', 'location', 'x-request-id'].join(', ');

export async function corsForBrowsers(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', EXPOSED);
    done();
  });
  // Browsers send app_id and access-token as headers on the upload POST and must preflight.
  await app.register(async (preflights) => {
    await preflights.register(cors, {
      origin: '*',
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['access-token', 'app_id', 'content-type', 'range', 'if-none-match', 'if-range', 'x-requested-with', 'x-request-id'],
      exposedHeaders: EXPOSED,
      maxAge: 86400,
    });
  });
}
