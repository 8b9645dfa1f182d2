// Requests node's HTTP parser rejects before any route sees them: malformed (400), headers
// too large (431), too slow to arrive (408). fastify's default answer has no
// "Connection: close" and destroys the socket right after writing, so a keep-alive client
// keeps the connection in its pool and its next request fails; and the destroy can discard the
// answer before it is sent. Here the answer says the connection ends, and it ends after it.
import http from 'node:http';
import type { Socket } from 'node:net';
import { Codes } from '../errors.ts';

interface ParserError extends Error {
  code?: string;
}

const ANSWERS: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'request headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: 'chunk extensions are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'the request took too long to arrive' },
};
const MALFORMED = { status: 400, message: 'malformed HTTP request' };

/** How long a client may take to read the answer before the socket is destroyed anyway. */
const LINGER_MS = 5000;

export function answerClientError(err: ParserError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // Mid-answer (a response already started on this socket) nothing can be added cleanly.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, message } = ANSWERS[err.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify({ code: Codes.BAD_PARAM, message, data: null });
  const head =
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  // end() sends the answer, then FIN; the socket is destroyed once that is done (or a client
  // that never reads has had its chance).
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.end(head + body, () => socket.destroy());
}
