// Sits between the client's bytes and the store: counts them and stops the upload the moment
// it passes its limit, hashes them, and holds the first few KiB back until they prove the file
// is what its file_type says, so the store never receives a byte of a refused file.
import { Transform, type TransformCallback } from 'node:stream';
import { Codes, FerryError } from '../errors.ts';
import type { MediaKind } from '../file-types.ts';
import { SNIFF_BYTES, sniff } from './sniff.ts';
import { hashThreadHelps, inlineSha256, threadSha256, threadStreams, type Sha256 } from '../primitives/sha256-thread.ts';

/** Files of this size and up are hashed on the hashing thread, when the process has a core for it... */
export const HASH_THREAD_FROM_BYTES = 1024 * 1024;
/**
 * ...and at most this many at once: each holds a 1 MiB window, and one thread hashes at about
 * 2 GiB/s, more than the disk takes. Uploads beyond them hash in place, so 20 at once cost 4 MiB
 * of windows, not 20.
 */
export const HASH_THREAD_STREAMS = 4;
let threadHelps: boolean | undefined;

/**
 * The hash for an upload of about `bytes` (null: unknown). A big file hashes beside the event
 * loop; a small one costs less to hash in place than to hand over.
 */
export function uploadHash(bytes: number | null): Sha256 {
  threadHelps ??= hashThreadHelps();
  const big = bytes === null || bytes >= HASH_THREAD_FROM_BYTES;
  return threadHelps && big && threadStreams() < HASH_THREAD_STREAMS ? threadSha256() : inlineSha256();
}

export class UploadGuard extends Transform {
  bytes = 0;
  private head: Buffer[] = [];
  private headBytes = 0;
  private sniffedType: string | null = null;
  private resolveType!: (type: string) => void;
  private rejectType!: (err: Error) => void;
  /** Resolves with the sniffed content type once enough bytes have arrived. */
  readonly contentType: Promise<string>;

  constructor(
    private readonly kind: MediaKind,
    private readonly limit: number,
    private readonly hash: Sha256,
  ) {
    super({ highWaterMark: 256 * 1024 });
    this.contentType = new Promise((resolve, reject) => {
      this.resolveType = resolve;
      this.rejectType = reject;
    });
    // The promise is awaited by the pipeline; an error before anyone awaits must not crash.
    this.contentType.catch(() => {});
    this.once('error', (err) => this.rejectType(err));
    this.once('close', () => this.rejectType(new FerryError(Codes.UPLOAD_ABORTED, 'upload was interrupted')));
  }

  /** The SHA-256 of the file; call once, after the last byte. */
  digest(): Promise<string> {
    return this.hash.digest();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(new FerryError(Codes.TOO_LARGE, `file is larger than the ${this.limit} bytes allowed for this file_type`));
      return;
    }
    // A hash on the hashing thread asks to wait while its window is full: the next chunk is
    // taken only then, so the bytes being hashed stay bounded per upload.
    const hashing = this.hash.update(chunk);
    if (hashing === undefined) this.pass(chunk, done);
    else hashing.then(() => this.pass(chunk, done), done);
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    // Finished without error, the digest is still to be read; otherwise it never will be.
    if (err !== null || !this.writableFinished) this.hash.drop();
    done(err);
  }

  private pass(chunk: Buffer, done: TransformCallback): void {
    if (this.sniffedType !== null) {
      done(null, chunk);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < SNIFF_BYTES) {
      done();
      return;
    }
    this.decide().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.sniffedType !== null) {
      done();
      return;
    }
    if (this.bytes === 0) {
      done(new FerryError(Codes.NO_FILE_PART, 'the file is empty'));
      return;
    }
    this.decide().then(() => done(), done);
  }

  private async decide(): Promise<void> {
    const head = Buffer.concat(this.head);
    const verdict = await sniff(this.kind, head.subarray(0, SNIFF_BYTES));
    if (!verdict.ok) throw new FerryError(Codes.WRONG_TYPE, `file content does not match its file_type: expected ${verdict.expected}`);
    this.sniffedType = verdict.contentType;
    this.head = [];
    this.push(head);
    this.resolveType(verdict.contentType);
  }
}
