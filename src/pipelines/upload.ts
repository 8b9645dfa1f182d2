// Upload, step 2: the bytes arrive at upload_url. Claim the slot (one upload at a time), stream
// through the guard into the store, and only when every byte is durable and the request is
// complete, commit the object and mark the record ready. Any failure on the way discards what
// was staged and gives the slot back, so the client can simply try again.
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { Codes, FerryError } from '../errors.ts';
import { AVATAR_TYPE, fileTypeInfo } from '../file-types.ts';
import { UploadGuard } from '../media/upload-guard.ts';
import { probeStoredMedia, type MediaInfo } from '../media/probe.ts';
import { cleanFileName } from '../file-names.ts';
import type { FileRecord } from '../meta/meta-store.ts';
import type { StagedObject } from '../bytes/byte-store.ts';
import { StorageError } from '../bytes/byte-store.ts';
import type { Services } from '../services.ts';

/** An upload's claim is refreshed this often while bytes arrive... */
const HEARTBEAT_MS = 30_000;
/** ...and counts as dead (its node crashed) when older than this. */
export const STALE_CLAIM_MS = 120_000;

export interface StagedUpload {
  size: number;
  sha256: string;
  contentType: string;
  fileName: string | null;
  object: StagedObject;
}

async function claim(s: Services, slotId: string): Promise<FileRecord> {
  const now = Date.now();
  const res = await s.meta.claimSlot(slotId, now, now - STALE_CLAIM_MS);
  if (res.ok) return res.file;
  switch (res.reason) {
    case 'not-found':
      throw new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot not found: ask for a new one');
    case 'expired':
      throw new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot has expired: ask for a new one');
    case 'used':
      throw new FerryError(Codes.SLOT_USED, 'upload slot was already used: ask for a new one');
    case 'busy':
      throw new FerryError(Codes.SLOT_BUSY, 'another upload to this slot is in progress');
  }
}

type Receive = (stage: (source: Readable, fileName: string | null) => Promise<StagedUpload>) => Promise<StagedUpload | null>;

/**
 * Run one upload against a slot. receive() streams the request's file into stage() and returns
 * what was staged (or null when the request held no file). A client whose connection is cut
 * during shutdown no longer holds the HTTP server open, but its upload is still discarding
 * staged bytes and giving its slot back: shutdown waits for s.uploadsInFlight before it closes
 * the stores.
 */
export function receiveUpload(s: Services, slotId: string, receive: Receive, client: { ip: string }): Promise<void> {
  return s.uploadsInFlight.track(runUpload(s, slotId, receive, client));
}

async function runUpload(s: Services, slotId: string, receive: Receive, client: { ip: string }): Promise<void> {
  s.rateLimits.byIp('uploads', client.ip);
  const file = await claim(s, slotId);
  const heartbeat = setInterval(() => {
    s.meta.touchClaim(file.id, Date.now()).catch((err: unknown) => s.log.warn({ err }, 'could not refresh upload claim'));
  }, HEARTBEAT_MS);
  const staged: StagedUpload[] = [];
  try {
    // The slot names its user; a refusal gives the slot back (below) for a retry after Retry-After.
    s.rateLimits.byUser('uploads', file.appId, file.ownerId);
    const result = await receive(async (source, fileName) => {
      const up = await stageUpload(s, file, source, fileName);
      staged.push(up);
      return up;
    });
    if (!result) throw new FerryError(Codes.NO_FILE_PART, 'no file part: send the file in a multipart part named "file", or as a raw PUT body');
    await result.object.commit();
    const media = await measureMedia(s, file.storageKey, result);
    try {
      await s.meta.completeUpload(
        file.id,
        { size: result.size, sha256: result.sha256, contentType: result.contentType, fileName: result.fileName, ...media },
        Date.now(),
      );
    } catch (err) {
      await s.bytes.delete(file.storageKey).catch(() => {});
      throw err instanceof StorageError ? err : new StorageError(`could not record the upload: ${(err as Error).message}`, { cause: err });
    }
  } catch (err) {
    await Promise.all(staged.map((u) => u.object.discard().catch(() => {})));
    await s.meta.releaseSlot(file.id).catch((e: unknown) => s.log.error({ err: e }, 'could not release upload slot'));
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}

/** Width, height and duration for the record; best effort, it never fails an upload. */
async function measureMedia(s: Services, key: string, up: StagedUpload): Promise<MediaInfo | undefined> {
  try {
    return await probeStoredMedia(s.media, s.bytes, key, up.size, up.contentType);
  } catch (err) {
    s.log.warn({ err, key }, 'could not measure uploaded media');
    return undefined;
  }
}

async function stageUpload(s: Services, file: FileRecord, source: Readable, fileName: string | null): Promise<StagedUpload> {
  const type = file.kind === 'chat' ? fileTypeInfo(file.fileType) : AVATAR_TYPE;
  const guard = new UploadGuard(type.kind, s.config.limits[type.limit]);
  const onShutdown = () => source.destroy(new FerryError(Codes.SHUTTING_DOWN, 'Ferry is shutting down: upload again'));
  s.uploads.signal.addEventListener('abort', onShutdown, { once: true });
  // pipe(), not pipeline(): when the guard refuses the file, the request must stay open so the
  // client gets the error answer instead of a reset connection.
  const received = finished(source).then(
    () => undefined,
    (err: unknown) => {
      guard.destroy(err instanceof Error ? err : new Error(String(err)));
    },
  );
  source.pipe(guard);
  try {
    const contentType = await guard.contentType;
    const object = await s.bytes.stage(file.storageKey, guard, contentType);
    await received;
    if (guard.destroyed && !guard.writableFinished) {
      await object.discard();
      throw new FerryError(Codes.UPLOAD_ABORTED, 'upload was interrupted before the file was complete');
    }
    return { size: guard.bytes, sha256: guard.digest(), contentType, fileName: cleanFileName(fileName), object };
  } catch (err) {
    source.unpipe(guard);
    guard.destroy();
    // Drain what the client still sends, so the error answer reaches it instead of a reset.
    if (!source.destroyed) source.resume();
    if (err instanceof FerryError || err instanceof StorageError) throw err;
    throw new FerryError(Codes.UPLOAD_ABORTED, 'upload was interrupted before the file was complete');
  } finally {
    s.uploads.signal.removeEventListener('abort', onShutdown);
  }
}
