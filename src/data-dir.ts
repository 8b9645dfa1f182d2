// The data folder holds the database (app secrets, signing keys), admin.key and every stored
// file: only Ferry's own user may enter it. Created 0700, and an existing folder (made by an
// older Ferry, or by hand) is tightened at every start.
import fs from 'node:fs';

export function secureDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}
