// Resident memory of a process from /proc/<pid>/status. The kernel's high-water mark (VmHWM)
// catches peaks between our samples; we reset it before a measurement (writing 5 to clear_refs,
// Linux ≥ 4.0) so that start-up does not count, and also keep our own 50 ms samples as a check.
import fs from 'node:fs';

/** MB as in the "200 MB": 10^6 bytes, the stricter reading (200 MB ≈ 190.7 MiB) */
const MB = 1_000_000;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? (Number(m[1]) * 1024) / MB : null;
}

export const rssMB = (pid: number) => statusField(pid, 'VmRSS');

export interface RssSampler {
  stop(): { peakSampledMB: number; hwmMB: number | null; hwmWasReset: boolean; samples: number };
}

export function sampleRss(pid: number, everyMs = 50): RssSampler {
  let hwmWasReset = false;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    hwmWasReset = true;
  } catch {
    // not root or an old kernel: VmHWM then includes everything since the process started
  }
  let peak = rssMB(pid) ?? 0;
  let samples = 1;
  const timer = setInterval(() => {
    const now = rssMB(pid);
    if (now !== null) {
      samples++;
      if (now > peak) peak = now;
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const last = rssMB(pid);
      if (last !== null && last > peak) peak = last;
      return { peakSampledMB: peak, hwmMB: statusField(pid, 'VmHWM'), hwmWasReset, samples };
    },
  };
}
