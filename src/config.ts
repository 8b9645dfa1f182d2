// Ferry's settings come from the environment only. The names in the first block are the
// operator's contract (design brief) and must keep working; the rest are Ferry's own.
import os from 'node:os';
import path from 'node:path';
import { defaultDataDir } from './data-dir.ts';
import { URL_CHARACTERS } from './public-urls.ts';

export interface SizeLimits {
  /** 100 chat file, 200 group shared file */
  file: number;
  /** 101 AMR, 104 MP3, 201 shared voice */
  voice: number;
  /** 102, 202 */
  image: number;
  /** 103, 203 */
  video: number;
  avatar: number;
}

export interface Config {
  host: string;
  port: number;
  /** defaults to http://HOST:PORT; with PORT 0 the real port is known only after listen (see PublicUrls) */
  publicUrl: string;
  publicUrlFromEnv: boolean;
  dataDir: string;
  /** undefined: generate into the data folder on first start */
  adminKey: string | undefined;
  databaseUrl: string | undefined;
  store: string | undefined;
  s3: {
    endpoint: string | undefined;
    publicEndpoint: string | undefined;
    region: string;
    accessKey: string | undefined;
    secretKey: string | undefined;
    forcePathStyle: boolean;
    /** how long a presigned download or direct-upload URL stays valid */
    urlTtlSeconds: number;
  };
  /**
   * redirect: downloads answer 302 to a short-lived URL without the caller's token (a presigned
   * URL on the store, or Ferry's own signed blob URL); stream: the bytes come in the answer.
   */
  download: 'redirect' | 'stream';
  /** how long Ferry's own signed blob URLs stay valid (they are reused for half of it) */
  blobUrlTtlSeconds: number;
  /** apps whose clients all honour upload_method (Android): their slots PUT straight to the store */
  directUploadApps: ReadonlySet<string>;
  /** how long an upload slot stays usable */
  slotTtlSeconds: number;
  limits: SizeLimits;
  /** how long graceful shutdown waits for in-flight requests before it aborts them */
  shutdownGraceMs: number;
  uploadLimits: UploadLimits;
  /** open connections at once; the server closes any beyond it on arrival */
  maxConnections: number;
  /** server processes on the one port (node:cluster); 1: this process serves alone */
  workers: number;
  /** memory for the bytes of small, hot files (avatars, thumbnails); 0 turns it off */
  smallReadCacheBytes: number;
  logLevel: string;
  /** one line per request at info (route template, status, bytes, ms, request id, app, user) */
  accessLog: boolean;
  /** when set, GET /metrics needs Authorization: Bearer <it> */
  metricsToken: string | undefined;
  media: MediaConfig;
  tokens: TokenPolicy;
  membership: MembershipConfig;
  rateLimits: RateLimitConfig;
  /** fastify's trustProxy: which proxies' X-Forwarded-For names the client (rate limits per IP) */
  trustProxy: string | undefined;
}

/** Requests per window (burst included); 0 turns one limit off. Counted per node. */
export interface RateLimitConfig {
  windowMs: number;
  slots: { perIp: number; perUser: number };
  uploads: { perIp: number; perUser: number };
  downloads: { perIp: number; perUser: number };
}

/** Asking the operator's IM server about memberships Ferry does not know (docs/membership.md). */
export interface MembershipConfig {
  /** FERRY_MEMBERSHIP_URL; an app's own membership_url wins; unset and none: Ferry never asks */
  url: string | undefined;
  /** how long a "member" answer is used without asking again */
  ttlMs: number;
  /** how long a "not a member" answer counts as the first of the two noes a refusal needs */
  noTtlMs: number;
  /** while the IM server cannot answer, known answers are used up to this age */
  staleMs: number;
  /** one ask waits this long */
  timeoutMs: number;
}

/** What Ferry accepts as an access token beyond a valid signature. */
export interface TokenPolicy {
  /** tokens without exp live forever once leaked: refused unless the operator allows them */
  allowWithoutExp: boolean;
  /** the longest lifetime accepted: exp − iat (exp − now without iat); also caps admin minting */
  maxTtlSeconds: number;
}

/** 30 days: well above the admin API's 7-day default, well below "forever". */
export const DEFAULT_TOKEN_POLICY: TokenPolicy = { allowWithoutExp: false, maxTtlSeconds: 30 * 86400 };

/** What keeps silent, trickling or piled-up uploads from holding connections and slots. */
export interface UploadLimits {
  /** an upload whose client sends no byte for this long is cut */
  idleTimeoutMs: number;
  /** ...and one that sends fewer than this many bytes per second, averaged over rateWindowMs; 0: no minimum */
  minBytesPerSecond: number;
  rateWindowMs: number;
  /** uploads one user (the slot's owner, within its app) may have running at once, per Ferry node */
  perUser: number;
}

export interface MediaConfig {
  /** images (and video frames) above width×height are refused before decoding */
  maxImagePixels: number;
  /** animated images with more frames are refused */
  maxImageFrames: number;
  /** one image decode and resize, killed after this */
  imageTimeoutMs: number;
  /** one ffmpeg/ffprobe/heif-convert run, killed after this */
  ffmpegTimeoutMs: number;
  /** media jobs running at once; default: the number of cores */
  concurrency: number;
  /** media jobs that may wait for a slot before new ones are refused */
  maxQueued: number;
  /** imgproxy-style external image service for thumbnail_strategy=1; unset: Ferry makes thumbnails */
  imgproxy: { url: string; key: string; salt: string } | undefined;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: SizeLimits = {
  file: 100 * MiB,
  voice: 10 * MiB,
  image: 30 * MiB,
  video: 500 * MiB,
  avatar: 10 * MiB,
};

export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Sizes accept plain bytes or a K/M/G suffix (binary units), e.g. "100M". */
export function parseSize(name: string, raw: string): number {
  const m = /^(\d+)\s*([KMG]i?B?)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a size like 1048576, 512K, 100M or 2G, got "${raw}"`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const mult = unit === 'K' ? 1024 : unit === 'M' ? MiB : unit === 'G' ? 1024 * MiB : 1;
  const bytes = Number(m[1]) * mult;
  if (!Number.isSafeInteger(bytes)) throw new ConfigError(`${name} is too large: ${raw}`);
  return bytes;
}

function size(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : parseSize(name, raw);
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** FERRY_DOWNLOAD, else the older FERRY_S3_DOWNLOAD (kept working), else redirect as Lanying does. */
function downloadMode(env: NodeJS.ProcessEnv): 'redirect' | 'stream' {
  const name = env.FERRY_DOWNLOAD ? 'FERRY_DOWNLOAD' : 'FERRY_S3_DOWNLOAD';
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'redirect') return 'redirect';
  if (raw === 'stream') return 'stream';
  throw new ConfigError(`${name} must be redirect or stream, got "${raw}"`);
}

/** Settings never change while Ferry runs: freezing them makes a stray write an error, not a surprise. */
function deepFreeze<T extends object>(o: T): Readonly<T> {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) deepFreeze(v as object);
  return Object.freeze(o);
}

/** FERRY_WORKERS: server processes on one port; by default one per core. */
function workersOf(env: NodeJS.ProcessEnv): number {
  return int(env, 'FERRY_WORKERS', os.availableParallelism(), 1, 256);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const host = env.FERRY_HOST || '127.0.0.1';
  const port = int(env, 'FERRY_PORT', 8080, 0, 65535);
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let publicUrl = env.FERRY_PUBLIC_URL || `http://${hostForUrl}:${port}`;
  // Clients append paths to the API base by concatenation; it must never end with "/".
  publicUrl = publicUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError(`FERRY_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  if (!URL_CHARACTERS.test(publicUrl)) {
    throw new ConfigError(`FERRY_PUBLIC_URL must be made of URL characters only (percent-encode the rest; an international domain name in its xn-- form), got ${JSON.stringify(publicUrl)}`);
  }
  const store = env.FERRY_STORE || undefined;
  if (store !== undefined && !/^s3:\/\/[^/]+$/.test(store)) {
    throw new ConfigError(`FERRY_STORE must be unset (local disk) or s3://BUCKET, got "${store}"`);
  }
  const databaseUrl = env.FERRY_DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('FERRY_DATABASE_URL must be unset (SQLite in the data folder) or a postgres:// URL');
  }
  return deepFreeze({
    host,
    port,
    publicUrl,
    publicUrlFromEnv: Boolean(env.FERRY_PUBLIC_URL),
    dataDir: env.FERRY_DATA_DIR ? path.resolve(env.FERRY_DATA_DIR) : defaultDataDir(),
    adminKey: env.FERRY_ADMIN_KEY || undefined,
    databaseUrl,
    store,
    s3: {
      endpoint: env.FERRY_S3_ENDPOINT || undefined,
      publicEndpoint: env.FERRY_S3_PUBLIC_ENDPOINT || undefined,
      region: env.FERRY_S3_REGION || 'us-east-1',
      accessKey: env.FERRY_S3_ACCESS_KEY || undefined,
      secretKey: env.FERRY_S3_SECRET_KEY || undefined,
      forcePathStyle: bool(env, 'FERRY_S3_FORCE_PATH_STYLE', false),
      urlTtlSeconds: int(env, 'FERRY_S3_URL_TTL_S', 3600, 60, 7 * 24 * 3600),
    },
    download: downloadMode(env),
    blobUrlTtlSeconds: int(env, 'FERRY_BLOB_URL_TTL_S', 3600, 60, 7 * 24 * 3600),
    directUploadApps: new Set((env.FERRY_S3_DIRECT_UPLOAD_APPS ?? '').split(',').map((a) => a.trim()).filter(Boolean)),
    slotTtlSeconds: int(env, 'FERRY_SLOT_TTL_S', 3600, 10, 7 * 24 * 3600),
    limits: {
      file: size(env, 'FERRY_MAX_FILE_SIZE', DEFAULT_LIMITS.file),
      voice: size(env, 'FERRY_MAX_VOICE_SIZE', DEFAULT_LIMITS.voice),
      image: size(env, 'FERRY_MAX_IMAGE_SIZE', DEFAULT_LIMITS.image),
      video: size(env, 'FERRY_MAX_VIDEO_SIZE', DEFAULT_LIMITS.video),
      avatar: size(env, 'FERRY_MAX_AVATAR_SIZE', DEFAULT_LIMITS.avatar),
    },
    shutdownGraceMs: int(env, 'FERRY_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    uploadLimits: {
      idleTimeoutMs: int(env, 'FERRY_UPLOAD_IDLE_TIMEOUT_MS', 30_000, 100, 600_000),
      minBytesPerSecond: size(env, 'FERRY_UPLOAD_MIN_RATE', 1024),
      rateWindowMs: int(env, 'FERRY_UPLOAD_RATE_WINDOW_MS', 60_000, 100, 3_600_000),
      perUser: int(env, 'FERRY_UPLOADS_PER_USER', 10, 1, 100_000),
    },
    maxConnections: int(env, 'FERRY_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    workers: workersOf(env),
    smallReadCacheBytes: size(env, 'FERRY_SMALL_FILE_CACHE', 32 * MiB),
    logLevel: env.FERRY_LOG_LEVEL || 'info',
    accessLog: bool(env, 'FERRY_ACCESS_LOG', true),
    metricsToken: env.FERRY_METRICS_TOKEN || undefined,
    media: loadMediaConfig(env),
    membership: loadMembershipConfig(env),
    tokens: {
      allowWithoutExp: bool(env, 'FERRY_ALLOW_TOKENS_WITHOUT_EXP', DEFAULT_TOKEN_POLICY.allowWithoutExp),
      maxTtlSeconds: int(env, 'FERRY_TOKEN_MAX_TTL_S', DEFAULT_TOKEN_POLICY.maxTtlSeconds, 60, 10 * 365 * 86400),
    },
    rateLimits: loadRateLimits(env),
    trustProxy: trustProxy(env),
  });
}

/** An http(s) URL without credentials in it (they would end up in logs); else a clear error. */
export function checkMembershipUrl(name: string, raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  if (u.username || u.password) throw new ConfigError(`${name} must not carry a user or password: Ferry signs its requests`);
  if (u.search || u.hash) throw new ConfigError(`${name} must not carry a query or fragment: Ferry adds app_id, group_id and user_id`);
  return raw;
}

function loadMembershipConfig(env: NodeJS.ProcessEnv): MembershipConfig {
  const url = env.FERRY_MEMBERSHIP_URL ? checkMembershipUrl('FERRY_MEMBERSHIP_URL', env.FERRY_MEMBERSHIP_URL) : undefined;
  return {
    url,
    ttlMs: int(env, 'FERRY_MEMBERSHIP_TTL_S', 300, 1, 7 * 86400) * 1000,
    noTtlMs: 5_000,
    staleMs: int(env, 'FERRY_MEMBERSHIP_STALE_S', 600, 0, 7 * 86400) * 1000,
    timeoutMs: int(env, 'FERRY_MEMBERSHIP_TIMEOUT_MS', 2000, 50, 60_000),
  };
}

function loadMediaConfig(env: NodeJS.ProcessEnv): MediaConfig {
  const imgproxyUrl = (env.FERRY_IMGPROXY_URL || '').replace(/\/+$/, '');
  let imgproxy: MediaConfig['imgproxy'];
  if (imgproxyUrl) {
    if (!/^https?:\/\/[^/]+/.test(imgproxyUrl)) throw new ConfigError(`FERRY_IMGPROXY_URL must be an http(s) URL, got "${imgproxyUrl}"`);
    const key = env.FERRY_IMGPROXY_KEY || '';
    const salt = env.FERRY_IMGPROXY_SALT || '';
    if (!/^([0-9a-f]{2})+$/i.test(key) || !/^([0-9a-f]{2})+$/i.test(salt)) {
      throw new ConfigError('FERRY_IMGPROXY_KEY and FERRY_IMGPROXY_SALT must be set (hex) when FERRY_IMGPROXY_URL is');
    }
    imgproxy = { url: imgproxyUrl, key, salt };
  }
  return {
    maxImagePixels: int(env, 'FERRY_MAX_IMAGE_PIXELS', 40_000_000, 1, 1_000_000_000),
    maxImageFrames: int(env, 'FERRY_MAX_IMAGE_FRAMES', 1000, 1, 100_000),
    imageTimeoutMs: int(env, 'FERRY_IMAGE_TIMEOUT_MS', 20_000, 100, 600_000),
    ffmpegTimeoutMs: int(env, 'FERRY_FFMPEG_TIMEOUT_MS', 60_000, 100, 3_600_000),
    // Per process: with several workers the cores are shared out, so the machine runs about
    // one decode per core in all and the memory bound of one process holds for the sum.
    concurrency: int(env, 'FERRY_MEDIA_CONCURRENCY', Math.max(1, Math.round(os.availableParallelism() / workersOf(env))), 1, 256),
    maxQueued: int(env, 'FERRY_MEDIA_MAX_QUEUED', 64, 0, 100_000),
    imgproxy,
  };
}

function loadRateLimits(env: NodeJS.ProcessEnv): RateLimitConfig {
  const pair = (what: string, ip: number, user: number) => ({
    perIp: int(env, `FERRY_RATE_${what}_PER_IP`, ip, 0, 1_000_000_000),
    perUser: int(env, `FERRY_RATE_${what}_PER_USER`, user, 0, 1_000_000_000),
  });
  // A chat screen full of images asks for dozens of thumbnails at once, and an office behind
  // one NAT address is many users: downloads get ten times the room of uploads.
  return {
    windowMs: int(env, 'FERRY_RATE_WINDOW_S', 60, 1, 86400) * 1000,
    slots: pair('SLOTS', 600, 120),
    uploads: pair('UPLOADS', 600, 120),
    downloads: pair('DOWNLOADS', 6000, 1200),
  };
}

/**
 * Unset: no proxy is trusted (the client's address is the connection's). Otherwise the proxies'
 * addresses or CIDRs, or loopback / linklocal / uniquelocal, comma-separated.
 */
function trustProxy(env: NodeJS.ProcessEnv): string | undefined {
  const raw = (env.FERRY_TRUST_PROXY ?? '').trim();
  if (raw === '') return undefined;
  const ok = raw.split(',').every((p) => /^(loopback|linklocal|uniquelocal|[0-9A-Fa-f.:]+(\/\d{1,3})?)$/.test(p.trim()));
  if (!ok) throw new ConfigError(`FERRY_TRUST_PROXY must be proxy addresses or CIDRs (or loopback, linklocal, uniquelocal) separated by commas, got "${raw}"`);
  return raw;
}
