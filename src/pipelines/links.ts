// Expiring public links (POST /admin/apps/:app_id/links): a token-free URL for one file, or one
// preview of it, that stops working at a set time. For what cannot send an access token: a
// push vendor fetching a notification image, a bot handing a picture to a model. The link is
// the blob URL downloads redirect to, with the operator's lifetime instead of a short one, and
// its path ends in the file's extension (push vendors take only .jpg/.png images, under 1 MB:
// image_type=2 gives a thumbnail that is).
import { verifySign } from '../auth/file-sign.ts';
import { Codes, FerryError, badParam } from '../errors.ts';
import type { Services } from '../services.ts';
import { parseMediaRequest, resolveMedia } from './derivatives.ts';
import { blobUrl } from './download.ts';
import { findAvatar, refuseUnwritten, requireReady, type ReadyFile } from './ready-file.ts';
import type { AppKeys } from '../auth/app-registry.ts';

/** A week: a link is for a notification or a hand-over, not a permanent address. */
export const MAX_LINK_TTL_S = 7 * 24 * 3600;

export interface LinkRequest {
  url?: unknown;
  ttl_s?: unknown;
  image_type?: unknown;
}

/** Which file a download_url (or a bare file_sign or avatar object_name) names. */
export function namedFile(raw: string): { sign: string } | { objectName: string } {
  const text = raw.trim();
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw badParam('url is not a valid URL');
    }
    // The sign is the last parameter of a download_url and URL-safe; take it as written.
    const sign = /[?&]file_sign=([^&#]*)/.exec(url.search)?.[1];
    if (url.pathname.endsWith('/file/download/chat') && sign) return { sign };
    const objectName = url.searchParams.get('object_name');
    if (url.pathname.endsWith('/file/download/avatar') && objectName) return { objectName };
    throw badParam('url must be a download_url of Ferry (/file/download/chat?file_sign=… or /file/download/avatar?object_name=…)');
  }
  return text.includes('.') && text.split('.').length === 3 ? { sign: text } : { objectName: text };
}

export async function createPublicLink(s: Services, appId: string, body: LinkRequest): Promise<{ url: string; expires_at: number }> {
  if (typeof body.url !== 'string' || body.url.trim() === '') throw badParam('url is required: a download_url, a file_sign or an avatar object_name');
  if (body.url.length > 8192) throw badParam('url is too long');
  if (typeof body.ttl_s !== 'number' || !Number.isInteger(body.ttl_s) || body.ttl_s < 1 || body.ttl_s > MAX_LINK_TTL_S) {
    throw badParam(`ttl_s must be a whole number of seconds from 1 to ${MAX_LINK_TTL_S}`);
  }
  const imageType = body.image_type === undefined ? '1' : String(body.image_type);
  if (!['1', '2', '3'].includes(imageType)) throw badParam('image_type must be 1 (original), 2 (thumbnail) or 3 (cover)');
  const keys = await s.apps.get(appId);
  if (!keys) throw new FerryError(Codes.APP_NOT_FOUND, `app ${appId} not found`);

  const named = namedFile(body.url);
  // The operator may link any file of the app: no conversation check, but the sign must be one
  // Ferry issued for this app.
  const file = 'sign' in named ? await signedFile(s, keys, named.sign) : await findAvatar(s, appId, named.objectName);
  // Ferry makes the preview itself: an external image service's URL would not be a link of Ferry's.
  const target = await resolveMedia(s, file, { ...parseMediaRequest({ image_type: imageType }), thumbnailStrategy: 2 });
  if (target.kind !== 'stored') throw badParam('this file has no such preview');
  const expiresAt = Math.floor(Date.now() / 1000) + body.ttl_s;
  return { url: await blobUrl(s, target.file, expiresAt), expires_at: expiresAt * 1000 };
}

/** The ready file a sign names; a chat slot not uploaded yet has no record (60002, see refuseUnwritten). */
async function signedFile(s: Services, keys: AppKeys, rawSign: string): Promise<ReadyFile> {
  const sign = verifySign(keys, rawSign);
  const found = await s.meta.getFile(keys.app.appId, sign.fid);
  if (!found) refuseUnwritten(s, null, sign);
  return requireReady(found);
}
