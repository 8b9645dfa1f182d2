// The shapes every benchmark module shares. A group is what one issue asks for (core, media,
// scale-out); a comparison is one line of the final table, Ferry against a named peer measured
// in the same run, or Ferry alone against an absolute target where the issue names no peer.

export interface BenchOptions {
  /** repetitions per side; the table shows medians */
  reps: number;
  /** seconds per wrk run */
  durationS: number;
  /** wrk connections, the same for Ferry and its peer */
  connections: number;
  /** wrk threads, the same for Ferry and its peer */
  threads: number;
}

export interface BenchContext {
  opts: BenchOptions;
  /** a fresh folder under the OS temp dir, removed after the comparison */
  tmpDir: string;
  /** progress lines on stderr, so stdout keeps only the table */
  log(line: string): void;
  /** extra node flags for every Ferry the comparison starts (--cpu-prof when profiling) */
  ferryNodeArgs: string[];
}

/** ferry ≥ value × peer on a ratio oriented so that higher is better for Ferry */
export interface RatioTarget {
  kind: 'ratio-at-least';
  value: number;
}

/** Ferry's own figure must stay below value (RSS, refusal time…) */
export interface AbsoluteTarget {
  kind: 'below';
  value: number;
}

/** Ferry's own figure must reach value (a scaling factor…) */
export interface AtLeastTarget {
  kind: 'at-least';
  value: number;
}

/** Ferry's own figure must not exceed value (asks per member…) */
export interface AtMostTarget {
  kind: 'at-most';
  value: number;
}

export type Target = RatioTarget | AbsoluteTarget | AtLeastTarget | AtMostTarget;

export interface Figures {
  /** what is measured, e.g. "GET /file/upload/chat" */
  label: string;
  /** the figure the table shows: the median of the samples, or their maximum for peaks */
  value: number;
  stat: 'median' | 'max';
  samples: number[];
}

export interface Measured {
  status: 'measured';
  id: string;
  group: string;
  title: string;
  /** unit of the Ferry and peer figures, e.g. "req/s", "MB/s", "MB" */
  unit: string;
  /** higher: rates; lower: times and memory. Decides which way the ratio is taken. */
  better: 'higher' | 'lower';
  ferry: Figures;
  peer: (Figures & { name: string }) | null;
  /** Ferry's performance as a share of the peer's (≥ 1: Ferry is better); null without a peer */
  ratio: number | null;
  target: Target;
  pass: boolean;
  /** extra facts worth keeping: errors seen by wrk, settings, fairness caveats */
  notes: string[];
  details?: Record<string, unknown>;
  /** 1-minute load average when the comparison started and ended (filled in by run.ts) */
  load?: { before: number; after: number };
}

export interface Skipped {
  status: 'skipped' | 'failed';
  id: string;
  group: string;
  title: string;
  reason: string;
}

export type Outcome = Measured | Skipped;

/** A prerequisite: null when met, else a sentence saying what is missing and how to get it. */
export type Need = () => Promise<string | null> | string | null;

export interface Comparison {
  id: string;
  title: string;
  needs: Need[];
  run(ctx: BenchContext): Promise<Omit<Measured, 'status' | 'id' | 'group' | 'title' | 'ratio' | 'pass' | 'load'>>;
}

export interface Group {
  name: string;
  /** the issue that asks for these numbers */
  issue: string;
  /** checked once for the whole group: when one is missing, every comparison is skipped */
  needs: Need[];
  comparisons: Comparison[];
}
