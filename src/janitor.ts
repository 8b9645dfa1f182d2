// Sweeps upload slots that expired without bytes (or whose upload died with its node), so the
// files table does not fill with records nobody will ever complete.
import { STALE_CLAIM_MS } from './pipelines/upload.ts';
import type { Services } from './services.ts';
import { confirmDirectUpload } from './pipelines/direct-upload.ts';
import { FerryError } from './errors.ts';

export async function sweepExpiredSlots(s: Services, now = Date.now()): Promise<number> {
  let removed = 0;
  for (;;) {
    const batch = await s.meta.listExpiredSlots(now, now - STALE_CLAIM_MS, 500);
    for (const f of batch) {
      // A direct upload nobody has asked for yet is a file, not a dead slot. When the store
      // cannot say (it is down), stop here and sweep again next round.
      try {
        if ((await confirmDirectUpload(s, f)).status === 'ready') continue;
      } catch (err) {
        if (!(err instanceof FerryError)) return removed;
      }
      // A dead upload may have left a committed object without its record becoming ready, and
      // a direct upload one at its upload key (refused, or arrived after the last look).
      await s.bytes.delete(f.storageKey).catch(() => {});
      const direct = s.bytes.directUploads;
      if (direct) await s.bytes.delete(direct.uploadKey(f.storageKey)).catch(() => {});
      await s.meta.deleteFile(f.id);
      removed++;
    }
    if (batch.length < 500) return removed;
  }
}

export function startJanitor(s: Services, everyMs = 60_000): () => void {
  const timer = setInterval(() => {
    sweepExpiredSlots(s).catch((err: unknown) => s.log.warn({ err }, 'slot sweep failed; will retry'));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
