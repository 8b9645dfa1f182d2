// The Node.js flags a serving Ferry process runs with: `npm start` passes them (package.json),
// and the primary gives them to its workers (FERRY_WORKERS > 1). A test checks the two agree.
//
// --max-semi-space-size=2: V8's young generation is two semi-spaces of up to 16 MB each by
// default, which a busy process fills and keeps. Measured on 20 concurrent 100 MiB uploads
// (bench core-upload-rss; the bound is 200 MB): peaks of 161–185 MB over 9 rounds at 2 MB,
// 166–203 MB over 12 at 3 MB, 188–219 MB by default. The price: slots per second ~7% lower at
// 2 MB (more objects outlive a small young generation and cost more to collect later), within
// noise at 3 MB. A memory bound an operator can size a machine by is worth more than that.
export const SERVING_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** the flag's name: "--max-semi-space-size" of "--max-semi-space-size=2" */
const nameOf = (flag: string) => flag.split('=')[0]!.replace(/_/g, '-');

/**
 * A worker's flags: the primary's own (the operator's), plus each serving flag the operator did
 * not set, on the command line or in NODE_OPTIONS. The operator's choice wins.
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)].map(nameOf));
  return [...execArgv, ...SERVING_NODE_FLAGS.filter((f) => !given.has(nameOf(f)))];
}
