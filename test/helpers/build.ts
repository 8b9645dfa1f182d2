// The `ferry` command line runs from the build in dist/ (bin/ferry.mjs imports dist/cli.js), so
// tests that run it build first: they exercise what the sources say now, never a stale dist/.
// esbuild takes well under a second; scripts/build.mjs swaps the new dist/ in whole.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** bin/ferry.mjs, the file `npx ferry` runs */
export const FERRY_BIN = fileURLToPath(new URL('../../bin/ferry.mjs', import.meta.url));

let built = false;
/** Builds dist/ (server and CLI) once per test process. */
export function buildDist(): void {
  if (built) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}
