// For the operator's tools, not for clients: GET /healthz (the process answers), GET /readyz
// (it can serve: database and store answer, not shutting down) and GET /metrics (Prometheus).
// Plain JSON and real HTTP statuses, as load balancers and Prometheus expect.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Services } from '../../services.ts';
import { MetricsUnavailableError } from '../../metrics.ts';

const checkState = Type.Union([Type.Literal('ok'), Type.Literal('unreachable'), Type.Literal('timeout')], {
  description: 'ok; unreachable: the check failed (the cause is in the log); timeout: no answer within 2 s',
});

const readyAnswer = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready'), Type.Literal('draining')]),
  database: checkState,
  store: checkState,
  message: Type.Optional(Type.String({ description: 'which dependency is not answering, or that the node is shutting down' })),
});

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function operationsRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const s = opts.services;

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        description: 'Always 200 while the process runs and its event loop turns. Checks nothing else: restart the node only when this fails.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database and the store answer, and the node is not shutting down',
        description:
          'Checked at most once a second (answers in between reuse the last result), each check cut off after 2 s. ' +
          '503 names the dependency that does not answer, or says the node is draining (after SIGTERM): a load balancer stops sending it requests.',
        response: { 200: readyAnswer, 503: readyAnswer },
      },
    },
    async (_req, reply) => {
      const r = await s.readiness.check();
      const failing = (['database', 'store'] as const).filter((d) => r.checks[d] !== 'ok');
      const status = r.ready ? 'ready' : r.draining ? 'draining' : 'not ready';
      const reasons = failing.map((d) => `the ${d} is ${r.checks[d] === 'timeout' ? 'not answering' : 'not reachable'}`);
      if (r.draining) reasons.unshift('the node is shutting down');
      const body = { status, ...r.checks, ...(reasons.length > 0 ? { message: reasons.join('; ') } : {}) };
      return reply.code(r.ready ? 200 : 503).header('cache-control', 'no-store').send(body);
    },
  );

  const token = s.config.metricsToken === undefined ? null : digest(s.config.metricsToken);
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format), every name prefixed ferry_',
        description:
          'With FERRY_METRICS_TOKEN set, send `Authorization: Bearer <token>`; otherwise 401. See docs/operations.md for what each metric counts.',
        security: [{ metricsToken: [] }],
        response: {
          200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: Type.Object({ error: Type.String() }),
          503: Type.Object({ error: Type.String() }),
        },
      },
    },
    async (req, reply) => {
      if (token) {
        const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!m || !timingSafeEqual(digest(m[1]!), token)) {
          return reply.code(401).header('www-authenticate', 'Bearer realm="ferry metrics"').send({ error: 'missing or wrong metrics token' });
        }
      }
      let exposition: { contentType: string; body: string };
      try {
        exposition = await s.metrics.exposition();
      } catch (err) {
        // Part of the workers' counts is no scrape at all: counters that drop read as restarts.
        if (!(err instanceof MetricsUnavailableError)) throw err;
        return reply.code(503).header('cache-control', 'no-store').send({ error: err.message });
      }
      return reply.header('content-type', exposition.contentType).header('cache-control', 'no-store').send(exposition.body);
    },
  );
}
