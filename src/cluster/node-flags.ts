// The Node.js flags (and the one environment setting) a serving Ferry process runs with:
// `npm start` passes them (package.json), and the primary gives them to its workers
// (FERRY_WORKERS > 1). A test checks the two agree.
//
// --max-semi-space-size=16: each of the young generation's two semi-spaces may grow to 16 MB.
// That is V8's own default on 64-bit Node 20; it is set so the figures below hold on a Node that
// sizes it otherwise. Every small request allocates (a 16 KiB download about 22 KB) and every
// scavenge copies what the ~50 requests in flight still hold, so how often it runs is what
// costs: at 40k downloads a second a 3 MB semi-space fills every 3-4 ms. Measured in alternating
// pinned runs (2026-11-30, each pair of sizes in both start orders): 3 → 8 MB, 16 KiB downloads
// +8%, the 302 +9%, slots +2.5%; 8 → 16 MB, downloads +3.4%, slots +4.2%, blob URLs +0.6%.
// Memory: 20 concurrent 100 MiB uploads (bench core-upload-rss, bound 200 MB) peaked at
// 149-198 MB over 20 rounds at 16 MB, the highest in a round whose disk was slow (146-160 MB
// over 6 at 3 MB), the build then loading TypeBox and Kysely compiled in (scripts/build.mjs).
// Until then this was 3 MB, which kept those peaks under 200 MB (157-203 against 188-219) when
// the process held 14 MB more at rest.
export const SERVING_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

/** the flag's name: "--max-semi-space-size" of "--max-semi-space-size=16" */
const nameOf = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-');

/**
 * A worker's flags: the primary's own (the operator's), plus each serving flag the operator did
 * not set, on the command line or in NODE_OPTIONS. The operator's choice wins.
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)].map(nameOf));
  return [...execArgv, ...SERVING_NODE_FLAGS.filter((f) => !given.has(nameOf(f)))];
}

/**
 * MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (libuv's file-system threads,
 * V8's GC helpers) an arena of its own, up to 8 per core, and keeps what each one held. Read
 * when the process starts, so it is set in the environment, not by Node. Measured on 20
 * concurrent 100 MiB uploads, 12 rounds each way in alternating runs: peaks of 153–184 MB with
 * 2 arenas against 155–202 MB by default (3 rounds of 12 at 195 MB or more, the rounds the disk
 * was slow in). Streamed 16 KiB downloads: 27.2k against 27.5k req/s (3 pairs), no difference.
 */
export const SERVING_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** What a worker's environment adds: each serving setting the operator did not set. The operator's wins. */
export function workerEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(SERVING_ENV).filter(([k]) => env[k] === undefined || env[k] === ''));
}
