// POST/PUT <upload_url>: the bytes. JS clients always POST multipart/form-data with the file in
// a part named "file" (plus OSS fields we ignore); Android honours upload_method and may PUT the
// raw body. The slot in the URL is the capability: Android sends no credentials here.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { Codes, FerryError } from '../../errors.ts';
import { StorageError } from '../../bytes/byte-store.ts';
import { receiveUpload, type StagedUpload } from '../../pipelines/upload.ts';
import type { Services } from '../../services.ts';
import { ok } from '../envelope.ts';

const slotParams = Type.Object({ slotId: Type.String({ maxLength: 64 }) });
type SlotRequest = FastifyRequest<{ Params: Static<typeof slotParams> }>;

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

  const handler = async (req: SlotRequest) => {
    const slotId = req.params.slotId;
    if (!SLOT_ID.test(slotId)) throw new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot not found: ask for a new one');
    await receiveUpload(s, slotId, (stage) => (req.isMultipart() ? receiveMultipart(req, stage) : stage(req.raw, null)), { ip: req.ip });
    return ok(true);
  };

  const schema = { params: slotParams };
  app.post('/file/slot/:slotId', { schema }, handler);
  app.put('/file/slot/:slotId', { schema }, handler);
}

async function receiveMultipart(
  req: SlotRequest,
  stage: (source: NodeJS.ReadableStream & import('node:stream').Readable, name: string | null) => Promise<StagedUpload>,
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
      staged = await stage(part.file, part.filename);
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
