// The HTTP face of Ferry: one fastify instance, one plugin per group of routes.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import cors from '@fastify/cors';
import { parse as parseQuery } from 'node:querystring';
import type { Services } from '../services.ts';
import { Codes } from '../errors.ts';
import { sendError } from './envelope.ts';
import { answerClientError } from './client-errors.ts';
import { uploadSlotRoutes } from './routes/upload-slots.ts';
import { uploadReceiveRoutes } from './routes/upload-receive.ts';
import { downloadRoutes } from './routes/download.ts';
import { forwardRoutes } from './routes/forward.ts';
import { adminRoutes } from './routes/admin.ts';
import { consoleRoutes } from './routes/console.ts';

/** uni-app can send a key twice: the first one wins, so every query value is a plain string. */
function firstValueQuery(text: string): Record<string, string> {
  const parsed = parseQuery(text);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) out[k] = value;
  }
  return out;
}

export async function buildApp(services: Services, adminKey: string): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: services.config.logLevel !== 'debug' }),
    routerOptions: { querystringParser: firstValueQuery, maxParamLength: 2048 },
    // Ferry streams bodies itself; this bounds only bodies parsed in memory (admin JSON).
    bodyLimit: 1024 * 1024,
    // While closing, requests on open connections are still served (close() waits for them)
    // rather than answered with a bare 503, which Lanying clients cannot read.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // No limit on a whole request (a big video on a slow line takes long); uploads that stall
    // or trickle are cut by their pace instead (upload-pace.ts).
    requestTimeout: 0,
    // A path fastify cannot decode (bad percent-encoding) or with a parameter over
    // maxParamLength is answered before any route or error handler runs, in fastify's own JSON
    // shape: keep the envelope (the admin API, its {error}) for these too.
    frameworkErrors: (err, req, rawReply) => {
      const reply = rawReply as FastifyReply;
      if (req.url.startsWith('/admin/')) return reply.code(err.statusCode ?? 400).send({ error: err.message });
      return sendError(err, req, reply);
    },
    clientErrorHandler: answerClientError,
  });
  // Beyond this many open connections, new ones are closed on arrival.
  app.server.maxConnections = services.config.maxConnections;

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ code: Codes.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}`, data: null }),
  );

  // Browsers send app_id and access-token as headers on the upload POST and must preflight.
  await app.register(cors, {
    origin: '*',
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS'],
    allowedHeaders: ['access-token', 'app_id', 'content-type', 'range', 'if-none-match', 'if-range', 'x-requested-with'],
    exposedHeaders: ['content-length', 'content-range', 'content-disposition', 'etag', 'accept-ranges', 'location'],
    maxAge: 86400,
  });

  await app.register(uploadSlotRoutes, { services });
  await app.register(uploadReceiveRoutes, { services });
  await app.register(downloadRoutes, { services });
  await app.register(forwardRoutes, { services });
  await app.register(adminRoutes, { services, adminKey });
  await app.register(consoleRoutes, { services });
  return app;
}
