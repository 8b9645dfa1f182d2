// The embedded column: objects are files under <data>/objects. Uploads are written to
// <data>/tmp first and renamed into place after fsync, so a reader never sees half a file and
// a crash leaves only tmp files, which init() sweeps.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { ByteRange, ByteStore, ObjectInfo, StagedObject } from '../byte-store.ts';
import { ObjectNotFoundError, StorageError } from '../byte-store.ts';

const SAFE_KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export class LocalByteStore implements ByteStore {
  private readonly objects: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.objects = path.join(dataDir, 'objects');
    this.tmp = path.join(dataDir, 'tmp');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.objects, { recursive: true });
    // Anything in tmp belongs to an upload that never finished: this process is the only writer.
    await fsp.rm(this.tmp, { recursive: true, force: true });
    await fsp.mkdir(this.tmp, { recursive: true });
  }

  private pathOf(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`unsafe object key ${key}`);
    return path.join(this.objects, key);
  }

  async stage(key: string, source: Readable): Promise<StagedObject> {
    const final = this.pathOf(key);
    const tmp = path.join(this.tmp, randomBytes(12).toString('hex'));
    try {
      // 256 KiB writes: few syscalls for big files without holding much memory per upload.
      // flush: fsync before close, so an acknowledged upload survives a power cut.
      await pipeline(source, fs.createWriteStream(tmp, { flags: 'wx', flush: true, highWaterMark: 256 * 1024 }));
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw isDiskError(err) ? new StorageError(`disk write failed: ${(err as Error).message}`) : err;
    }
    return {
      commit: async () => {
        try {
          await fsp.mkdir(path.dirname(final), { recursive: true });
          await fsp.rename(tmp, final);
        } catch (err) {
          await fsp.rm(tmp, { force: true });
          throw new StorageError(`could not move upload into place: ${(err as Error).message}`);
        }
      },
      discard: () => fsp.rm(tmp, { force: true }),
    };
  }

  private async open(key: string): Promise<fsp.FileHandle> {
    try {
      return await fsp.open(this.pathOf(key), fs.constants.O_RDONLY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw new StorageError((err as Error).message);
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const fh = await this.open(key);
    return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 64 * 1024 });
  }

  async readSmall(key: string, range: ByteRange): Promise<Buffer> {
    const fh = await this.open(key);
    try {
      const want = range.end - range.start + 1;
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, range.start + got);
        if (bytesRead === 0) throw new StorageError(`${key} is shorter than its record says`);
        got += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const st = await fsp.stat(this.pathOf(key));
      return { size: st.size, contentType: null };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StorageError((err as Error).message);
    }
  }

  /** imgproxy reads local:///KEY with IMGPROXY_LOCAL_FILESYSTEM_ROOT set to the objects folder. */
  locator(key: string): string {
    return `local:///${key}`;
  }

  async delete(key: string): Promise<void> {
    await fsp.rm(this.pathOf(key), { force: true });
  }

  async close(): Promise<void> {}
}

function isDiskError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES';
}
