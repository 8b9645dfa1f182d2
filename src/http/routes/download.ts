// GET/HEAD /file/download/chat, /file/download/avatar and Ferry's own token-free
// /file/blob/<capability>/<name>. The download pipeline decides; this file only writes what it
// decided. (GET and HEAD on one route: fastify's automatic HEAD route would read the whole file
// and report a Content-Length of 0.)
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Codes, FerryError } from '../../errors.ts';
import type { DownloadEndpoint, DownloadOutcomeLabel } from '../../metrics.ts';
import { runAvatarDownload, runBlobDownload, runChatDownload, type DownloadOutcome, type DownloadRequest } from '../../pipelines/download.ts';
import type { Services } from '../../services.ts';
import { avatarDownloadQuery, chatDownloadQuery, credentialHeaders, mediaQuery } from '../schemas.ts';

const blobParams = Type.Object({ capability: Type.String({ maxLength: 400 }), name: Type.String({ maxLength: 1024 }) });

/**
 * Write a download outcome: its status and headers on the reply, and its body returned for
 * fastify to send (undefined: none). Nothing here decides anything. The body is returned rather
 * than sent: an async handler that returns the reply itself makes fastify wait on the response
 * stream's events (answers leave at the turn's end, http/answers-at-turn-end.ts, so the reply is
 * not yet sent when the handler returns), which cost a small download a few % of its rate.
 */
export function renderDownload(reply: FastifyReply, outcome: DownloadOutcome): DownloadBody {
  switch (outcome.kind) {
    case 'not-modified':
      reply.code(304).headers(outcome.headers);
      return undefined;
    case 'redirect':
      reply.code(302).headers(outcome.headers).header('location', outcome.location);
      return undefined;
    case 'bytes':
      reply.code(outcome.status).headers(outcome.headers);
      return outcome.body ?? undefined;
    case 'unsatisfiable':
      // 416 must say how big the file is; the body is Lanying's envelope, like every error.
      reply.code(416).headers({ 'content-range': `bytes */${outcome.size}`, 'content-type': 'application/json; charset=utf-8' });
      return { code: Codes.RANGE_NOT_SATISFIABLE, message: `range not satisfiable: the file has ${outcome.size} bytes`, data: null };
  }
}

/** What a download answer's body is: bytes, a stream of them, the 416 envelope, or none. */
type DownloadBody = Readable | Buffer | { code: number; message: string; data: null } | undefined;

const OUTCOME_LABELS: Record<DownloadOutcome['kind'], DownloadOutcomeLabel> = {
  'not-modified': 'not_modified',
  redirect: 'redirect',
  bytes: 'bytes',
  // a range outside the file is refused like any other bad request
  unsatisfiable: 'refused',
};

/**
 * Wait for a download pipeline and write its outcome, counting both (metrics.ts:
 * ferry_downloads_*). The route handlers return its promise as it is: an async handler around it
 * was one promise more per request (with the metrics hook's, http/observe.ts, about 1% of a
 * 16 KiB download's rate, alternating pinned pairs: within the noise, but no more code).
 */
async function measured(s: Services, endpoint: DownloadEndpoint, reply: FastifyReply, running: Promise<DownloadOutcome>): Promise<DownloadBody> {
  let outcome: DownloadOutcome;
  try {
    outcome = await running;
  } catch (err) {
    // A FerryError is a refusal with a code; anything else (storage, missing bytes) is a failure.
    s.metrics.download(endpoint, err instanceof FerryError ? 'refused' : 'failed');
    throw err;
  }
  const bodyBytes = outcome.kind === 'bytes' && outcome.body !== null ? Number(outcome.headers['content-length'] ?? 0) : 0;
  s.metrics.download(endpoint, OUTCOME_LABELS[outcome.kind], bodyBytes);
  return renderDownload(reply, outcome);
}

type Req = { method: string; ip: string; headers: DownloadRequest['headers']; query: DownloadRequest['query'] };
const asRequest = (req: Req): DownloadRequest => ({ method: req.method === 'HEAD' ? 'HEAD' : 'GET', ip: req.ip, headers: req.headers, query: req.query });

export async function downloadRoutes(fastify: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const s = opts.services;

  app.route({
    method: ['GET', 'HEAD'],
    url: '/file/download/chat',
    schema: { querystring: chatDownloadQuery, headers: credentialHeaders },
    handler: (req, reply) => measured(s, 'chat', reply, runChatDownload(s, asRequest(req))),
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/file/download/avatar',
    schema: { querystring: avatarDownloadQuery, headers: credentialHeaders },
    handler: (req, reply) => measured(s, 'avatar', reply, runAvatarDownload(s, asRequest(req))),
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/file/blob/:capability/:name',
    schema: { params: blobParams, querystring: mediaQuery },
    handler: (req, reply) => measured(s, 'blob', reply, runBlobDownload(s, asRequest(req), req.params.capability)),
  });
}
