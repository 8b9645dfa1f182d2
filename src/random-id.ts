// Random, URL-safe ids for files and slots. Asking the CSPRNG for 16 bytes at a time costs more
// than the rest of handing out a slot, so bytes are drawn from a pool filled 4 KiB at a time.
// Every byte is used once.
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

export function randomId(bytes: number): string {
  if (bytes > POOL_SIZE) throw new RangeError('randomId is for short ids');
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + bytes);
  offset += bytes;
  return id;
}
