// The Node.js flags (and the one environment setting) a serving Ferry process runs with:
// `npm start` passes them (package.json), and the primary gives them to its workers
// (FERRY_WORKERS > 1). A test checks the two agree.
//
// --max-semi-space-size=3: V8's young generation is two semi-spaces of up to 16 MB each by
// default, which a busy process fills and keeps. Measured on 20 concurrent 100 MiB uploads
// (bench core-upload-rss; the bound is 200 MB): peaks of 157–203 MB over 15 rounds at 3 MB (one
// round above 200), 188–219 MB by default. The price, in alternating runs: streamed 16 KiB
// downloads ~3% fewer per second (19.8k against 20.4k), slots unchanged within noise. 2 MB
// gave 161–192 MB but cost 10–15% of small requests once a process had run a while: more
// objects outlive a young generation that small, and the old one collects them at greater cost.
export const SERVING_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=3'];

/** the flag's name: "--max-semi-space-size" of "--max-semi-space-size=3" */
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
