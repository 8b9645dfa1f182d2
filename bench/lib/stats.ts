// Medians and ratios: these machines are noisy, so single runs are never reported alone.
import type { Measured, Target } from './types.ts';

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Oriented so that ≥ 1 always means "Ferry does at least as well as the peer". */
export function ratioOf(better: Measured['better'], ferry: number, peer: number): number {
  return better === 'higher' ? ferry / peer : peer / ferry;
}

export function meets(target: Target, ferry: number, ratio: number | null): boolean {
  if (target.kind === 'below') return ferry < target.value;
  if (target.kind === 'at-least') return ferry >= target.value;
  if (target.kind === 'at-most') return ferry <= target.value;
  return ratio !== null && Number.isFinite(ratio) && ratio >= target.value;
}

/** Run a and b reps times in ABBA order, so slow drift of the machine hits both sides alike. */
export async function interleaved<T>(reps: number, a: () => Promise<T>, b: () => Promise<T>): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}
