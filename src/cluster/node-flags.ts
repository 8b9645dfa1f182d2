// The Node.js flags a serving Ferry process runs with: `npm start` passes them (package.json),
// and the primary gives them to its workers (FERRY_WORKERS > 1). A test checks the two agree.
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
