// GET/HEAD /file/download/chat and /file/download/avatar.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Query } from '../../auth/credentials.ts';
import { badParam } from '../../errors.ts';
import { resolveAvatar, resolveChatFile, type ReadyFile } from '../../pipelines/download.ts';
import { resolveMedia, type MediaRequest } from '../../pipelines/derivatives.ts';
import type { Services } from '../../services.ts';
import { sendFile } from '../serve-file.ts';
import { credentialHeaders, querySchema } from '../schemas.ts';

const mediaProps = {
  image_type: { type: 'string', maxLength: 4 },
  w: { type: 'string', maxLength: 8 },
  h: { type: 'string', maxLength: 8 },
  format: { type: 'string', maxLength: 8 },
  thumbnail_strategy: { type: 'string', maxLength: 4 },
  source: { type: 'string', maxLength: 32 },
} as const;

export type { MediaRequest };

function dimension(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10000) throw badParam(`${name} must be a whole number of pixels from 1 to 10000`);
  return Number(raw);
}

export function parseMediaRequest(q: Query): MediaRequest {
  const it = (q.image_type as string | undefined) || '1';
  if (it !== '1' && it !== '2' && it !== '3') throw badParam('image_type must be 1 (original), 2 (thumbnail) or 3 (cover)');
  const format = (q.format as string | undefined) || undefined;
  if (format !== undefined && format !== 'amr' && format !== 'mp3') throw badParam('format must be amr or mp3');
  const ts = (q.thumbnail_strategy as string | undefined) || '1';
  if (ts !== '1' && ts !== '2') throw badParam('thumbnail_strategy must be 1 or 2');
  return {
    imageType: Number(it) as 1 | 2 | 3,
    w: dimension('w', q.w as string | undefined),
    h: dimension('h', q.h as string | undefined),
    format,
    thumbnailStrategy: Number(ts) as 1 | 2,
    miniProgram: q.source === 'miniprogram',
  };
}

/** The original, a derivative made (once) by Ferry, or a redirect to the external image service. */
async function sendMedia(req: FastifyRequest, reply: FastifyReply, s: Services, file: ReadyFile, media: MediaRequest): Promise<FastifyReply> {
  const target = await resolveMedia(s, file, media);
  if (target.kind === 'redirect') {
    // Cached no longer than the same URL would come back: a browser then never holds one past its expiry window.
    const maxAge = Math.max(0, Math.floor((target.reusableUntil - Date.now()) / 1000));
    return reply.code(302).headers({ location: target.location, 'cache-control': `private, max-age=${maxAge}` }).send();
  }
  return sendFile(req, reply, s.bytes, target.file);
}

export async function downloadRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const s = opts.services;

  // GET and HEAD on one route: fastify's automatic HEAD route would read the whole file and
  // report a Content-Length of 0.
  app.route<{ Querystring: Query }>({
    method: ['GET', 'HEAD'],
    url: '/file/download/chat',
    schema: { querystring: querySchema({ file_sign: { type: 'string', maxLength: 8192 }, ...mediaProps }), headers: credentialHeaders },
    handler: async (req, reply) => {
      const caller = await authenticate(s.apps, req.headers, req.query);
      const media = parseMediaRequest(req.query);
      const { file } = await resolveChatFile(s, caller, req.query.file_sign as string | undefined);
      return sendMedia(req, reply, s, file, media);
    },
  });

  app.route<{ Querystring: Query }>({
    method: ['GET', 'HEAD'],
    url: '/file/download/avatar',
    schema: { querystring: querySchema({ object_name: { type: 'string', maxLength: 1024 }, ...mediaProps }), headers: credentialHeaders },
    handler: async (req, reply) => {
      const caller = await authenticate(s.apps, req.headers, req.query, { actAs: { userId: false, groupId: false } });
      const media = parseMediaRequest(req.query);
      const file = await resolveAvatar(s, caller, req.query.object_name as string | undefined);
      return sendMedia(req, reply, s, file, media);
    },
  });
}
