// What every request leaves behind for the operator: its id echoed as X-Request-Id, one access
// line at info, and the request metrics. Routes are named by their template (/file/slot/:slotId),
// never by the URL, which carries tokens, signs and slot ids.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../auth/credentials.ts';
import { ObjectNotFoundError } from '../bytes/byte-store.ts';
import { StorageError } from '../storage-error.ts';
import type { Services } from '../services.ts';

/** Routes an operator's tools poll every few seconds: counted in metrics, kept out of the access log. */
export const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** Requests no route matched (404s, scanners): one label for all of them. */
const UNMATCHED = '(unmatched)';

const routeOf = (req: FastifyRequest) => req.routeOptions.url ?? UNMATCHED;

function contentLength(reply: FastifyReply): number | undefined {
  const v = reply.getHeader('content-length');
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** The app and user a request acted as: the authenticated caller, else the admin API's :app_id. */
function whoOf(req: FastifyRequest): { app: string | undefined; user: string | undefined } {
  const p = principalOf(req.headers);
  if (p) return { app: p.appId, user: p.userId };
  const params = req.params as { app_id?: unknown } | undefined;
  const app = typeof params?.app_id === 'string' && params.app_id.length <= 64 ? params.app_id : undefined;
  return { app, user: undefined };
}

export function observeRequests(app: FastifyInstance, s: Services): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });

  // Runs before the route's error handler (the envelope's, the admin API's): every storage
  // failure a request hits is counted once, whichever API it came through.
  app.addHook('onError', async (_req, _reply, err) => {
    if (err instanceof StorageError) s.metrics.storageError(err.layer, err.kind);
    else if (err instanceof ObjectNotFoundError) s.metrics.storageError('store', 'missing');
  });

  // A callback hook, not an async one: one promise less per request. (With the download
  // handlers' own, routes/download.ts, about 1% of a 16 KiB download's rate: within the noise.)
  app.addHook('onResponse', (req, reply, done) => {
    const route = routeOf(req);
    s.metrics.request(route, req.method, reply.statusCode, reply.elapsedTime / 1000);
    // The line's fields are gathered only when it will be written: at warn and above, most
    // requests log nothing.
    if (s.config.accessLog && !QUIET_ROUTES.has(route) && s.log.isLevelEnabled('info')) logAccess(req, reply, route);
    done();
  });
}

function logAccess(req: FastifyRequest, reply: FastifyReply, route: string): void {
  const { app: appId, user } = whoOf(req);
  req.log.info(
    { route, method: req.method, status: reply.statusCode, bytes: contentLength(reply), ms: Math.round(reply.elapsedTime * 10) / 10, app: appId, user },
    'request',
  );
}
