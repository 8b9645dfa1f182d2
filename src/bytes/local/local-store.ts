// The embedded column: objects are files under <data>/objects. Uploads are written to
// <data>/objects/.tmp first and renamed into place after fsync, so a reader never sees half a
// file and a crash leaves only tmp files, which init() sweeps. The staging folder sits inside
// objects/ so that objects/ may be a file system of its own (a rename cannot cross one); no key
// starts with a dot, so it never collides with an object. Everything is owner-only (0700/0600).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { ByteRange, ByteStore, ObjectInfo, StagedObject } from '../byte-store.ts';
import { ObjectNotFoundError, StorageError } from '../byte-store.ts';
import { diskStorageError } from '../../storage-error.ts';
import { FileReadStream } from './file-read-stream.ts';

const SAFE_KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
/** reads of this many bytes or more go through FileReadStream's 512 KiB chunks */
const BIG_READ = 1024 * 1024;

export class LocalByteStore implements ByteStore {
  private readonly objects: string;
  private readonly tmp: string;
  /** where older versions staged uploads; swept like tmp */
  private readonly oldTmp: string;

  private readonly sweep: boolean;

  /** sweep: empty the staging folders at init (false: other processes may be writing there) */
  constructor(dataDir: string, opts: { sweep?: boolean } = {}) {
    this.sweep = opts.sweep ?? true;
    this.objects = path.join(dataDir, 'objects');
    this.tmp = path.join(this.objects, '.tmp');
    this.oldTmp = path.join(dataDir, 'tmp');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.objects, { recursive: true, mode: 0o700 });
    if (this.sweep) {
      // Anything in tmp belongs to an upload that never finished: this process is the only
      // writer (or the primary of workers that have not started yet).
      await fsp.rm(this.tmp, { recursive: true, force: true });
      await fsp.rm(this.oldTmp, { recursive: true, force: true });
    }
    await fsp.mkdir(this.tmp, { recursive: true, mode: 0o700 });
  }

  private pathOf(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`unsafe object key ${key}`);
    return path.join(this.objects, key);
  }

  async stage(key: string, source: Readable): Promise<StagedObject> {
    const final = this.pathOf(key);
    const tmp = path.join(this.tmp, randomBytes(12).toString('hex'));
    // 256 KiB writes: few syscalls for big files without holding much memory per upload.
    // flush: fsync before close, so an acknowledged upload survives a power cut.
    // mode: stored files are readable by Ferry's user only.
    const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: 256 * 1024 });
    try {
      flushAsItArrives(source, out);
      await pipeline(source, out);
    } catch (err) {
      // A source that fails early can do so before the file is even open: the stream opens (and
      // creates the file) afterwards, so removing it before the stream has closed would leave it.
      if (!out.closed) {
        out.destroy();
        await new Promise<void>((resolve) => out.once('close', () => resolve()));
      }
      await fsp.rm(tmp, { force: true });
      throw diskStorageError(err, `writing an upload into ${this.tmp}`) ?? err;
    }
    return {
      commit: async () => {
        try {
          const dir = path.dirname(final);
          // A new shard folder is an entry in its parent: it too must reach the disk.
          const created = await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
          if (created !== undefined) {
            for (let d = path.dirname(dir); ; d = path.dirname(d)) {
              await fsyncDir(d);
              if (d === path.dirname(created) || d === this.objects) break;
            }
          }
          await fsp.rename(tmp, final);
          // The rename is only durable once the folder holding the new name is synced: without
          // this, an acknowledged upload could vanish in a power cut.
          await fsyncDir(dir);
        } catch (err) {
          await fsp.rm(tmp, { force: true });
          throw diskStorageError(err, `moving an upload into ${this.objects}`) ?? new StorageError(`could not move upload into place: ${(err as Error).message}`, { cause: err });
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
      throw diskStorageError(err, `reading ${key} in ${this.objects}`) ?? new StorageError((err as Error).message, { cause: err });
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const fh = await this.open(key);
    // Node cannot sendfile, so a big download is as fast as its reads are few and cheap: 512 KiB
    // reads into reused buffers (file-read-stream.ts) stream a 100 MiB file ~2× faster than
    // 64 KiB ones. Small ones keep small reads, so a download never holds much more than it
    // sends (objects never change: their size is final).
    let length = range ? range.end - range.start + 1 : undefined;
    if (length === undefined) {
      try {
        length = (await fh.stat()).size;
      } catch (err) {
        await fh.close();
        throw diskStorageError(err, `reading ${key} in ${this.objects}`) ?? new StorageError((err as Error).message, { cause: err });
      }
    }
    if (length >= BIG_READ) return new FileReadStream(fh, range?.start ?? 0, range?.end ?? length - 1, key);
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

  async ping(): Promise<void> {
    for (const dir of [this.objects, this.tmp]) {
      let st: fs.Stats;
      try {
        st = await fsp.stat(dir);
      } catch (err) {
        throw diskStorageError(err, `the objects folder ${dir}`) ?? new StorageError(`the objects folder ${dir} is gone (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err, kind: 'unavailable' });
      }
      if (!st.isDirectory()) throw new StorageError(`${dir} is not a folder`, { kind: 'unavailable' });
    }
  }

  async close(): Promise<void> {}
}

/**
 * Bytes written but not yet on disk are what the final fsync waits for. Syncing every few MiB
 * while the upload still streams lets the disk write the file as it arrives, so the answer
 * waits for the last few MiB only, not for the whole file (measured: a 256 MiB PUT about 1.3–2×
 * faster, same durability). At most one such sync runs at a time. Its failure fails the upload:
 * the kernel reports a write-back error once per open file, so the final fsync might not see it.
 */
const FLUSH_EVERY_BYTES = 4 * 1024 * 1024;

function flushAsItArrives(source: Readable, out: fs.WriteStream): void {
  let unsynced = 0;
  let syncing = false;
  const onData = (chunk: Buffer) => {
    unsynced += chunk.length;
    // The stream's fd: a number once the file is open, until the stream closes it.
    const fd = (out as unknown as { fd: number | null }).fd;
    if (unsynced < FLUSH_EVERY_BYTES || syncing || out.destroyed || typeof fd !== 'number') return;
    unsynced = 0;
    syncing = true;
    fs.fdatasync(fd, (err) => {
      syncing = false;
      if (err && !out.destroyed) out.destroy(err);
    });
  };
  source.on('data', onData);
  // No sync starts once the stream is finishing: its own fsync comes next, then the close.
  out.once('finish', () => source.off('data', onData));
  out.once('close', () => source.off('data', onData));
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
