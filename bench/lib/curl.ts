// Uploads with curl, from a file on disk: the client must be cheap and outside the measured
// process, so neither Ferry's RSS nor the harness's event loop pays for sending the bytes.
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import { run, type Pin } from './proc.ts';

export interface CurlResult {
  status: number;
  body: string;
  /** curl's own wall time from start to the last byte of the answer */
  seconds: number;
  bytesSent: number;
}

const MARK = '\n--curl-stats--';

/**
 * Raw PUT of `file` (Android's upload; nginx WebDAV's only upload). "Expect:" is switched off
 * for both sides alike, so neither pays a 100-continue round trip.
 */
export async function curlPut(url: string, file: string, pin: Pin = 'client'): Promise<CurlResult> {
  const res = await run(
    'curl',
    ['-sS', '-T', file, '-H', 'Content-Type: application/octet-stream', '-H', 'Expect:', '-w', `${MARK}%{http_code} %{time_total} %{size_upload}`, url],
    { timeoutMs: 600_000, pin },
  );
  const at = res.stdout.lastIndexOf(MARK);
  if (res.code !== 0 || at < 0) throw new Error(`curl PUT ${url} failed (${res.code}): ${res.stderr.trim() || res.stdout.slice(0, 300)}`);
  const [status, seconds, sent] = res.stdout.slice(at + MARK.length).trim().split(' ').map(Number);
  return { status: status!, seconds: seconds!, bytesSent: sent!, body: res.stdout.slice(0, at) };
}

/** A file of random bytes (incompressible, no magic number) written in 1 MiB chunks. */
export function makeRandomFile(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    const chunk = Buffer.alloc(1024 * 1024);
    for (let left = bytes; left > 0; left -= chunk.length) fs.writeSync(fd, randomFillSync(chunk), 0, Math.min(left, chunk.length));
  } finally {
    fs.closeSync(fd);
  }
}

/** A GET whose body goes to /dev/null: bytes received and curl's wall time. */
export async function curlGet(url: string): Promise<{ status: number; seconds: number; bytes: number }> {
  const res = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total} %{size_download}', url], { timeoutMs: 600_000, pin: 'client' });
  if (res.code !== 0) throw new Error(`curl GET ${url} failed (${res.code}): ${res.stderr.trim()}`);
  const [status, seconds, bytes] = res.stdout.trim().split(' ').map(Number);
  return { status: status!, seconds: seconds!, bytes: bytes! };
}
