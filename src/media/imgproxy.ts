// thumbnail_strategy=1 may hand thumbnails to an external imgproxy-compatible service. Ferry
// redirects to a signed processing URL whose source is the original in Ferry's own storage
// (the byte store's locator: local:// with imgproxy's IMGPROXY_LOCAL_FILESYSTEM_ROOT at the
// objects folder, or s3://),
// so the original never needs a public URL. Signature: imgproxy's documented scheme,
// base64url(HMAC-SHA256(key, salt + path)) with hex-encoded key and salt.
// Each URL expires (imgproxy's exp:<unix time> option, signed with the rest of the path), so a
// leaked thumbnail link stops working. The expiry is aligned to a window: every redirect within
// one window hands out the very same URL, so browsers keep reusing what they cached.
import { createHmac } from 'node:crypto';
import type { Box } from './box.ts';

interface ImgproxySettings {
  url: string;
  key: string;
  salt: string;
}

export function signImgproxyPath(settings: ImgproxySettings, path: string): string {
  const hmac = createHmac('sha256', Buffer.from(settings.key, 'hex'));
  hmac.update(Buffer.from(settings.salt, 'hex'));
  hmac.update(path);
  return hmac.digest('base64url');
}

/** A URL is handed out unchanged for one window and stays valid for one more after that. */
export const IMGPROXY_URL_WINDOW_S = 3600;

export interface ImgproxyRedirect {
  url: string;
  /** epoch ms until which the same URL is handed out again (so the redirect may be cached until then) */
  reusableUntil: number;
}

/** fit inside box, never enlarge; imgproxy auto-rotates and strips metadata by default. */
export function imgproxyUrl(settings: ImgproxySettings, source: string, box: Box, nowMs = Date.now()): ImgproxyRedirect {
  const window = Math.floor(nowMs / 1000 / IMGPROXY_URL_WINDOW_S);
  const exp = (window + 2) * IMGPROXY_URL_WINDOW_S;
  const path = `/exp:${exp}/rs:fit:${box.width}:${box.height}:0/${Buffer.from(source).toString('base64url')}`;
  return { url: `${settings.url}/${signImgproxyPath(settings, path)}${path}`, reusableUntil: (window + 1) * IMGPROXY_URL_WINDOW_S * 1000 };
}
