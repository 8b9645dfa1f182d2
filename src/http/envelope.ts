// Lanying's answer shape: {code, message, data}. Business errors keep it, with HTTP 200.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ObjectNotFoundError, StorageError } from '../bytes/byte-store.ts';
import { Codes, FerryError } from '../errors.ts';
import { isDatabaseUnavailable } from '../meta/db-errors.ts';

interface Envelope<T> {
  code: number;
  message: string | null;
  data: T | null;
}

export const ok = <T>(data: T): Envelope<T> => ({ code: Codes.OK, message: null, data });

/** Turn anything thrown into an envelope; only FerryError messages reach clients verbatim. */
function toFerryError(err: unknown, request: FastifyRequest): FerryError {
  if (err instanceof FerryError) return err;
  if (err instanceof StorageError) {
    request.log.error({ err }, 'storage error');
    return new FerryError(Codes.STORAGE, 'storage error: try again later');
  }
  if (isDatabaseUnavailable(err)) {
    request.log.error({ err }, 'database unavailable');
    return new FerryError(Codes.STORAGE, 'storage error: the database is unavailable, try again later');
  }
  if (err instanceof ObjectNotFoundError) {
    request.log.error({ err }, 'file record points at missing bytes');
    return new FerryError(Codes.STORAGE, 'storage error: the file bytes are missing');
  }
  const fe = err as FastifyError;
  if (fe.validation) return new FerryError(Codes.BAD_PARAM, `bad request parameter: ${fe.message}`);
  if (typeof fe.code === 'string' && fe.code.startsWith('FST_') && typeof fe.statusCode === 'number' && fe.statusCode < 500) {
    // Fastify's own client errors (bad content type, malformed body...): safe to describe.
    // Multipart count limits (fields, parts, files) are about the form's shape, not its size.
    if (/^FST_(FIELDS|PARTS|FILES)_LIMIT$/.test(fe.code)) return new FerryError(Codes.BAD_PARAM, `malformed multipart body: ${fe.message}`);
    if (fe.statusCode === 413) return new FerryError(Codes.TOO_LARGE, 'request body is too large');
    return new FerryError(Codes.BAD_PARAM, `bad request: ${fe.message}`);
  }
  request.log.error({ err }, 'unexpected error');
  return new FerryError(Codes.INTERNAL, `internal error (request ${request.id}); the operator can find it in the log`);
}

/**
 * Headers a file response sets before it can still fail (missing bytes, 416): kept on an error,
 * they would make a browser save the JSON under the file's name, or cache it under its ETag.
 */
const FILE_HEADERS = ['content-disposition', 'etag', 'cache-control', 'accept-ranges', 'content-length'];

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const fe = toFerryError(err, request);
  for (const h of FILE_HEADERS) reply.removeHeader(h);
  // 416 must say how big the file is (Content-Range: bytes */SIZE); nothing else has a range.
  if (fe.httpStatus !== 416) reply.removeHeader('content-range');
  const body: Envelope<null> = { code: fe.code, message: fe.message, data: null };
  return reply.code(fe.httpStatus).header('content-type', 'application/json; charset=utf-8').send(body);
}
