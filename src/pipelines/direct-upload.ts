// Direct uploads (opt-in per app, FERRY_S3_DIRECT_UPLOAD_APPS): for apps whose clients all
// honour upload_method (Android PUTs the raw body), the slot's upload_url is a presigned PUT
// into the bucket, so the bytes never pass through Ferry. Nobody tells Ferry when that PUT is
// done, so the first request that needs the file (a download, a forward, the janitor) confirms
// it. The PUT stays valid long after that, so it never writes the key Ferry serves: it lands
// at the store's upload key, and confirming copies it (inside the store, pinned to the version
// Ferry saw) to the record's key, then reads that copy once through the same guard an upload
// through Ferry passes (size limit, content sniffed against file_type, SHA-256). The bytes
// checked are the bytes served, and a later PUT changes nothing Ferry serves.
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Codes, FerryError } from '../errors.ts';
import { AVATAR_TYPE, fileTypeInfo } from '../file-types.ts';
import { UploadGuard, uploadHash } from '../media/upload-guard.ts';
import type { FileRecord } from '../meta/meta-store.ts';
import type { Services } from '../services.ts';
import { STALE_CLAIM_MS, uploadLabel } from './upload.ts';
import { countUpload, dropDeletedUpload, refuseQuarantined } from './lifecycle.ts';

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
 * Returns the record as it is now (unchanged when there is nothing to confirm yet, or when the
 * upload was replaced while Ferry looked at it: the next request confirms the new bytes).
 * Throws the upload's refusal (60003, 60004) after deleting bytes that break the rules, which
 * also gives the slot back.
 */
export async function confirmDirectUpload(s: Services, file: FileRecord): Promise<FileRecord> {
  const direct = s.bytes.directUploads;
  if (file.status === 'ready' || !direct || !takesDirectUploads(s, file.appId)) return file;
  const upload = await direct.uploaded(file.storageKey);
  if (!upload) return file;
  const now = Date.now();
  // The presigned URL enforced the upload deadline; bytes that made it count even when the
  // slot has expired since.
  const claim = await s.meta.claimSlot(file.slotId, now, now - STALE_CLAIM_MS, { ignoreExpiry: true });
  if (!claim.ok) return (await s.meta.getFile(file.appId, file.id)) ?? file;
  /** The upload changed while Ferry looked at it: nothing is served; the next request confirms the new bytes. */
  const replaced = async (): Promise<FileRecord> => {
    s.log.info({ fileId: file.id }, 'direct upload replaced while being confirmed; left pending');
    await s.meta.releaseSlot(file.id);
    return (await s.meta.getFile(file.appId, file.id)) ?? file;
  };
  let recording = false;
  try {
    const type = file.kind === 'chat' ? fileTypeInfo(file.fileType) : AVATAR_TYPE;
    const limit = s.config.limits[type.limit];
    // Refused on the size the store reports, before a byte is copied or read.
    if (upload.size > limit) throw new FerryError(Codes.TOO_LARGE, `the uploaded file is larger than the ${limit} bytes allowed for this file_type`);
    if (upload.size === 0) throw new FerryError(Codes.NO_FILE_PART, 'the uploaded file is empty');
    // Copy first, then check the copy: no presigned URL can write it, so what passes the
    // guard is what is served. The copy is of the version whose size was checked above.
    if (!(await direct.adopt(file.storageKey, upload.version))) return await replaced();
    const guard = new UploadGuard(type.kind, limit, uploadHash(upload.size));
    const sink = new Writable({ write: (_chunk, _enc, done) => done() });
    const typed = guard.contentType;
    await pipeline(await s.bytes.read(file.storageKey), guard, sink);
    const contentType = await typed;
    const sha256 = await guard.digest();
    // The copy is the version that was measured, so its length must match; a store that
    // ignored the pin would show here, and then nothing is served.
    if (guard.bytes !== upload.size) {
      await s.bytes.delete(file.storageKey);
      return await replaced();
    }
    await refuseQuarantined(s, file.appId, sha256);
    // From here the record may be ready even if the call fails on the way back: keep the copy.
    recording = true;
    const ready = await s.meta.completeUpload(file.id, { size: guard.bytes, sha256, contentType, fileName: null }, Date.now());
    if (ready.status === 'purging') await dropDeletedUpload(s, ready, guard.bytes);
    await countUpload(s, ready, guard.bytes);
    s.metrics.uploadCompleted(uploadLabel(file), guard.bytes);
    // The file is served from its own key now; the upload is only in the way (a failure here
    // leaves garbage, never a wrong file: the janitor's upload sweep takes it later).
    await s.bytes.delete(direct.uploadKey(file.storageKey)).catch((err: unknown) => s.log.warn({ err, fileId: file.id }, 'could not delete a confirmed direct upload'));
    return ready;
  } catch (err) {
    // The copy is unchecked or refused: it does not stay under the key Ferry serves.
    if (!recording) await s.bytes.delete(file.storageKey).catch(() => {});
    if (err instanceof FerryError) await s.bytes.delete(direct.uploadKey(file.storageKey)).catch(() => {});
    await s.meta.releaseSlot(file.id).catch(() => {});
    throw err;
  }
}
