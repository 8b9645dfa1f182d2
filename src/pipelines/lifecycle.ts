// Files that can be taken back: delete, recall, erasure, quarantine, and what an operator sees
// of a file. A download_url is a reference (the upload's own, or one forward's); deleting one
// marks it in the database, where every node reads it on every download, and the bytes and
// every derivative leave the store with the file's last reference.
//
// The events hook calls recall / eraseUser / purgeGroupFiles; the admin API calls the rest.
import type { AppKeys } from '../auth/app-registry.ts';
import { mintSign, refIdOf, verifySign, type SignClaims } from '../auth/file-sign.ts';
import { Codes, FerryError } from '../errors.ts';
import type { FileRecord, FileRef, MetaStore, RefDeletion, UsageKind } from '../meta/meta-store.ts';
import { randomId } from '../random-id.ts';
import type { LifecycleHooks, Services } from '../services.ts';
import { namedFile } from './links.ts';
import { parseObjectName, uploadMayStillCome } from './ready-file.ts';

/** Who did it, as the audit log says: the admin key, a signed event, the janitor, or a user. */
export type Actor = 'admin-key' | 'event' | 'janitor' | `user:${string}`;

/**
 * What these pipelines use of the services: the stores, the apps' keys, the public URLs and the
 * derivative cache. The CLI and the janitor build no more than this.
 */
export type LifecycleServices = Pick<Services, 'config' | 'meta' | 'bytes' | 'apps' | 'log' | 'urls' | 'knownDerivatives'>;

/** At most this many URLs in one request: a bigger job is many requests (or the user erasure). */
export const MAX_URLS = 1000;
/** Erasure and retention work through references this many at a time. */
const BATCH = 500;

export type UrlResult =
  | { url: string; result: 'deleted' | 'already-deleted'; copies: number; bytes_removed: boolean }
  | { url: string; result: 'quarantined' | 'already-quarantined' | 'released' | 'not-quarantined' }
  | { url: string; result: 'not-found' | 'invalid' | 'not-uploaded'; error: string };

/** Usage and retention name file types by these kinds. */
export function usageKindOf(file: Pick<FileRecord, 'kind' | 'fileType'>): UsageKind {
  if (file.kind !== 'chat') return 'avatar';
  if (file.fileType >= 200) return 'shared';
  switch (file.fileType) {
    case 101:
    case 104:
      return 'voice';
    case 102:
      return 'image';
    case 103:
      return 'video';
    default:
      return 'chat';
  }
}

/** The file types (chat records) of each kind; avatars are their own records. */
export const FILE_TYPES_OF: Record<Exclude<UsageKind, 'avatar'>, number[]> = {
  chat: [100],
  voice: [101, 104],
  image: [102],
  video: [103],
  shared: [200, 201, 202, 203],
};

/** UTC day of a time, the unit of quota.user_daily_bytes. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export async function audit(meta: MetaStore, appId: string, actor: Actor, action: string, target: string, detail?: unknown): Promise<void> {
  const at = Date.now();
  await meta.appendAudit({
    // sortable by time (base36 milliseconds, fixed width), unique by its random tail
    id: `${at.toString(36).padStart(10, '0')}-${randomId(6)}`,
    appId,
    at,
    actor,
    action,
    target: target.slice(0, 2048),
    detail: detail === undefined ? null : JSON.stringify(detail),
  });
}

async function keysOf(s: LifecycleServices, appId: string): Promise<AppKeys> {
  const keys = await s.apps.get(appId);
  if (!keys) throw new FerryError(Codes.APP_NOT_FOUND, `app ${appId} not found`);
  return keys;
}

type Unresolved = { result: 'not-found' | 'invalid'; error: string; /** a valid sign whose reference is not written (yet) */ sign?: SignClaims };

/** Which reference a download_url, bare file_sign or avatar object_name names, or why none. */
async function resolveRef(s: LifecycleServices, keys: AppKeys, raw: unknown): Promise<{ ref: FileRef } | Unresolved> {
  if (typeof raw !== 'string' || raw.trim() === '') return { result: 'invalid', error: 'not a download_url, file_sign or object_name' };
  if (raw.length > 8192) return { result: 'invalid', error: 'too long' };
  let refId: string;
  let sign: SignClaims | undefined;
  try {
    const named = namedFile(raw);
    if ('sign' in named) {
      sign = verifySign(keys, named.sign);
      refId = refIdOf(sign);
    } else {
      refId = parseObjectName(named.objectName);
    }
  } catch (err) {
    return { result: 'invalid', error: err instanceof FerryError ? `${err.message} (or of another app)` : 'not a download_url' };
  }
  const ref = await s.meta.getRef(keys.app.appId, refId);
  if (ref) return { ref };
  return { result: 'not-found', error: 'no such file in this app', ...(sign ? { sign } : {}) };
}

function checkUrls(urls: unknown): string[] {
  if (!Array.isArray(urls) || urls.length === 0) throw new FerryError(Codes.BAD_PARAM, 'urls must be a non-empty list');
  if (urls.length > MAX_URLS) throw new FerryError(Codes.BAD_PARAM, `urls may hold at most ${MAX_URLS} entries`);
  return urls as string[];
}

/**
 * Remove a purging file's bytes and derivatives from the store, then its derivative records,
 * and take its bytes off the usage counters. A store failure leaves the file purging (its URLs
 * are refused already); the janitor tries again. true when the bytes are gone.
 */
export async function purgeBytes(s: LifecycleServices, file: FileRecord): Promise<boolean> {
  let finished: boolean;
  try {
    const derivatives = await s.meta.listDerivatives(file.id);
    for (const d of derivatives) {
      await s.bytes.delete(d.storageKey);
      s.knownDerivatives.delete(`${file.id}/${d.variant}`);
    }
    await s.bytes.delete(file.storageKey);
    finished = await s.meta.finishPurge(file.id);
  } catch (err) {
    s.log.warn({ err, file: file.id }, 'could not remove the bytes of a deleted file; the janitor will retry');
    return false;
  }
  // Only the caller that finished the purge counts it (a janitor retry may race a delete).
  if (finished && file.completedAt !== null && file.size !== null) {
    const kind = usageKindOf(file);
    await s.meta.addUsage(file.appId, file.ownerId, kind, -file.size, -1, null).catch((err: unknown) => s.log.warn({ err }, 'usage not updated'));
    // History counts the day the bytes left the store, not the day they came.
    const removed = { day: dayOf(Date.now()), kind, bytesAdded: 0, filesAdded: 0, bytesRemoved: file.size, filesRemoved: 1 };
    await s.meta.addUsageDay(file.appId, removed).catch((err: unknown) => s.log.warn({ err }, 'usage history not updated'));
  }
  return true;
}

/** why an upload whose download_url was deleted before it completed is refused (60050) */
export const DELETED_BEFORE_UPLOAD = "this file's download_url was deleted before its upload completed: nothing was kept";

/**
 * An upload that completed after its URL was deleted (completeUpload answered `purging`): it
 * counts as stored for that moment, and its bytes leave the store now. Throws 60050 for the
 * uploader.
 */
export async function dropDeletedUpload(s: LifecycleServices, file: FileRecord, size: number): Promise<never> {
  await countUpload(s, file, size);
  await purgeBytes(s, file);
  throw new FerryError(Codes.FILE_DELETED, DELETED_BEFORE_UPLOAD);
}

async function deleteOne(s: LifecycleServices, appId: string, refId: string): Promise<RefDeletion | null> {
  const done = await s.meta.deleteRef(appId, refId, Date.now());
  if (done?.purge) await purgeBytes(s, done.purge);
  return done;
}

/** Delete one reference by id (a group shared file's); the bytes go if it was the last. */
export async function deleteReference(s: LifecycleServices, appId: string, refId: string): Promise<void> {
  await deleteOne(s, appId, refId);
}

/**
 * Delete every reference of a file, wherever it was forwarded (retention, superseded avatars):
 * how many this call deleted, and whether the file's last reference went with it.
 */
export async function deleteEveryRef(s: LifecycleServices, file: FileRecord): Promise<{ copies: number; bytesRemoved: boolean }> {
  return deleteEach(s, file.appId, await s.meta.listRefsOfFile(file.id));
}

/** Delete references; with allCopies every reference of the same file (every forward) too. */
async function deleteRefs(s: LifecycleServices, appId: string, ref: FileRef, allCopies: boolean): Promise<{ copies: number; bytesRemoved: boolean }> {
  return deleteEach(s, appId, allCopies ? await s.meta.listRefsOfFile(ref.fileId) : [ref]);
}

async function deleteEach(s: LifecycleServices, appId: string, targets: FileRef[]): Promise<{ copies: number; bytesRemoved: boolean }> {
  let copies = 0;
  let bytesRemoved = false;
  for (const r of targets) {
    if (r.state === 'deleted') continue;
    const done = await deleteOne(s, appId, r.id);
    if (done && !done.already) copies++;
    if (done?.purge) bytesRemoved = true;
  }
  return { copies, bytesRemoved };
}

/**
 * The per-URL admin operations (delete, quarantine, release): every URL resolved to its
 * reference the same way, a URL that names nothing answered in its own result (never a failed
 * request), and each resolved one handed to the operation.
 */
async function eachUrl(
  s: LifecycleServices,
  appId: string,
  rawUrls: unknown,
  op: (url: string, ref: FileRef) => Promise<UrlResult>,
  /** a URL whose upload has not completed: its own answer, or undefined to answer not-found */
  beforeUpload?: (url: string, sign: SignClaims) => Promise<UrlResult | undefined>,
): Promise<{ results: UrlResult[] }> {
  const urls = checkUrls(rawUrls);
  const keys = await keysOf(s, appId);
  const results: UrlResult[] = [];
  for (const url of urls) {
    const found = await resolveRef(s, keys, url);
    if ('ref' in found) {
      results.push(await op(url, found.ref));
      continue;
    }
    const { sign, ...unresolved } = found;
    const early = sign && beforeUpload ? await beforeUpload(url, sign) : undefined;
    results.push(early ?? { url: String(url), ...unresolved });
  }
  return { results };
}

/** POST /admin/apps/:app_id/files/delete and message.recalled. */
export function deleteUrls(s: LifecycleServices, appId: string, rawUrls: unknown, opts: { allCopies?: boolean }, actor: Actor): Promise<{ results: UrlResult[] }> {
  const deleteRef = async (url: string, ref: FileRef): Promise<UrlResult> => {
    const out = await deleteRefs(s, appId, ref, opts.allCopies === true);
    const result = out.copies === 0 ? 'already-deleted' : 'deleted';
    if (result === 'deleted') await audit(s.meta, appId, actor, opts.allCopies ? 'file.delete-all-copies' : 'file.delete', url, { ref_id: ref.id, file_id: ref.fileId, copies: out.copies });
    return { url, result, copies: out.copies, bytes_removed: out.bytesRemoved };
  };
  // A message recalled while its file is still uploading: the URL is deleted now, so the upload
  // is refused, or its bytes leave the store the moment it completes (pipelines/upload.ts).
  const deleteBeforeUpload = async (url: string, sign: SignClaims): Promise<UrlResult | undefined> => {
    if (!uploadMayStillCome(s, await s.meta.getFile(appId, sign.fid), sign)) return undefined;
    const now = Date.now();
    const ref: FileRef = { id: sign.fid, appId, fileId: sign.fid, fromId: sign.from_id, toId: sign.to_id, toType: sign.to_type, fileType: sign.ft, state: 'deleted', createdAt: now, deletedAt: now };
    if (!(await s.meta.tombstoneRef(ref))) {
      // The upload completed meanwhile: delete what it wrote.
      const written = await s.meta.getRef(appId, sign.fid);
      return written ? deleteRef(url, written) : undefined;
    }
    await audit(s.meta, appId, actor, 'file.delete', url, { ref_id: ref.id, file_id: ref.fileId, copies: 1, before_upload: true });
    return { url, result: 'deleted', copies: 1, bytes_removed: false };
  };
  return eachUrl(s, appId, rawUrls, deleteRef, deleteBeforeUpload);
}

/** The events hook's message.recalled: the URLs it names are deleted (their forwards stay). */
export function recall(s: LifecycleServices, appId: string, urls: string[], actor: Actor = 'event'): Promise<{ results: UrlResult[] }> {
  return deleteUrls(s, appId, urls, { allCopies: false }, actor);
}

async function deleteAllBy(s: LifecycleServices, appId: string, by: { fromId: string } | { toType: 1 | 2; toId: string }): Promise<number> {
  let deleted = 0;
  for (let after = ''; ; ) {
    const page = await s.meta.listRefsBy(appId, by, after, BATCH);
    for (const r of page) if ((await deleteOne(s, appId, r.id))?.already === false) deleted++;
    if (page.length < BATCH) return deleted;
    after = page[page.length - 1]!.id;
  }
}

/**
 * DELETE /admin/apps/:app_id/users/:user_id/files and user.deleted: every URL the user sent,
 * and the uploads still on their way (each is refused, or its bytes removed as it completes).
 * Both end the upload slots handed out to the user and not used yet (pipelines/upload.ts), so
 * none of them delivers a file after the erasure. user.deleted also revokes the user's tokens;
 * the admin call leaves them alone (the user may go on, with new slots).
 */
export async function eraseUser(s: LifecycleServices, appId: string, userId: string, actor: Actor, opts: { revokeTokens?: boolean } = {}): Promise<{ deleted: number; uploads_stopped: number }> {
  await keysOf(s, appId);
  const now = Date.now();
  if (opts.revokeTokens) await s.meta.revokeTokens(appId, userId, now);
  else await s.meta.revokeSlots(appId, userId, now);
  s.apps.forget(appId);
  const uploadsStopped = await s.meta.tombstoneUploadsOf(appId, userId, now);
  const deleted = await deleteAllBy(s, appId, { fromId: userId });
  await audit(s.meta, appId, actor, 'user.erase', userId, { deleted, uploads_stopped: uploadsStopped, ...(opts.revokeTokens ? { tokens_revoked: true } : {}) });
  return { deleted, uploads_stopped: uploadsStopped };
}

/** group.dismissed with purge_files: every URL sent to the group. */
export async function purgeGroupFiles(s: LifecycleServices, appId: string, groupId: string, actor: Actor): Promise<{ deleted: number }> {
  await keysOf(s, appId);
  const deleted = await deleteAllBy(s, appId, { toType: 2, toId: groupId });
  await audit(s.meta, appId, actor, 'group.purge', groupId, { deleted });
  return { deleted };
}

async function fileOfRef(s: LifecycleServices, appId: string, url: string, ref: FileRef): Promise<{ file: FileRecord & { sha256: string } } | UrlResult> {
  const file = await s.meta.getFile(appId, ref.fileId);
  if (!file || file.sha256 === null) return { url, result: 'not-uploaded', error: 'the file has no bytes yet' };
  return { file: file as FileRecord & { sha256: string } };
}

/** POST /admin/apps/:app_id/files/quarantine: every copy of the bytes is refused; they are kept. */
export function quarantineUrls(s: LifecycleServices, appId: string, rawUrls: unknown, reason: string, actor: Actor): Promise<{ results: UrlResult[] }> {
  return eachUrl(s, appId, rawUrls, async (url, ref) => {
    if (ref.state === 'deleted') return { url, result: 'not-found', error: 'this URL was deleted' };
    const got = await fileOfRef(s, appId, url, ref);
    if (!('file' in got)) return got;
    const fresh = await s.meta.quarantine(appId, got.file.sha256, reason, Date.now());
    if (fresh) await audit(s.meta, appId, actor, 'file.quarantine', url, { sha256: got.file.sha256, reason });
    return { url, result: fresh ? 'quarantined' : 'already-quarantined' };
  });
}

/** POST /admin/apps/:app_id/files/release */
export function releaseUrls(s: LifecycleServices, appId: string, rawUrls: unknown, actor: Actor): Promise<{ results: UrlResult[] }> {
  return eachUrl(s, appId, rawUrls, async (url, ref) => {
    const got = await fileOfRef(s, appId, url, ref);
    if (!('file' in got)) return got;
    const released = await s.meta.release(appId, got.file.sha256);
    if (released) await audit(s.meta, appId, actor, 'file.release', url, { sha256: got.file.sha256 });
    return { url, result: released ? 'released' : 'not-quarantined' };
  });
}

/** Refuses bytes that are quarantined in the app (called before an upload is committed). */
export async function refuseQuarantined(s: LifecycleServices, appId: string, sha256: string): Promise<void> {
  if (await s.meta.getQuarantine(appId, sha256)) {
    throw new FerryError(Codes.FILE_QUARANTINED, 'these bytes are quarantined by the operator and cannot be uploaded');
  }
}

/** Add a finished upload to the usage counters and the day's history; best effort, it never fails the upload. */
export async function countUpload(s: LifecycleServices, file: FileRecord, size: number): Promise<void> {
  const day = dayOf(Date.now());
  const kind = usageKindOf(file);
  await s.meta.addUsage(file.appId, file.ownerId, kind, size, 1, day).catch((err: unknown) => s.log.warn({ err }, 'usage not updated'));
  const added = { day, kind, bytesAdded: size, filesAdded: 1, bytesRemoved: 0, filesRemoved: 0 };
  await s.meta.addUsageDay(file.appId, added).catch((err: unknown) => s.log.warn({ err }, 'usage history not updated'));
}

/**
 * The download_url of a reference, as a client would use it: a sign naming the same reference,
 * dated when the reference was made, so the same reference always gets the same URL (a lookup
 * read twice, or by the CLI and the console, agrees).
 */
export function urlOfRef(s: LifecycleServices, keys: AppKeys, file: FileRecord, r: FileRef): string {
  if (file.kind !== 'chat') return s.urls.avatarDownload(file.id);
  const iat = Math.floor(r.createdAt / 1000);
  const claims = { fid: file.id, from_id: r.fromId, to_id: r.toId ?? '0', to_type: r.toType ?? 1, ft: r.fileType, iat };
  return s.urls.chatDownload(mintSign(keys, r.id === file.id ? claims : { ...claims, rid: r.id }));
}

const conversationOf = (r: { toId: string | null; toType: 1 | 2 | null }) => (r.toType === null ? null : { to_id: r.toId, to_type: r.toType });

/** GET /admin/apps/:app_id/files?url= */
export async function lookupFile(s: LifecycleServices, appId: string, url: string): Promise<Record<string, unknown>> {
  const keys = await keysOf(s, appId);
  const found = await resolveRef(s, keys, url);
  if (!('ref' in found)) throw new FerryError(found.result === 'invalid' ? Codes.BAD_PARAM : Codes.NOT_FOUND, `url: ${found.error}`);
  const ref = found.ref;
  const file = await s.meta.getFile(appId, ref.fileId);
  if (!file) throw new FerryError(Codes.NOT_FOUND, 'url: no such file in this app');
  const [refs, derivatives, quarantine] = await Promise.all([
    s.meta.listRefsOfFile(file.id),
    s.meta.listDerivatives(file.id),
    file.sha256 ? s.meta.getQuarantine(appId, file.sha256) : null,
  ]);
  return {
    url,
    // the URL a client fetches, whichever form was given (the console previews through it)
    download_url: urlOfRef(s, keys, file, ref),
    ref_id: ref.id,
    file_id: file.id,
    kind: file.kind,
    file_type: ref.fileType,
    size: file.size,
    type: file.contentType,
    sha256: file.sha256,
    file_name: file.fileName,
    sender: ref.fromId,
    uploader: file.ownerId,
    conversation: conversationOf(ref),
    created_at: ref.createdAt,
    uploaded_at: file.completedAt,
    state: ref.state,
    deleted_at: ref.deletedAt,
    file_status: file.status,
    quarantine: quarantine ? { reason: quarantine.reason, at: quarantine.createdAt } : null,
    other_urls: refs
      .filter((r) => r.id !== ref.id)
      .map((r) => ({
        url: urlOfRef(s, keys, file, r),
        ref_id: r.id,
        state: r.state,
        sender: r.fromId,
        conversation: conversationOf(r),
        created_at: r.createdAt,
      })),
    derivatives: file.status === 'deleted' ? [] : derivatives.map((d) => ({ variant: d.variant, size: d.size, type: d.contentType, created_at: d.createdAt })),
  };
}

/** What the events hook calls (Services.lifecycle): recalls, erasures and group purges by event. */
export function lifecycleHooks(s: LifecycleServices): LifecycleHooks {
  return {
    recall: async (appId, urls) => void (await recall(s, appId, urls, 'event')),
    eraseUser: async (appId, userId) => void (await eraseUser(s, appId, userId, 'event', { revokeTokens: true })),
    purgeGroupFiles: async (appId, groupId) => void (await purgeGroupFiles(s, appId, groupId, 'event')),
  };
}
