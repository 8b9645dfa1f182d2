// Upload, step 2: the bytes arrive at upload_url. Claim the slot (one upload at a time: for a
// capability slot, the claim is the insert of its record), stream
// through the guard into the store, and only when every byte is durable and the request is
// complete, commit the object and mark the record ready. Any failure on the way discards what
// was staged and gives the slot back, so the client can simply try again.
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { Codes, FerryError } from '../errors.ts';
import { AVATAR_TYPE, fileTypeInfo } from '../file-types.ts';
import { UploadGuard, uploadHash } from '../media/upload-guard.ts';
import { probeStoredMedia, type MediaInfo } from '../media/probe.ts';
import { cleanFileName } from '../file-names.ts';
import type { FileRecord } from '../meta/meta-store.ts';
import type { StagedObject } from '../bytes/byte-store.ts';
import { StorageError } from '../bytes/byte-store.ts';
import type { Services } from '../services.ts';
import type { AppKeys } from '../auth/app-registry.ts';
import { countUpload, DELETED_BEFORE_UPLOAD, dropDeletedUpload, refuseQuarantined } from './lifecycle.ts';
import { quotaError, quotaRoom } from './app-settings.ts';
import { readSlotCapability, SLOT_CAPABILITY, verifySlotCapability } from '../auth/slot-capability.ts';
import { capabilityRecord } from './slots.ts';

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

/** A claimed upload: its record, the most bytes it may bring, and how to give the slot back. */
interface Claimed {
  file: FileRecord;
  maxBytes: number | null;
  /** after a failure: the slot can be used again */
  giveBack(): Promise<void>;
}

async function claim(s: Services, slotId: string): Promise<Claimed> {
  const now = Date.now();
  if (SLOT_CAPABILITY.test(slotId)) return claimCapability(s, slotId, now);
  const res = await s.meta.claimSlot(slotId, now, now - STALE_CLAIM_MS);
  if (res.ok) return { file: res.file, maxBytes: null, giveBack: () => s.meta.releaseSlot(res.file.id) };
  throw claimRefused(res.reason);
}

/** A capability slot: checked by its MAC and expiry, then claimed by writing its record. */
async function claimCapability(s: Services, slotId: string, now: number): Promise<Claimed> {
  const written = readSlotCapability(slotId);
  const keys = await s.apps.get(written.appId);
  if (!keys) throw claimRefused('not-found');
  const claims = verifySlotCapability(keys.blobKeys, written, now);
  // A slot handed out before its user's tokens were revoked (a leaked token, a deleted user) or
  // their files erased takes no upload. A capability says when it expires; it was handed out one
  // slot lifetime before.
  const revoked = keys.slotsRevokedBefore(claims.ownerId);
  if (revoked !== undefined && claims.expiresAt - s.config.slotTtlSeconds * 1000 < revoked) {
    throw new FerryError(Codes.BAD_TOKEN, slotRevokedMessage(keys, claims.ownerId, revoked));
  }
  const res = await s.meta.claimCapability(capabilityRecord(claims, slotId, now), now, now - STALE_CLAIM_MS);
  if (!res.ok) throw claimRefused(res.reason);
  // Its download_url was deleted before any upload (a message recalled before its file came).
  if ((await s.meta.getRef(claims.appId, claims.fileId))?.state === 'deleted') {
    await s.meta.dropClaim(res.file.id);
    throw new FerryError(Codes.FILE_DELETED, DELETED_BEFORE_UPLOAD);
  }
  return { file: res.file, maxBytes: claims.maxBytes, giveBack: () => s.meta.dropClaim(res.file.id) };
}

function slotRevokedMessage(keys: AppKeys, userId: string, revoked: number): string {
  return keys.revokedBefore(userId) === revoked
    ? "this upload slot was handed out before the user's tokens were revoked: ask for a new slot with a new token"
    : "this upload slot was handed out before the user's files were erased: ask for a new slot";
}

function claimRefused(reason: 'not-found' | 'expired' | 'used' | 'busy'): FerryError {
  switch (reason) {
    case 'not-found':
      return new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot not found: ask for a new one');
    case 'expired':
      return new FerryError(Codes.SLOT_NOT_FOUND, 'upload slot has expired: ask for a new one');
    case 'used':
      return new FerryError(Codes.SLOT_USED, 'upload slot was already used: ask for a new one');
    case 'busy':
      return new FerryError(Codes.SLOT_BUSY, 'another upload to this slot is in progress');
  }
}

/**
 * What receive() calls with each file: its bytes, its name, and the length the request declared
 * for its body (at least the file's size), null when the body came in chunks of unknown total.
 */
type Stage = (source: Readable, fileName: string | null, bodyBytes: number | null) => Promise<StagedUpload>;
type Receive = (stage: Stage) => Promise<StagedUpload | null>;

/**
 * Run one upload against a slot. receive() streams the request's file into stage() and returns
 * what was staged (or null when the request held no file). When `cut` aborts (the client went
 * silent or trickles), the upload fails with the signal's reason (a FerryError) once whatever
 * was being staged has been thrown away, even if receive() is still waiting for bytes. A client
 * whose connection is cut during shutdown no longer holds the HTTP server open, but its upload
 * is still discarding staged bytes and giving its slot back: shutdown waits for
 * s.uploadsInFlight before it closes the stores.
 */
export function receiveUpload(s: Services, slotId: string, receive: Receive, client: { ip: string }, cut?: AbortSignal): Promise<void> {
  return s.uploadsInFlight.track(runUpload(s, slotId, receive, client, cut));
}

/** Count the upload against its owner; null when the owner already has as many as allowed. */
function takeUserTurn(s: Services, file: FileRecord): (() => void) | null {
  return s.uploadTurns.take(`${file.appId}\n${file.ownerId}`, s.config.uploadLimits.perUser);
}

/** work, or cut's reason as soon as cut aborts and settled() (what is being staged) is over. */
function unlessCut<T>(work: Promise<T>, cut: AbortSignal | undefined, settled: () => Promise<unknown>): Promise<T> {
  if (!cut) return work;
  return new Promise<T>((resolve, reject) => {
    const onCut = () => void settled().then(() => reject(cut.reason as Error));
    if (cut.aborted) onCut();
    else cut.addEventListener('abort', onCut, { once: true });
    work.then(resolve, reject).finally(() => cut.removeEventListener('abort', onCut));
  });
}

async function runUpload(s: Services, slotId: string, receive: Receive, client: { ip: string }, cut: AbortSignal | undefined): Promise<void> {
  s.rateLimits.byIp('uploads', client.ip);
  cut?.throwIfAborted();
  const { file, maxBytes, giveBack } = await claim(s, slotId);
  const leaveTurn = takeUserTurn(s, file);
  if (!leaveTurn) {
    await giveBack().catch((e: unknown) => s.log.error({ err: e }, 'could not release upload slot'));
    const max = s.config.uploadLimits.perUser;
    throw new FerryError(Codes.TOO_MANY_UPLOADS, `too many uploads at once: at most ${max} per user; wait for one to finish, then upload again`);
  }
  const heartbeat = setInterval(() => {
    s.meta.touchClaim(file.id, Date.now()).catch((err: unknown) => s.log.warn({ err }, 'could not refresh upload claim'));
  }, HEARTBEAT_MS);
  const staged: StagedUpload[] = [];
  let staging: Promise<unknown> = Promise.resolve();
  try {
    // The slot names its user; a refusal gives the slot back (below) for a retry after Retry-After.
    s.rateLimits.byUser('uploads', file.appId, file.ownerId);
    const receiving = receive((source, fileName, bodyBytes) => {
      const one = (async () => {
        const up = await stageUpload(s, file, maxBytes, source, fileName, bodyBytes, cut);
        // Cut while the last bytes were landing: the cleanup below may already have run.
        if (cut?.aborted) {
          await up.object.discard().catch(() => {});
          throw cut.reason as Error;
        }
        staged.push(up);
        return up;
      })();
      staging = one.catch(() => {});
      return one;
    });
    const result = await unlessCut(receiving, cut, () => staging);
    if (!result) throw new FerryError(Codes.NO_FILE_PART, 'no file part: send the file in a multipart part named "file", or as a raw PUT body');
    await refuseQuarantined(s, file.appId, result.sha256);
    await result.object.commit();
    const media = await measureMedia(s, file.storageKey, result);
    let completed: FileRecord;
    try {
      completed = await s.meta.completeUpload(
        file.id,
        { size: result.size, sha256: result.sha256, contentType: result.contentType, fileName: result.fileName, ...media },
        Date.now(),
      );
    } catch (err) {
      await s.bytes.delete(file.storageKey).catch(() => {});
      throw err instanceof StorageError ? err : new StorageError(`could not record the upload: ${(err as Error).message}`, { cause: err, layer: 'database' });
    }
    if (completed.status === 'purging') await dropDeletedUpload(s, completed, result.size);
    await countUpload(s, file, result.size);
    s.metrics.uploadCompleted(uploadLabel(file), result.size);
  } catch (err) {
    await Promise.all(staged.map((u) => u.object.discard().catch(() => {})));
    await giveBack().catch((e: unknown) => s.log.error({ err: e }, 'could not release upload slot'));
    throw err;
  } finally {
    clearInterval(heartbeat);
    leaveTurn();
  }
}

/** The file_type label of upload metrics: Lanying's file_type for chat files, the kind for avatars. */
export function uploadLabel(file: FileRecord): string {
  return file.kind === 'chat' ? String(file.fileType) : file.kind;
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

async function stageUpload(
  s: Services,
  file: FileRecord,
  slotLimit: number | null,
  source: Readable,
  fileName: string | null,
  bodyBytes: number | null,
  cut?: AbortSignal,
): Promise<StagedUpload> {
  cut?.throwIfAborted();
  const type = file.kind === 'chat' ? fileTypeInfo(file.fileType) : AVATAR_TYPE;
  // A capability carries the limit it was handed out with; a lower one configured since wins.
  const typeLimit = Math.min(s.config.limits[type.limit], slotLimit ?? Infinity);
  // A quota that leaves less than the type's limit stops the upload while it streams.
  const room = await quotaRoom(s, file.appId, file.ownerId);
  const quotaBinds = room.code !== null && room.bytes < typeLimit;
  const hash = uploadHash(bodyBytes);
  const guard = new UploadGuard(type.kind, quotaBinds ? Math.max(0, room.bytes) : typeLimit, hash);
  const onShutdown = () => source.destroy(new FerryError(Codes.SHUTTING_DOWN, 'Ferry is shutting down: upload again'));
  s.uploads.signal.addEventListener('abort', onShutdown, { once: true });
  // A cut fails the guard, not the source: the store stops and discards, while the connection
  // stays up long enough to carry the answer.
  const onCut = () => guard.destroy(cut!.reason as Error);
  cut?.addEventListener('abort', onCut, { once: true });
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
    const sha256 = await guard.digest().catch(async (err: unknown) => {
      s.log.error({ err }, 'could not hash an upload');
      await object.discard();
      throw new FerryError(Codes.INTERNAL, 'the upload could not be hashed: upload it again');
    });
    return { size: guard.bytes, sha256, contentType, fileName: cleanFileName(fileName), object };
  } catch (err) {
    // Unpiped, the source pauses: the rest of a refused body is not read. The route answers
    // and closes the connection (a body of GiBs is not worth taking in to say "too large").
    source.unpipe(guard);
    guard.destroy();
    hash.drop();
    if (quotaBinds && room.code !== null && err instanceof FerryError && err.code === Codes.TOO_LARGE) throw quotaError(room.code);
    if (err instanceof FerryError || err instanceof StorageError) throw err;
    throw new FerryError(Codes.UPLOAD_ABORTED, 'upload was interrupted before the file was complete');
  } finally {
    s.uploads.signal.removeEventListener('abort', onShutdown);
    cut?.removeEventListener('abort', onCut);
  }
}
