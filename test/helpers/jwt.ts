// JWTs built by hand with node:crypto, the way an IM server that holds an app secret mints
// access tokens, plus forgeries (alg "none", wrong secret, tampered payload) and a reader for
// the claims of a file_sign. Independent of Ferry's own JWT library on purpose.
import { createHmac } from 'node:crypto';
import { chatSlot, postMultipart, type Creds } from './client.ts';

export type JwtAlg = 'HS256' | 'HS384' | 'HS512' | 'none';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** payload as text lets a test send JSON that JS cannot build, such as 9007199254740993 as a number. */
export function mintJwt(secret: string, payload: Record<string, unknown> | string, alg: JwtAlg = 'HS256'): string {
  const body = typeof payload === 'string' ? Buffer.from(payload).toString('base64url') : b64url(payload);
  const data = `${b64url({ alg, typ: 'JWT' })}.${body}`;
  if (alg === 'none') return `${data}.`;
  const hash = alg === 'HS256' ? 'sha256' : alg === 'HS384' ? 'sha384' : 'sha512';
  return `${data}.${createHmac(hash, secret).update(data).digest('base64url')}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An access token as the design brief defines it: app, sub, role (1 user, 2 admin), iat, exp. */
export function accessToken(
  secret: string,
  claims: { app?: string; sub: string | number; role?: unknown; iat?: number; exp?: number },
  alg: JwtAlg = 'HS256',
): string {
  const iat = claims.iat ?? nowSeconds();
  return mintJwt(secret, { role: 1, exp: iat + 3600, ...claims, iat }, alg);
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  if (h === undefined || p === undefined) throw new Error(`not a JWT: ${token}`);
  const read = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: read(h), payload: read(p) };
}

/** Replace the payload but keep header and signature: what an attacker editing claims sends. */
export function withPayload(token: string, payload: Record<string, unknown>): string {
  const [h, , s] = token.split('.');
  return `${h}.${b64url(payload)}.${s}`;
}

/** The file_sign of a chat download_url (its only and last query parameter). */
export function signOf(downloadUrl: string): string {
  const m = /\?file_sign=([A-Za-z0-9_.-]+)$/.exec(downloadUrl);
  if (!m) throw new Error(`download_url does not end with ?file_sign=<sign>: ${downloadUrl}`);
  return m[1]!;
}

export const signClaims = (downloadUrl: string) => decodeJwt(signOf(downloadUrl)).payload;

/** Ask for a chat slot and upload bytes into it; the download_url of the stored file. */
export async function uploadChat(
  base: string,
  creds: Creds,
  params: { to_id: string; to_type?: number; file_type?: number; user_id?: string; group_id?: string },
  bytes: Uint8Array = Buffer.from(`chat file for ${params.to_id}\n`),
): Promise<string> {
  const slot = await chatSlot(base, creds, { file_type: 100, ...params });
  const up = await postMultipart(slot.upload_url, bytes, { filename: 'note.txt' });
  if (up.status !== 200 || up.body.data !== true) throw new Error(`upload failed: ${up.status} ${JSON.stringify(up.body)}`);
  return slot.download_url;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Every other spelling of a JWT's signature that decodes to the same bytes: the last base64url
 * character carries bits no byte uses (2 for HS256, 4 for HS512), which lenient decoders ignore;
 * plus the same signature in the '+/' alphabet and with '=' padding.
 */
export function nonCanonicalVariants(jwt: string): string[] {
  const cut = jwt.lastIndexOf('.') + 1;
  const head = jwt.slice(0, cut);
  const sig = jwt.slice(cut);
  const unusedBits = (sig.length * 6) % 8;
  const last = B64URL.indexOf(sig.at(-1)!);
  const out: string[] = [];
  for (let low = 0; low < 1 << unusedBits; low++) {
    const v = (last & ~((1 << unusedBits) - 1)) | low;
    if (v !== last) out.push(`${head}${sig.slice(0, -1)}${B64URL[v]}`);
  }
  const std = Buffer.from(sig, 'base64url').toString('base64');
  if (std.replace(/=+$/, '') !== sig) out.push(`${head}${std.replace(/=+$/, '')}`);
  out.push(`${head}${sig}${'='.repeat((4 - (sig.length % 4)) % 4 || 4)}`);
  return out;
}
