// The data folder holds the database (app secrets, signing keys), admin.key and every stored
// file: only Ferry's own user may enter it. Created 0700, and an existing folder (made by an
// older Ferry, or by hand) is tightened at every start.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The data folder when FERRY_DATA_DIR is unset: `data` in the project folder (the one holding
 * package.json), wherever the command runs from, so `npm start` and `npx ferry` run from any
 * folder find the same database.
 */
export function defaultDataDir(): string {
  // src/data-dir.ts, or a chunk in dist/: the first folder above with a package.json.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'data');
    const up = path.dirname(dir);
    if (up === dir) return path.resolve('data');
    dir = up;
  }
}

export function secureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}
