// Lanying's answer shape: {code, message, data}. Business errors keep it, with HTTP 200.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ObjectNotFoundError } from '../bytes/byte-store.ts';
import { Codes, FerryError, RateLimitedError } from '../errors.ts';
import { StorageError, type StorageFailure } from '../storage-error.ts';

interface Envelope<T> {
  code: number;
  message: string | null;
  data: T | null;
}

export const ok = <T>(data: T): Envelope<T> => ({ code: Codes.OK, message: null, data });

const STORAGE_MESSAGES: Record<StorageFailure, string> = {
  busy: 'storage error: the database is busy, try again in a few seconds',
  full: 'storage error: the server is out of storage space, try again later',
  'read-only': 'storage error: the server cannot write to its storage, try again later',
  unavailable: 'storage error: the database is unavailable, try again later',
  failed: 'storage error: try again later',
};

/** Seconds a client should wait before retrying a busy database (the Retry-After header). */
const BUSY_RETRY_AFTER_S = 2;

/** Turn anything thrown into an envelope; only FerryError messages reach clients verbatim. */
function toFerryError(err: unknown, request: FastifyRequest): FerryError {
  if (err instanceof FerryError) return err;
  if (err instanceof StorageError) {
    // The operator's line names the storage and what happened; the client's says when to retry.
    request.log.error({ err }, `storage error (${err.kind}): ${err.message}`);
    return new FerryError(Codes.STORAGE, STORAGE_MESSAGES[err.kind]);
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

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const fe = toFerryError(err, request);
  if (err instanceof StorageError && err.kind === 'busy') reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
  if (err instanceof RateLimitedError) reply.header('retry-after', String(err.retryAfterS));
  const body: Envelope<null> = { code: fe.code, message: fe.message, data: null };
  return reply.code(fe.httpStatus).header('content-type', 'application/json; charset=utf-8').send(body);
}
