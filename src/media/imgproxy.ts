// thumbnail_strategy=1 may hand thumbnails to an external imgproxy-compatible service. Ferry
// redirects to a signed processing URL whose source is the original in Ferry's own storage
// (local:// with imgproxy's IMGPROXY_LOCAL_FILESYSTEM_ROOT at the objects folder, or s3://),
// so the original never needs a public URL. Signature: imgproxy's documented scheme,
// base64url(HMAC-SHA256(key, salt + path)) with hex-encoded key and salt.
import { createHmac } from 'node:crypto';
import type { Box } from './box.ts';

interface ImgproxySettings {
  url: string;
  key: string;
  salt: string;
}

/** Where imgproxy reads the original: the same object Ferry serves. */
export function imgproxySource(store: string | undefined, storageKey: string): string {
  if (store?.startsWith('s3://')) return `${store}/${storageKey}`;
  return `local:///${storageKey}`;
}

export function signImgproxyPath(settings: ImgproxySettings, path: string): string {
  const hmac = createHmac('sha256', Buffer.from(settings.key, 'hex'));
  hmac.update(Buffer.from(settings.salt, 'hex'));
  hmac.update(path);
  return hmac.digest('base64url');
}

/** fit inside box, never enlarge; imgproxy auto-rotates and strips metadata by default. */
export function imgproxyUrl(settings: ImgproxySettings, source: string, box: Box): string {
  const path = `/rs:fit:${box.width}:${box.height}:0/${Buffer.from(source).toString('base64url')}`;
  return `${settings.url}/${signImgproxyPath(settings, path)}${path}`;
}
