// One round of "N clients each PUT the same big file at once" while sampling Ferry's memory:
// the core and scale-out memory comparisons differ only in where Ferry stores the bytes.
import { curlPut } from './curl.ts';
import { chatSlot, isUploadAccepted, type RunningFerry } from './ferry.ts';
import { rssMB, sampleRss } from './rss.ts';

type User = Parameters<typeof chatSlot>[1];

export interface UploadRssRound {
  /** MB: the kernel's high-water mark when it could be reset, else the highest sample */
  peak: number;
  idleMB: number | null;
  peakSampledMB: number;
  vmHwmMB: number | null;
  hwmWasReset: boolean;
  seconds: number;
}

export async function uploadRssRound(ferry: RunningFerry, user: User, file: string, clients: number): Promise<UploadRssRound> {
  const slots = await Promise.all(Array.from({ length: clients }, () => chatSlot(ferry, user)));
  const idleMB = rssMB(ferry.pid);
  const sampler = sampleRss(ferry.pid, 50);
  const t0 = Date.now();
  const results = await Promise.all(slots.map((s) => curlPut(s.upload_url, file)));
  const seconds = (Date.now() - t0) / 1000;
  const rss = sampler.stop();
  const refused = results.filter((r) => !isUploadAccepted(r.status, r.body));
  if (refused.length > 0) throw new Error(`${refused.length} of ${clients} uploads were refused, e.g. HTTP ${refused[0]!.status} ${refused[0]!.body}`);
  // The kernel's high-water mark sees peaks between samples; without a reset it also covers
  // start-up, so then only the samples count.
  const peak = rss.hwmWasReset && rss.hwmMB !== null ? Math.max(rss.hwmMB, rss.peakSampledMB) : rss.peakSampledMB;
  return { peak, idleMB, peakSampledMB: rss.peakSampledMB, vmHwmMB: rss.hwmMB, hwmWasReset: rss.hwmWasReset, seconds };
}
