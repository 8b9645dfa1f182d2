// Direct uploads (opt-in per app, FERRY_S3_DIRECT_UPLOAD_APPS): for apps whose clients all
// honour upload_method (Android PUTs the raw body), the slot's upload_url is a presigned PUT
// into the bucket, so the bytes never pass through Ferry. Nobody tells Ferry when that PUT is
// done, so the first request that needs the file (a download, a forward, the janitor) confirms
// it: HEAD for the size, then one read through the same guard an upload through Ferry passes
// (size limit, content sniffed against file_type, SHA-256), and only then is the record ready.
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Codes, FerryError } from '../errors.ts';
import { AVATAR_TYPE, fileTypeInfo } from '../file-types.ts';
import { UploadGuard } from '../media/upload-guard.ts';
import type { FileRecord } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import { STALE_CLAIM_MS, uploadLabel } from './upload.ts';

/** The content type a direct PUT must carry (signed into the URL): what Android sends. */
const DIRECT_UPLOAD_CONTENT_TYPE = 'application/octet-stream';

/** Whether the app's uploads go straight to the store: it is listed, and the store takes them. */
export function takesDirectUploads(s: Services, appId: string): boolean {
  return s.config.directUploadApps.has(appId) && s.bytes.directUploads !== undefined;
}

/** A presigned PUT for the slot's object, or null when the app's uploads come through Ferry. */
export async function directUploadUrl(s: Services, file: FileRecord): Promise<string | null> {
  const direct = s.bytes.directUploads;
  if (!direct || !s.config.directUploadApps.has(file.appId)) return null;
  return (await direct.presignPut(file.storageKey, DIRECT_UPLOAD_CONTENT_TYPE)).url;
}

/**
 * If file is a direct upload whose bytes have arrived, check them and make the record ready.
 * Returns the record as it is now (unchanged when there is nothing to confirm yet). Throws the
 * upload's refusal (60003, 60004) after deleting bytes that break the rules, which also gives
 * the slot back.
 */
export async function confirmDirectUpload(s: Services, file: FileRecord): Promise<FileRecord> {
  if (file.status === 'ready' || !takesDirectUploads(s, file.appId)) return file;
  const info = await s.bytes.head(file.storageKey);
  if (!info) return file;
  const now = Date.now();
  // The presigned URL enforced the upload deadline; bytes that made it count even when the
  // slot has expired since.
  const claim = await s.meta.claimSlot(file.slotId, now, now - STALE_CLAIM_MS, { ignoreExpiry: true });
  if (!claim.ok) return (await s.meta.getFile(file.appId, file.id)) ?? file;
  try {
    const type = file.kind === 'chat' ? fileTypeInfo(file.fileType) : AVATAR_TYPE;
    const limit = s.config.limits[type.limit];
    if (info.size > limit) throw new FerryError(Codes.TOO_LARGE, `the uploaded file is larger than the ${limit} bytes allowed for this file_type`);
    if (info.size === 0) throw new FerryError(Codes.NO_FILE_PART, 'the uploaded file is empty');
    const guard = new UploadGuard(type.kind, limit);
    const sink = new Writable({ write: (_chunk, _enc, done) => done() });
    const typed = guard.contentType;
    await pipeline(await s.bytes.read(file.storageKey), guard, sink);
    const contentType = await typed;
    const done = await s.meta.completeUpload(file.id, { size: guard.bytes, sha256: guard.digest(), contentType, fileName: null }, Date.now());
    s.metrics.uploadCompleted(uploadLabel(file), guard.bytes);
    return done;
  } catch (err) {
    if (err instanceof FerryError) await s.bytes.delete(file.storageKey).catch(() => {});
    await s.meta.releaseSlot(file.id).catch(() => {});
    throw err;
  }
}
