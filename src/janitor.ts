// Sweeps upload slots that expired without bytes (or whose upload died with its node), so the
// files table does not fill with records nobody will ever complete (only avatar and
// direct-upload slots are records before their upload; a chat slot is a capability and leaves
// nothing unless its upload started, pipelines/slots.ts); and, less often, what the lifecycle
// settings say must go: files past their app's retention, superseded avatars, purges the store
// interrupted, and multipart uploads nobody will finish.
import { setImmediate as yieldToRequests } from 'node:timers/promises';
import { STALE_CLAIM_MS } from './pipelines/upload.ts';
import type { Services } from './services.ts';
import { confirmDirectUpload } from './pipelines/direct-upload.ts';
import { FerryError } from './errors.ts';
import type { FileRecord } from './meta/meta-store.ts';
import { audit, deleteEveryRef, FILE_TYPES_OF, purgeBytes, usageKindOf, type LifecycleServices } from './pipelines/lifecycle.ts';
import { KINDS, type AppSettings } from './pipelines/app-settings.ts';

export async function sweepExpiredSlots(s: Services, now = Date.now()): Promise<number> {
  return (await sweepSlots(s, now)).removed;
}

/** complete: every expired slot was dealt with (false when the store failed part way) */
async function sweepSlots(s: Services, now: number): Promise<{ removed: number; complete: boolean }> {
  let removed = 0;
  for (;;) {
    const batch = await s.meta.listExpiredSlots(now, now - STALE_CLAIM_MS, 500);
    for (const f of batch) {
      // A direct upload nobody has asked for yet is a file, not a dead slot. When the store
      // cannot say (it is down), stop here and sweep again next round.
      try {
        if ((await confirmDirectUpload(s, f)).status === 'ready') continue;
      } catch (err) {
        if (!(err instanceof FerryError)) return { removed, complete: false };
      }
      // A dead upload may have left a committed object without its record becoming ready, and
      // a direct upload one at its upload key (refused, or arrived after the last look).
      await s.bytes.delete(f.storageKey).catch(() => {});
      const direct = s.bytes.directUploads;
      if (direct) await s.bytes.delete(direct.uploadKey(f.storageKey)).catch(() => {});
      await s.meta.deleteFile(f.id);
      removed++;
    }
    if (batch.length < 500) return { removed, complete: true };
  }
}

/**
 * Direct uploads nobody will confirm: PUTs to a URL after its file was confirmed (the URL stays
 * valid), or for a record that is gone. Any upload a pending record still waits for was written
 * before its slot expired, and expired slots are confirmed or swept first, so an upload older
 * than the longest slot or URL lifetime (plus a margin for a confirmation under way) is garbage.
 * Runs only after a complete slot sweep, so a store outage never costs a pending upload.
 */
export async function sweepStaleUploads(s: Services, now = Date.now()): Promise<number> {
  const direct = s.bytes.directUploads;
  if (!direct) return 0;
  const { complete } = await sweepSlots(s, now);
  if (!complete) return 0;
  const lifetime = Math.max(s.config.slotTtlSeconds, s.config.s3.urlTtlSeconds) * 1000;
  return direct.deleteUploadsBefore(now - lifetime - STALE_UPLOAD_MARGIN_MS);
}

/** longer than any confirmation (one copy and one read of a file within the size limits) */
const STALE_UPLOAD_MARGIN_MS = 60 * 60 * 1000;

/** Listing the uploads costs a bucket listing per node: once an hour is plenty for garbage. */
const UPLOAD_SWEEP_EVERY_MS = 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
/** A superseded avatar goes this long after it was superseded (cached profiles still name it). */
export const AVATAR_GRACE_MS = DAY_MS;
/** A multipart upload Ferry started this long ago will not be finished any more. */
export const STALE_MULTIPART_MS = DAY_MS;

export interface LifecycleSweepOptions {
  /** files looked at per query; the janitor yields to requests between batches */
  batch?: number;
  /** at most this many files deleted per sweep per task; the rest waits for the next sweep */
  maxFiles?: number;
}

export interface LifecycleSweep {
  /** files deleted because their kind's retention_days had passed */
  retention: number;
  /** superseded avatars deleted */
  avatars: number;
  /** purges the store had interrupted, finished now */
  purged: number;
  /** unfinished multipart uploads aborted (stores that write in parts) */
  aborted: number;
}

/**
 * One lifecycle sweep as of `now` (tests pass a clock of their own). Each task works in batches,
 * yielding to requests between them, and stops at maxFiles; every deletion is written to the
 * audit log with actor `janitor`. A store that fails leaves files purging (refused already),
 * retried by the next sweep.
 */
export async function sweepLifecycle(s: LifecycleServices, now = Date.now(), opts: LifecycleSweepOptions = {}): Promise<LifecycleSweep> {
  const batch = opts.batch ?? 100;
  const maxFiles = opts.maxFiles ?? 10_000;
  const out: LifecycleSweep = { retention: 0, avatars: 0, purged: 0, aborted: 0 };
  out.purged = await retryPurges(s, batch, maxFiles);
  for (const { appId, json } of await s.meta.listAppSettings()) {
    const retention = (JSON.parse(json) as Partial<AppSettings>).retention_days ?? {};
    for (const kind of KINDS) {
      const days = retention[kind];
      if (!days || days <= 0) continue;
      const which = kind === 'avatar' ? { avatars: true as const } : { fileTypes: FILE_TYPES_OF[kind] };
      const before = now - days * DAY_MS;
      out.retention += await deleteFiles(s, batch, maxFiles, (n) => s.meta.listFilesCompletedBefore(appId, which, before, n), {
        action: 'file.retention',
        detail: { retention_days: days },
      });
    }
  }
  out.avatars = await deleteFiles(s, batch, maxFiles, (n) => s.meta.listSupersededAvatars(now - AVATAR_GRACE_MS, n), {
    action: 'avatar.superseded',
    detail: {},
  });
  if (s.bytes.abortStaleUploads) out.aborted = await s.bytes.abortStaleUploads(now - STALE_MULTIPART_MS);
  return out;
}

/**
 * Delete every reference of each file `list` gives, a batch at a time, until it gives none.
 * A file whose references cannot be deleted would come back in every batch: a batch that
 * deletes nothing ends the task, so the sweep always ends.
 */
async function deleteFiles(
  s: LifecycleServices,
  batch: number,
  maxFiles: number,
  list: (limit: number) => Promise<FileRecord[]>,
  why: { action: string; detail: Record<string, unknown> },
): Promise<number> {
  let deleted = 0;
  while (deleted < maxFiles) {
    const files = await list(Math.min(batch, maxFiles - deleted));
    let progress = 0;
    for (const f of files) {
      const done = await deleteEveryRef(s, f);
      if (done.copies === 0) continue;
      progress++;
      await audit(s.meta, f.appId, 'janitor', why.action, f.id, { ...why.detail, file_id: f.id, kind: usageKindOf(f), size: f.size, copies: done.copies });
    }
    deleted += progress;
    if (files.length < batch || progress === 0) break;
    await yieldToRequests();
  }
  return deleted;
}

/** Files left purging by a store failure: remove their bytes again. */
async function retryPurges(s: LifecycleServices, batch: number, maxFiles: number): Promise<number> {
  let purged = 0;
  for (let looked = 0; looked < maxFiles; ) {
    const files = await s.meta.listPurging(Math.min(batch, maxFiles - looked));
    looked += files.length;
    let progress = 0;
    for (const f of files) {
      if (!(await purgeBytes(s, f))) continue;
      progress++;
      await audit(s.meta, f.appId, 'janitor', 'file.purge', f.id, { file_id: f.id, kind: usageKindOf(f), size: f.size, retried: true });
    }
    purged += progress;
    // The store still fails: the rest waits for the next sweep.
    if (files.length < batch || progress < files.length) break;
    await yieldToRequests();
  }
  return purged;
}

/** Retention and avatars are measured in days: every ten minutes is prompt enough. */
const LIFECYCLE_SWEEP_EVERY_MS = 10 * 60 * 1000;

export function startJanitor(s: Services, everyMs = 60_000): () => void {
  let uploadsSweptAt = 0;
  let lifecycleSweptAt = 0;
  let lifecycleRunning = false;
  const timer = setInterval(() => {
    const now = Date.now();
    const withUploads = s.bytes.directUploads !== undefined && now - uploadsSweptAt >= UPLOAD_SWEEP_EVERY_MS;
    if (withUploads) uploadsSweptAt = now;
    (withUploads ? sweepStaleUploads(s, now) : sweepExpiredSlots(s, now)).catch((err: unknown) => s.log.warn({ err }, 'slot sweep failed; will retry'));
    // A long sweep (a retention just switched on over years of files) must not overlap the next.
    if (lifecycleRunning || now - lifecycleSweptAt < LIFECYCLE_SWEEP_EVERY_MS) return;
    lifecycleSweptAt = now;
    lifecycleRunning = true;
    sweepLifecycle(s, now)
      .then((done) => {
        if (done.retention + done.avatars + done.purged + done.aborted > 0) s.log.info(done, 'janitor: lifecycle sweep');
      })
      .catch((err: unknown) => s.log.warn({ err }, 'lifecycle sweep failed; will retry'))
      .finally(() => (lifecycleRunning = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
