// The admin key: FERRY_ADMIN_KEY when set, else generated once into <data>/admin.key (0600).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export function loadOrCreateAdminKey(dataDir: string, fromEnv: string | undefined): { key: string; created: boolean } {
  if (fromEnv) return { key: fromEnv, created: false };
  const file = path.join(dataDir, 'admin.key');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    return { key: fs.readFileSync(file, 'utf8').trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(24).toString('base64url');
  try {
    fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { key: fs.readFileSync(file, 'utf8').trim(), created: false };
    throw err;
  }
  return { key, created: true };
}
