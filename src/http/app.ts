// The HTTP face of Ferry: one fastify instance, one plugin per group of routes.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { unescape as unescapeQuery } from 'node:querystring';
import type { Services } from '../services.ts';
import { Codes } from '../errors.ts';
import { sendError } from './envelope.ts';
import { answerClientError } from './client-errors.ts';
import { uploadSlotRoutes } from './routes/upload-slots.ts';
import { uploadReceiveRoutes } from './routes/upload-receive.ts';
import { downloadRoutes } from './routes/download.ts';
import { forwardRoutes } from './routes/forward.ts';
import { adminRoutes } from './routes/admin.ts';
import { hookRoutes } from './routes/hooks.ts';
import { groupFileRoutes } from './routes/group-files.ts';
import { operationsRoutes } from './routes/operations.ts';
import { apiDocsRoutes, registerOpenApi } from './api-docs.ts';
import { observeRequests } from './observe.ts';
import { answerAtTurnEnd } from './answers-at-turn-end.ts';
import { requestIdOf } from '../logging.ts';
import { consoleRoutes } from './routes/console.ts';
import { requestLogger } from './request-logger.ts';
import { corsForBrowsers } from './cors.ts';

/** decodes a query key or value as node:querystring does ("+" is a space; bad escapes stay as sent) */
const decodeQueryPart = (s: string) => (s.includes('%') || s.includes('+') ? unescapeQuery(s.replace(/\+/g, ' ')) : s);

/**
 * uni-app can send a key twice: the first one wins, so every query value is a plain string.
 * One pass over the text, on every request (the router calls it once): what node:querystring
 * parses, without building arrays for repeated keys and copying them out again (~7× faster, a
 * few % of a small download). At most 1000 pairs, as node:querystring.
 */
export function firstValueQuery(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let start = 0;
  for (let pairs = 0; start <= text.length && pairs < 1000; ) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      pairs++;
      const eq = text.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const key = decodeQueryPart(text.slice(start, hasValue ? eq : end));
      if (!Object.hasOwn(out, key)) out[key] = hasValue ? decodeQueryPart(text.slice(eq + 1, end)) : '';
    }
    start = end + 1;
  }
  return out;
}

/** Ajv's notice about the `unicode` option, which buildApp sets on purpose (see there). */
const AJV_UNICODE_NOTICE = /^ajv: DEPRECATED: option unicode\b/;

/** Ajv's remarks go to Ferry's log, not the console; its notice about our own choice at debug. */
function ajvLogger(log: Services['log']) {
  const line = (args: unknown[]) => `ajv: ${args.map(String).join(' ')}`;
  return {
    log: (...args: unknown[]) => log.debug(line(args)),
    warn: (...args: unknown[]) => {
      const text = line(args);
      if (AJV_UNICODE_NOTICE.test(text)) log.debug(text);
      else log.warn(text);
    },
    error: (...args: unknown[]) => log.error(line(args)),
  };
}

export async function buildApp(services: Services, adminKey: string): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: services.config.logLevel !== 'debug', requestIdLogLabel: 'requestId' }),
    // The caller's X-Request-Id when it is sane, else a random one (unique across nodes).
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    routerOptions: { querystringParser: firstValueQuery, maxParamLength: 2048 },
    // maxLength counts UTF-16 units (String.length), not code points: every limit here bounds
    // what a client may send, and counting a surrogate pair as two only makes it stricter.
    // Counting code points walks every character of every value: a download's token and
    // file_sign, some 550 characters, cost 0.8 µs a request, about 3% of a 16 KiB download's
    // rate (measured in alternating pairs). Ajv calls the option deprecated but keeps it.
    ajv: { customOptions: { unicode: false, logger: ajvLogger(services.log) } },
    // Ferry streams bodies itself; this bounds only bodies parsed in memory (admin JSON).
    bodyLimit: 1024 * 1024,
    // Behind a reverse proxy, the client's address (rate limits per IP) is in X-Forwarded-For,
    // believed only from the proxies FERRY_TRUST_PROXY names.
    ...(services.config.trustProxy === undefined ? {} : { trustProxy: services.config.trustProxy }),
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
    childLoggerFactory: requestLogger,
  });
  // Beyond this many open connections, new ones are closed on arrival.
  app.server.maxConnections = services.config.maxConnections;

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ code: Codes.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}`, data: null }),
  );

  await corsForBrowsers(app);

  // Before any route: the OpenAPI document is collected as routes are added.
  await registerOpenApi(app);
  observeRequests(app, services);
  answerAtTurnEnd(app);

  await app.register(uploadSlotRoutes, { services });
  await app.register(uploadReceiveRoutes, { services });
  await app.register(downloadRoutes, { services });
  await app.register(forwardRoutes, { services });
  await app.register(groupFileRoutes, { services });
  await app.register(adminRoutes, { services, adminKey });
  await app.register(hookRoutes, { services });
  await app.register(operationsRoutes, { services });
  await app.register(apiDocsRoutes);
  await app.register(consoleRoutes, { services });
  return app;
}
