// POST/PUT <upload_url>: the bytes. JS clients always POST multipart/form-data with the file in
// a part named "file" (plus OSS fields we ignore); Android honours upload_method and may PUT the
// raw body. The slot in the URL is the capability: Android sends no credentials here.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { Codes, FerryError } from '../../errors.ts';
import { StorageError } from '../../bytes/byte-store.ts';
import { receiveUpload, type StagedUpload } from '../../pipelines/upload.ts';
import type { Services } from '../../services.ts';
import { ok } from '../envelope.ts';
import { SLOT_CAPABILITY } from '../../auth/slot-capability.ts';
import { watchUploadPace } from '../upload-pace.ts';

const slotParams = Type.Object({ slotId: Type.String({ maxLength: 2048 }) });
type SlotRequest = FastifyRequest<{ Params: Static<typeof slotParams> }>;

/** a random slot id (avatars, direct uploads), or a chat slot's capability (auth/slot-capability.ts) */
const SLOT_ID = /^[A-Za-z0-9_-]{16,64}$/;

export async function uploadReceiveRoutes(fastify: FastifyInstance, opts: { services: Services }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const s = opts.services;
  // Any non-multipart body is the raw file: leave it unread for the handler to stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  await app.register(multipart, {
    limits: {
      // Sizes are enforced per file_type by the upload guard, while streaming; this only keeps
      // busboy from imposing its own 1 MiB default.
      fileSize: Number.MAX_SAFE_INTEGER,
      fields: 32,
      fieldSize: 64 * 1024,
      parts: 64,
      headerPairs: 100,
    },
  });

  const handler = async (req: SlotRequest, reply: FastifyReply) => {
    // Silent or trickling clients are cut (60015) rather than holding the slot and connection.
    const pace = watchUploadPace(req.raw, s.config.uploadLimits);
    try {
      const slotId = req.params.slotId;
      if (!SLOT_ID.test(slotId) && !SLOT_CAPABILITY.test(slotId)) throw new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot not found: ask for a new one');
      const bodyBytes = declaredBodyBytes(req);
      const receive = (stage: Parameters<typeof receiveMultipart>[1]) =>
        req.isMultipart() ? receiveMultipart(req, stage, bodyBytes) : stage(req.raw, null, bodyBytes);
      await receiveUpload(s, slotId, receive, { ip: req.ip }, pace.signal);
      return ok(true);
    } catch (err) {
      leaveBody(req, reply);
      throw err;
    } finally {
      pace.stop();
    }
  };

  const schema = { params: slotParams };
  app.post('/file/slot/:slotId', { schema }, handler);
  app.put('/file/slot/:slotId', { schema }, handler);
}

/** The body's length from Content-Length (node has checked it is a number), null when chunked. */
function declaredBodyBytes(req: SlotRequest): number | null {
  const length = req.headers['content-length'];
  return length === undefined ? null : Number(length);
}

/**
 * After a refusal, the rest of the body is not read. When all of it has arrived anyway (a small
 * file), what is left in memory is dropped and the connection stays usable. Otherwise the
 * answer says Connection: close and node closes the socket as soon as the answer is out: the
 * client, which reads answers while it sends (browsers, curl, node), learns why at once, and
 * Ferry takes in no more of a body it has refused (it may be GiBs).
 */
function leaveBody(req: SlotRequest, reply: FastifyReply): void {
  req.raw.unpipe();
  if (req.raw.complete) {
    req.raw.resume();
    return;
  }
  req.raw.pause();
  reply.header('connection', 'close');
}

async function receiveMultipart(
  req: SlotRequest,
  stage: (source: NodeJS.ReadableStream & import('node:stream').Readable, name: string | null, bodyBytes: number | null) => Promise<StagedUpload>,
  bodyBytes: number | null,
): Promise<StagedUpload | null> {
  let staged: StagedUpload | null = null;
  try {
    // Fields (OSSAccessKeyId, policy, signature, callback, key, empty or "undefined") are skipped.
    for await (const part of req.parts()) {
      if (part.type === 'field') continue;
      if (part.fieldname !== 'file') {
        part.file.resume();
        continue;
      }
      if (staged) {
        part.file.resume();
        throw new FerryError(Codes.MANY_FILE_PARTS, 'more than one "file" part: send one file per upload slot');
      }
      staged = await stage(part.file, part.filename, bodyBytes);
    }
  } catch (err) {
    // busboy's own parse errors (no boundary, malformed or cut-off body) are the client's
    // mistake, not an internal error; @fastify/multipart's limit errors carry FST_ codes.
    const fastifyCode = (err as { code?: unknown }).code;
    if (err instanceof FerryError || err instanceof StorageError || (typeof fastifyCode === 'string' && fastifyCode.startsWith('FST_'))) throw err;
    throw new FerryError(Codes.BAD_PARAM, `malformed multipart body: ${err instanceof Error ? err.message : String(err)}`);
  }
  return staged;
}
