// POST /hooks/events: the operator's IM server tells Ferry about joins, leaves, dismissals and
// recalls (pipelines/events.ts). Plain JSON with real HTTP statuses, like the admin API; the
// body is kept as the exact bytes received, because the signature is over them.
import type { FastifyInstance } from 'fastify';
import { receiveEvents } from '../../pipelines/events.ts';
import type { Services } from '../../services.ts';
import { StorageError } from '../../storage-error.ts';

/** about 1000 events with room to spare */
const MAX_BODY = 1024 * 1024;

export async function hookRoutes(fastify: FastifyInstance, opts: { services: Services }): Promise<void> {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));

  fastify.setErrorHandler((err, req, reply) => {
    const fe = err as { statusCode?: number; message: string };
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return reply.code(fe.statusCode).send({ error: fe.message });
    // Nothing was applied (one transaction): the IM server may send the same body again.
    if (err instanceof StorageError) {
      req.log.error({ err }, `storage error (${err.kind}): ${err.message}`);
      return reply.code(503).header('retry-after', '2').send({ error: `storage unavailable, nothing applied: send the events again (${err.message})` });
    }
    req.log.error({ err }, 'events hook error');
    return reply.code(500).send({ error: `internal error (request ${req.id})` });
  });

  fastify.post('/hooks/events', async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const answer = await receiveEvents(opts.services, header('app_id'), header('x-ferry-signature'), raw);
    return reply.code(answer.status).send(answer.body);
  });
}
