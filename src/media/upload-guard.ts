// Sits between the client's bytes and the store: counts them and stops the upload the moment
// it passes its limit, hashes them, and holds the first few KiB back until they prove the file
// is what its file_type says, so the store never receives a byte of a refused file.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Codes, FerryError } from '../errors.ts';
import type { MediaKind } from '../file-types.ts';
import { SNIFF_BYTES, sniff } from './sniff.ts';

export class UploadGuard extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
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

  /** Call once, after the last byte. */
  digest(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(new FerryError(Codes.TOO_LARGE, `file is larger than the ${this.limit} bytes allowed for this file_type`));
      return;
    }
    this.hash.update(chunk);
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
