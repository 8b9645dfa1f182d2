// Ferry's log: pino JSON lines, with every credential kept out of them at every level. Request
// URLs carry access tokens and file signs (browsers must put them in the query), upload URLs are
// capabilities (/file/slot/<slot>), blob URLs too (/file/blob/<capability>/…), and records carry
// app secrets and signing keys. Three layers, so one forgotten spot does not leak:
// 1. the request serializer logs the URL with those parts replaced;
// 2. redaction by key (headers, secrets, tokens) for objects handed to the logger;
// 3. a last pass over every finished line that replaces anything shaped like a token, a sign or
//    a slot/blob URL, wherever it sits (an error message quoting a URL, say).
import { randomUUID } from 'node:crypto';
import pino, { type DestinationStream, type Logger } from 'pino';

export const REDACTED = '[redacted]';

/** Query keys whose values are credentials, in any spelling clients use. */
const SECRET_QUERY_KEYS = ['access-token', 'access_token', 'accesstoken', 'token', 'file_sign', 'sign', 'x-admin-key', 'secret'];

/** Keys (at the top level and one level down) that hold credentials in logged objects. */
const SECRET_KEYS = ['secret', 'signKey', 'sign_key', 'token', 'adminKey', 'admin_key', 'file_sign', 'fileSign', 'slotId', 'slot_id', 'password'];
const SECRET_HEADERS = ['access-token', 'x-admin-key', 'authorization', 'cookie', 'x-ferry-signature'];

const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`, `*.headers["${h}"]`]),
];

const queryKeys = SECRET_QUERY_KEYS.map((k) => k.replace(/[-_]/g, '[-_]?')).join('|');
/** key=value in a query string, the value up to the next &, quote, space or end */
const SECRET_QUERY = new RegExp(`([?&](?:${queryKeys})=)[^&"\\s#]*`, 'gi');
/** the slot in an upload URL and the capability in a blob URL (not a route template: /file/slot/:slotId) */
const CAPABILITY_PATH = /(\/file\/(?:slot|blob)\/)(?!:)[^/?"\s#]+/g;
/** a JWT (access tokens and file signs are JWTs), wherever it appears */
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g;

/** A URL (or any text) with tokens, signs, slot ids and blob capabilities replaced. */
export function redactUrl(text: string): string {
  return text.replace(SECRET_QUERY, `$1${REDACTED}`).replace(CAPABILITY_PATH, `$1${REDACTED}`).replace(JWT, REDACTED);
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  routeOptions?: { url?: string };
}

/**
 * Replaces fastify's request serializer (which logs the raw URL): the route template, and the
 * URL with its credentials replaced.
 */
function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return { method: req.method, route: req.routeOptions?.url, url: req.url === undefined ? undefined : redactUrl(req.url), remoteAddress: req.ip };
}

export interface LogSettings {
  logLevel: string;
}

/** The logger for a Ferry: JSON lines on stdout (or destination), with credentials redacted. */
export function createLogger(settings: LogSettings, destination?: DestinationStream): Logger {
  return pino(
    {
      level: settings.logLevel,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: { req: serializeRequest, err: pino.stdSerializers.err },
      hooks: { streamWrite: redactUrl },
    },
    destination ?? pino.destination(1),
  );
}

/** A request id Ferry will echo and log: printable ASCII without spaces, at most this long. */
const MAX_REQUEST_ID = 128;
const REQUEST_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID}}$`);

/**
 * The request's id: the caller's X-Request-Id when it is a sane one (a proxy's or the client's
 * trace id), else a new random one, unique across nodes. An over-long id or one with control
 * characters is replaced, never echoed: it would otherwise forge log lines or headers.
 */
export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}
