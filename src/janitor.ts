// Sweeps upload slots that expired without bytes (or whose upload died with its node), so the
// files table does not fill with records nobody will ever complete. Only avatar and direct-upload
// slots are records before their upload; a chat slot is a capability and leaves nothing unless
// its upload started (pipelines/slots.ts).
import { STALE_CLAIM_MS } from './pipelines/upload.ts';
import type { Services } from './services.ts';
import { confirmDirectUpload } from './pipelines/direct-upload.ts';
import { FerryError } from './errors.ts';

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

export function startJanitor(s: Services, everyMs = 60_000): () => void {
  let uploadsSweptAt = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    const withUploads = s.bytes.directUploads !== undefined && now - uploadsSweptAt >= UPLOAD_SWEEP_EVERY_MS;
    if (withUploads) uploadsSweptAt = now;
    (withUploads ? sweepStaleUploads(s, now) : sweepExpiredSlots(s, now)).catch((err: unknown) => s.log.warn({ err }, 'slot sweep failed; will retry'));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
