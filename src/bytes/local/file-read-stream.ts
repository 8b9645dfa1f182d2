// A big local object read as a stream. Node cannot sendfile, so every byte of a download is read
// into a buffer and written from it. fs.ReadStream allocates a new buffer for every read: for a
// 100 MiB file that is 200 fresh 512 KiB buffers, each one page-faulted in by the kernel and then
// left to the garbage collector. Piped into an HTTP response, this stream instead reads into two
// buffers and takes turns: it reads into one while the other is being written, and reads into a
// buffer again only once the response's write callback says the socket is done with it. Measured
// on the 100 MiB stream of `npm run bench -- core-stream`: about 1.2× the MiB/s of a ReadStream.
//
// Any other consumer (an fs write stream, a hash, `for await`) gets an ordinary stream with a
// fresh buffer per chunk: a writable may keep a chunk after its callback (a collector pushing
// chunks into an array does), and reusing that buffer would change bytes it already has.
import { ServerResponse } from 'node:http';
import type fsp from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { StorageError } from '../../storage-error.ts';

const CHUNK = 512 * 1024;

export class FileReadStream extends Readable {
  private readonly fh: fsp.FileHandle;
  /** next byte to read */
  private pos: number;
  /** last byte to read, inclusive */
  private readonly last: number;
  private readonly what: string;

  /** Bytes start..last (inclusive) of an open file, which this stream closes when it ends. */
  constructor(fh: fsp.FileHandle, start: number, last: number, what: string) {
    super({ highWaterMark: CHUNK });
    this.fh = fh;
    this.pos = start;
    this.last = last;
    this.what = what;
  }

  private remaining(): number {
    return this.last - this.pos + 1;
  }

  override _read(): void {
    const want = Math.min(CHUNK, this.remaining());
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafeSlow(want);
    this.readInto(buf, want).then(
      (n) => this.push(n === buf.length ? buf : buf.subarray(0, n)),
      (err: unknown) => this.destroy(err as Error),
    );
  }

  private async readInto(buf: Buffer, want: number): Promise<number> {
    const { bytesRead } = await this.fh.read(buf, 0, want, this.pos);
    // Objects never change, so a file shorter than its record is damage, not a race.
    if (bytesRead === 0) throw new StorageError(`${this.what} is shorter than its record says`);
    this.pos += bytesRead;
    return bytesRead;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // FileHandle.close waits for a read still in flight.
    this.fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, opts?: { end?: boolean }): T {
    // Only a response that nobody else is reading this stream for: its write callback means
    // the bytes have left for the socket (node:http passes the buffer down, it does not keep it).
    if (!(dest instanceof ServerResponse) || this.readableFlowing !== null || this.readableLength > 0) return super.pipe(dest, opts);
    this.pumpInto(dest).then(
      () => {
        if (opts?.end !== false) dest.end();
        // Finish as a piped stream would: 'end', then 'close' (which closes the file).
        this.push(null);
        this.resume();
      },
      (err: unknown) => this.destroy(err as Error),
    );
    return dest;
  }

  private async pumpInto(dest: Writable): Promise<void> {
    // A write that fails, or a response closed before its writes finish, settles the wait with
    // an error: never a rejection nobody is awaiting yet, never a wait that outlives the socket.
    let closed: (() => void) | null = null;
    const onClose = new Promise<Error>((resolve) => {
      closed = () => resolve(new Error('the response closed before the file was sent'));
      dest.once('close', closed);
    });
    const buffers = [Buffer.allocUnsafeSlow(Math.min(CHUNK, this.remaining())), null as Buffer | null];
    const writing: Array<Promise<Error | null> | null> = [null, null];
    try {
      for (let turn = 0; this.remaining() > 0; turn ^= 1) {
        const prev = writing[turn];
        if (prev !== null) {
          const err = await Promise.race([prev, onClose]);
          if (err) throw err;
        }
        if (this.destroyed) throw new Error('the download was stopped');
        const buf = (buffers[turn] ??= Buffer.allocUnsafeSlow(Math.min(CHUNK, this.remaining())));
        const n = await this.readInto(buf, Math.min(buf.length, this.remaining()));
        writing[turn] = new Promise<Error | null>((resolve) => {
          dest.write(n === buf.length ? buf : buf.subarray(0, n), (err) => resolve(err ?? null));
        });
      }
      for (const w of writing) {
        if (w === null) continue;
        const err = await Promise.race([w, onClose]);
        if (err) throw err;
      }
    } finally {
      dest.off('close', closed!);
    }
  }
}
